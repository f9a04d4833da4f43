import test from 'ava';
import { scaleDownTime, scheduledStartTime } from '../../../src/deploy/scheduled-scale-down';

test('a group out of traffic goes to 0 once drained and past its warm window, whichever is later', (t) => {
  t.is(scaleDownTime({ deregisteredAt: 1_000, drainMs: 30_000, warmMs: 0 }), 31_000, 'the drain');
  t.is(scaleDownTime({ deregisteredAt: 1_000, drainMs: 30_000, warmMs: 1_800_000 }), 1_801_000, 'the warm window');
  t.is(scaleDownTime({ deregisteredAt: 1_000, drainMs: 0, warmMs: 0 }), 1_000, 'drained already: now');
});

test('the StartTime put is in whole seconds and never in the past nor too near (AWS wants a future time)', (t) => {
  const now = Date.parse('2026-12-06T19:00:00.300Z');
  t.is(scheduledStartTime(now + 30_000, now).toISOString(), '2026-12-06T19:00:31.000Z');
  t.is(scheduledStartTime(now - 1_000, now).toISOString(), '2026-12-06T19:00:06.000Z', 'due already: 5 s ahead');
});
