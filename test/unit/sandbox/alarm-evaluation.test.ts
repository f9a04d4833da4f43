import test from 'ava';
import {
  evaluateAlarm,
  formatNumber,
  formatReasonDate,
  type AlarmRule,
  type Datapoint,
} from '../../../src/sandbox/alarm-evaluation';

// Periods of one minute ending at 10:05 on 1 Dec 2026: [10:00, 10:01, 10:02, 10:03, 10:04].
const end = Date.UTC(2026, 11, 1, 10, 5, 0);
const minute = 60_000;
const at = (minutesBeforeEnd: number): number => end - minutesBeforeEnd * minute;
const point = (minutesBeforeEnd: number, value: number, sampleCount = 1): Datapoint => ({
  timestamp: at(minutesBeforeEnd),
  value,
  sampleCount,
});
const rule = (overrides: Partial<AlarmRule> = {}): AlarmRule => ({
  comparisonOperator: 'GreaterThanThreshold',
  threshold: 5,
  evaluationPeriods: 1,
  statistic: 'Sum',
  periodSeconds: 60,
  ...overrides,
});
const range = (count: number) => ({ end, periodMs: minute, count });

test('numbers and dates are written as CloudWatch writes them', (t) => {
  t.is(formatNumber(12), '12.0');
  t.is(formatNumber(0.5), '0.5');
  t.is(formatReasonDate(Date.UTC(2026, 11, 1, 10, 0, 0)), '01/12/26 10:00:00');
});

test('1 of 1 over the threshold: ALARM, with the reason in AWS wording', (t) => {
  const verdict = evaluateAlarm(rule(), [point(1, 12, 3)], range(2), 'OK', end + 1234);
  t.like(verdict, {
    state: 'ALARM',
    reason:
      'Threshold Crossed: 1 out of the last 1 datapoints [12.0 (01/12/26 10:04:00)] was greater than the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition).',
  });
  if (verdict.state === 'retain') return t.fail();
  const data = JSON.parse(verdict.reasonData) as Record<string, unknown>;
  t.like(data, {
    version: '1.0',
    statistic: 'Sum',
    period: 60,
    threshold: 5,
    recentDatapoints: [12],
    startDate: '2026-12-01T10:04:00.000+0000',
  });
  t.deepEqual(data.evaluatedDatapoints, [{ timestamp: '2026-12-01T10:04:00.000+0000', sampleCount: 3, value: 12 }]);
});

test('back under the threshold: OK, naming the datapoints that are not over it', (t) => {
  const verdict = evaluateAlarm(rule(), [point(1, 2)], range(2), 'ALARM', end);
  t.like(verdict, {
    state: 'OK',
    reason:
      'Threshold Crossed: 1 out of the last 1 datapoints [2.0 (01/12/26 10:04:00)] was not greater than the threshold (5.0) (minimum 1 datapoint for ALARM -> OK transition).',
  });
});

test('every comparison operator, at and around the threshold', (t) => {
  const state = (comparisonOperator: AlarmRule['comparisonOperator'], value: number) =>
    evaluateAlarm(rule({ comparisonOperator }), [point(1, value)], range(2), 'OK', end).state;
  t.is(state('GreaterThanThreshold', 5), 'OK');
  t.is(state('GreaterThanOrEqualToThreshold', 5), 'ALARM');
  t.is(state('LessThanThreshold', 5), 'OK');
  t.is(state('LessThanThreshold', 4.9), 'ALARM');
  t.is(state('LessThanOrEqualToThreshold', 5), 'ALARM');
  const verdict = evaluateAlarm(
    rule({ comparisonOperator: 'LessThanOrEqualToThreshold' }),
    [point(1, 5)],
    range(2),
    'OK',
    end,
  );
  t.regex(verdict.state === 'retain' ? '' : verdict.reason, /was less than or equal to the threshold \(5\.0\)/);
});

test('M out of N: 2 of 3 breaching alarms, 1 of 3 does not; the most recent N real datapoints count', (t) => {
  const twoOfThree = rule({ evaluationPeriods: 3, datapointsToAlarm: 2 });
  const alarm = evaluateAlarm(twoOfThree, [point(1, 9), point(2, 1), point(3, 8)], range(6), 'OK', end);
  t.like(alarm, {
    state: 'ALARM',
    reason:
      'Threshold Crossed: 2 out of the last 3 datapoints [9.0 (01/12/26 10:04:00), 8.0 (01/12/26 10:02:00)] were greater than the threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition).',
  });
  t.is(evaluateAlarm(twoOfThree, [point(1, 9), point(2, 1), point(3, 1)], range(6), 'OK', end).state, 'OK');
  // Older breaching datapoints beyond the N most recent real ones do not count.
  t.is(
    evaluateAlarm(twoOfThree, [point(1, 1), point(2, 1), point(3, 1), point(4, 9), point(5, 9)], range(6), 'ALARM', end)
      .state,
    'OK',
  );
  // DatapointsToAlarm defaults to EvaluationPeriods: 2 of 3 breaching is not enough.
  t.is(
    evaluateAlarm(rule({ evaluationPeriods: 3 }), [point(1, 9), point(2, 9), point(3, 1)], range(6), 'OK', end).state,
    'OK',
  );
  // ALARM -> OK needs N - M + 1 datapoints not breaching.
  const ok = evaluateAlarm(twoOfThree, [point(1, 1), point(2, 1), point(3, 9)], range(6), 'ALARM', end);
  t.like(ok, { state: 'OK' });
  t.regex(
    (ok as { reason: string }).reason,
    /^Threshold Crossed: 2 out of the last 3 datapoints \[1\.0 .*, 1\.0 .*\] were not greater than the threshold \(5\.0\) \(minimum 2 datapoints for ALARM -> OK transition\)\.$/,
  );
});

test('with enough real datapoints in the evaluation range, missing periods do not matter', (t) => {
  const r = rule({ evaluationPeriods: 2, treatMissingData: 'breaching' });
  // Periods 10:04 and 10:02 real (10:03 missing): both real ones are evaluated, the gap is not filled.
  t.is(evaluateAlarm(r, [point(1, 1), point(3, 1)], range(4), 'OK', end).state, 'OK');
});

test('TreatMissingData: missing, notBreaching, breaching, ignore', (t) => {
  const none: Datapoint[] = [];
  t.like(evaluateAlarm(rule(), none, range(2), 'OK', end), {
    state: 'INSUFFICIENT_DATA',
    reason: 'Insufficient Data: 1 datapoint was unknown.',
  });
  t.like(evaluateAlarm(rule({ evaluationPeriods: 3 }), none, range(6), 'OK', end), {
    state: 'INSUFFICIENT_DATA',
    reason: 'Insufficient Data: 3 datapoints were unknown.',
  });
  t.like(evaluateAlarm(rule({ treatMissingData: 'notBreaching' }), none, range(2), 'ALARM', end), {
    state: 'OK',
    reason:
      'Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].',
  });
  t.like(evaluateAlarm(rule({ treatMissingData: 'breaching', evaluationPeriods: 2 }), none, range(4), 'OK', end), {
    state: 'ALARM',
    reason:
      'Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching].',
  });
  t.deepEqual(evaluateAlarm(rule({ treatMissingData: 'ignore' }), none, range(2), 'ALARM', end), { state: 'retain' });
  // Partial data, `missing`: the real datapoints decide.
  t.is(
    evaluateAlarm(rule({ evaluationPeriods: 3, datapointsToAlarm: 1 }), [point(1, 9)], range(6), 'OK', end).state,
    'ALARM',
  );
  t.is(
    evaluateAlarm(rule({ evaluationPeriods: 3, datapointsToAlarm: 1 }), [point(1, 1)], range(6), 'ALARM', end).state,
    'OK',
  );
  // Partial data, `breaching`: 1 real breaching + 1 fill = 2 of 3.
  const filled = evaluateAlarm(
    rule({ evaluationPeriods: 3, datapointsToAlarm: 2, treatMissingData: 'breaching' }),
    [point(1, 9), point(2, 1)],
    range(6),
    'OK',
    end,
  );
  t.like(filled, { state: 'ALARM' });
  t.regex(
    (filled as { reason: string }).reason,
    /2 out of the last 3 datapoints \[9\.0 \(01\/12\/26 10:04:00\)\] were greater than the threshold \(5\.0\) \(1 missing datapoint treated as \[Breaching\]\)/,
  );
  // Partial data, `notBreaching`: fills keep it OK.
  t.is(
    evaluateAlarm(
      rule({ evaluationPeriods: 3, datapointsToAlarm: 2, treatMissingData: 'notBreaching' }),
      [point(1, 9)],
      range(6),
      'OK',
      end,
    ).state,
    'OK',
  );
});

test('datapoints outside the range (the period in progress, or too old) are not evaluated', (t) => {
  t.is(evaluateAlarm(rule(), [{ timestamp: end, value: 99 }], range(2), 'OK', end).state, 'INSUFFICIENT_DATA');
  t.is(evaluateAlarm(rule(), [point(3, 99)], range(2), 'OK', end).state, 'INSUFFICIENT_DATA');
});
