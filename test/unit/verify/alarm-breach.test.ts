import test from 'ava';
import { alarmSettleSeconds } from '../../../src/verify/alarms';
import { alarmBreach } from '../../../src/verify/watch';

const since = Date.parse('2026-12-01T10:00:00Z');
const at = (seconds: number) => since + seconds * 1000;
const iso = (seconds: number) => new Date(at(seconds)).toISOString();
const alarm = (state: string, changedAt: number) => ({ name: 'web-5xx', state, since: iso(changedAt), reason: 'x' });

test('an alarm not in ALARM at the start counts as soon as it is', (t) => {
  const breach = alarmBreach([alarm('ALARM', 5)], [alarm('OK', -100)], since, at(6));
  t.regex(breach?.why ?? '', /^alarm web-5xx in ALARM since .*: x$/);
  t.is(alarmBreach([alarm('OK', 5)], [alarm('OK', -100)], since, at(6)), undefined);
});

test('deploy (no settle window): one in ALARM at the start counts only once it fires anew', (t) => {
  const atStart = [alarm('ALARM', -30)];
  t.is(alarmBreach([alarm('ALARM', -30)], atStart, since, at(3600)), undefined);
  t.truthy(alarmBreach([alarm('ALARM', 20)], atStart, since, at(21)), 'went OK and back to ALARM after the cutover');
});

test('rollback: one in ALARM at the start counts once it fires anew, or once it outlasts its settle window', (t) => {
  const atStart = [alarm('ALARM', -30)];
  const settle = { 'web-5xx': 240_000 };
  t.is(alarmBreach([alarm('ALARM', -30)], atStart, since, at(239), settle), undefined, 'still the old data');
  const late = alarmBreach([alarm('ALARM', -30)], atStart, since, at(240), settle);
  t.regex(late?.why ?? '', /^alarm web-5xx still in ALARM 240s after the cutover \(past its evaluation window of 240s/);
  t.truthy(alarmBreach([alarm('ALARM', 100)], atStart, since, at(101), settle), 'fired anew inside the window');
  t.is(alarmBreach([alarm('OK', 100)], atStart, since, at(300), settle), undefined, 'cleared on the restored group');
});

test('settle window: period × (2 × EvaluationPeriods + 2); none for a composite alarm', (t) => {
  t.is(alarmSettleSeconds({ periodSeconds: 60, evaluationPeriods: 1 }), 240);
  t.is(alarmSettleSeconds({ periodSeconds: 300, evaluationPeriods: 3 }), 2400);
  t.is(alarmSettleSeconds({}), undefined);
});
