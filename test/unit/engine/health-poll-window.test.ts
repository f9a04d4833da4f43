import test from 'ava';
import { healthPollDelayMs, healthPollWindow } from '../../../src/core/poll';

// The fast window around the moment health can first be due (issue #20): 250 ms polls from the
// earliest due time until one health check interval after the latest, then the fast period.

test('inside the fast window the poll period is the burst period, whatever the backoff', (t) => {
  const window = { dueAt: 30_000, untilMs: 41_000, periodMs: 250 };
  t.is(healthPollDelayMs({ now: 30_000, dueAt: 30_000, backoffMs: 10_000, fastMs: 2_500, window }), 250);
  t.is(healthPollDelayMs({ now: 40_999, dueAt: 30_000, backoffMs: 10_000, fastMs: 2_500, window }), 250);
  t.is(
    healthPollDelayMs({ now: 41_000, dueAt: 30_000, backoffMs: 10_000, fastMs: 2_500, window }),
    2_500,
    'after the window: back to the fast period',
  );
  t.is(
    healthPollDelayMs({ now: 20_000, dueAt: 30_000, backoffMs: 10_000, fastMs: 2_500, window }),
    10_000,
    'before it: still no poll before health can be due',
  );
});

test('the window spans one interval past the latest due time; its period keeps one target group within the budget', (t) => {
  // Registered between the poll at 1_000 and the poll at 2_000; verdict due 30 s after; checks every 10 s.
  t.deepEqual(
    healthPollWindow({
      previousPollAt: 1_000,
      polledAt: 2_000,
      dueAfterMs: 30_000,
      intervalMs: 10_000,
      targetGroups: 1,
    }),
    { dueAt: 31_000, untilMs: 42_000, periodMs: 250 },
  );
  // Two target groups: one DescribeTargetHealth each per poll, so polls half as often (same calls per second).
  t.is(
    healthPollWindow({ previousPollAt: 0, polledAt: 0, dueAfterMs: 30_000, intervalMs: 10_000, targetGroups: 2 })
      .periodMs,
    500,
  );
});

test("a window that starts after the first due time (the healthy verdict, later than a broken build's): fast period until it, woken at its start", (t) => {
  const window = { dueAt: 30_000, untilMs: 41_000, periodMs: 250 };
  t.is(healthPollDelayMs({ now: 20_000, dueAt: 20_000, backoffMs: 10_000, fastMs: 2_500, window }), 2_500);
  t.is(healthPollDelayMs({ now: 29_000, dueAt: 20_000, backoffMs: 10_000, fastMs: 2_500, window }), 1_000);
  t.is(healthPollDelayMs({ now: 30_100, dueAt: 20_000, backoffMs: 10_000, fastMs: 2_500, window }), 250);
});

test("in the window the period runs from poll start to poll start: the poll's own calls do not slow it", (t) => {
  const window = { dueAt: 30_000, untilMs: 41_000, periodMs: 250 };
  const at = { dueAt: 30_000, backoffMs: 10_000, fastMs: 2_500, window };
  t.is(healthPollDelayMs({ ...at, now: 30_080, lastPollAt: 30_000 }), 170);
  t.is(healthPollDelayMs({ ...at, now: 30_400, lastPollAt: 30_000 }), 0, 'a slow poll: the next one at once');
});
