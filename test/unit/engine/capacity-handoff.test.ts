import test from 'ava';
import { handoffTarget } from '../../../src/deploy/capacity-handoff';
import { capacityShares } from '../../../src/deploy/fleet-settings';

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

test('status shares: on-demand base first, then the percentage above it rounded up, the rest spot', (t) => {
  const issue = { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 25 };
  t.deepEqual(capacityShares(2, issue), { onDemand: 1, spot: 1 });
  t.deepEqual(capacityShares(4, issue), { onDemand: 1, spot: 3 });
  t.deepEqual(capacityShares(3, { OnDemandBaseCapacity: 4, OnDemandPercentageAboveBaseCapacity: 0 }), {
    onDemand: 3,
    spot: 0,
  });
  t.deepEqual(capacityShares(6, { OnDemandBaseCapacity: 2, OnDemandPercentageAboveBaseCapacity: 0 }), {
    onDemand: 2,
    spot: 4,
  });
  t.deepEqual(capacityShares(5), { onDemand: 5, spot: 0 }, 'no distribution: all on-demand');
});
