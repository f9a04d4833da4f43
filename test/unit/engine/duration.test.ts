import test from 'ava';
import { parseDuration } from '../../../src/core/duration';
import { InputError } from '../../../src/core/errors';

test('durations: seconds as numbers or strings, or with s/m/h units, combined', (t) => {
  for (const [given, seconds] of [
    [0, 0],
    [90, 90],
    [1.5, 1.5],
    ['90', 90],
    [' 90 ', 90],
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['1h30m', 5400],
    ['2m30s', 150],
    ['0.5m', 30],
  ] as const) {
    t.is(parseDuration('scaleDownDelay', given), seconds, JSON.stringify(given));
  }
});

test('anything else is bad input naming the field, without echoing more than the value', (t) => {
  for (const bad of [
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '',
    '  ',
    '-5',
    '5d',
    '1h 30m',
    'm',
    '15 minutes',
    null,
    true,
    {},
    [],
  ]) {
    const error = t.throws(() => parseDuration('drainTimeout', bad), { instanceOf: InputError }, JSON.stringify(bad));
    t.is(error?.field, 'drainTimeout');
  }
});
