import test from 'ava';
import { appBehaviourOf, failsAt } from '../../../src/sandbox/app-server';

test('sandbox:errors and sandbox:latency are read from AMI tags and combine with sandbox:health', (t) => {
  t.deepEqual(
    appBehaviourOf('ami-1', { 'sandbox:errors': '0.3', 'sandbox:latency': '250', 'sandbox:health': 'flaky:0.1' }),
    {
      version: 'ami-1',
      health: { kind: 'flaky', failShare: 0.1 },
      errorShare: 0.3,
      latencyMs: 250,
    },
  );
  t.is(appBehaviourOf('ami-1', { 'sandbox:errors': '7' }).errorShare, 1, 'a share is at most 1');
  t.is(appBehaviourOf('ami-1', { 'sandbox:errors': 'lots' }).errorShare, undefined, 'not a number: no errors');
  t.is(appBehaviourOf('ami-1', { 'sandbox:latency': '-5' }).latencyMs, undefined);
});

test('failures are spread evenly: any n requests hold floor or ceil of n x share', (t) => {
  for (const share of [0.5, 0.3, 0.05, 1]) {
    const fails = Array.from({ length: 200 }, (_, i) => failsAt(i, share));
    for (const n of [1, 7, 20, 200]) {
      const count = fails.slice(0, n).filter(Boolean).length;
      t.true(count === Math.floor(n * share) || count === Math.ceil(n * share), `share ${share}, first ${n}: ${count}`);
    }
  }
  t.deepEqual(
    [0, 1, 2, 3].map((i) => failsAt(i, 0.5)),
    [false, true, false, true],
  );
});
