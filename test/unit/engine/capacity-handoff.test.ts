import test from 'ava';
import { handoffTarget } from '../../../src/deploy/capacity-handoff';

test('handoff: the new group takes at least what the previous group runs now, within its max', (t) => {
  t.deepEqual(handoffTarget(2, { desired: 2, max: 4 }), { desired: 2 }, 'nothing changed: nothing raised');
  t.deepEqual(handoffTarget(4, { desired: 2, max: 4 }), { desired: 4 }, 'scaled out 2 → 4 during the wait');
  t.deepEqual(handoffTarget(1, { desired: 2, max: 4 }), { desired: 2 }, 'a scale-in never shrinks the new group');
  t.deepEqual(handoffTarget(6, { desired: 2, max: 4 }), { desired: 4, cappedFrom: 6 }, 'held at max, and said');
  t.deepEqual(handoffTarget(6, { desired: 5, max: 4 }), { desired: 5, cappedFrom: 6 }, 'never below what it runs');
});

test('handoff at a rolling step: the step share of the previous desired, rounded up', (t) => {
  t.deepEqual(handoffTarget(4, { desired: 1, max: 4 }, 25), { desired: 1 });
  t.deepEqual(handoffTarget(6, { desired: 1, max: 8 }, 25), { desired: 2 });
  t.deepEqual(handoffTarget(8, { desired: 2, max: 8 }, 50), { desired: 4 });
});
