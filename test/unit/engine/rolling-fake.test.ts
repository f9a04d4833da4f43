import test from 'ava';
import { Tag } from '../../../src/aws/tags';
import { silentLogger } from '../../../src/core/log';
import { Phase } from '../../../src/cluster/phases';
import { leavingAt, runRollingSteps, type RollingPorts } from '../../../src/deploy/strategies/rolling';
import type { Verification, VerificationStep } from '../../../src/verify/watch';
import { InMemoryCluster } from '../../helpers/in-memory-cluster';
import { group, TG } from './helpers';

// The rolling steps on the in-memory cluster (both narrow interfaces): what each step does to the
// two groups, in milliseconds. test/verify/watch-sandbox.test.ts runs the same steps with real traffic.

const prepared = { watchSeconds: 30, alarms: [], gates: false, baseline: null } as never;

function stepVerdict(step: string, verdict: 'passed' | 'failed'): VerificationStep {
  const at = new Date().toISOString();
  return {
    step,
    startedAt: at,
    endedAt: at,
    alarms: [],
    requests: 0,
    errors: 0,
    errorRate: 0,
    verdict,
    polls: 1,
    ...(verdict === 'failed' ? { reason: 'gate: errors', breachAt: at } : {}),
  };
}

/** A previous group of 4 serving, the new one made at `firstSize` (healthy), and the ports over the fake. */
function setUp(firstSize: number, verdicts: Record<string, 'passed' | 'failed'> = {}) {
  const cluster = new InMemoryCluster();
  const oldIds = cluster.addGroup('web-prod-v001', { count: 4, targetGroupArns: [TG] });
  cluster.addGroup('web-prod-v002', { count: firstSize, targetGroupArns: [TG] });
  const previous = group('web-prod-v001', {
    capacity: { min: 4, max: 10, desired: 4 },
    instances: oldIds.map((id) => ({
      id,
      lifecycleState: 'InService',
      healthStatus: 'Healthy',
      availabilityZone: 'us-east-1a',
    })),
  });
  const watched: string[] = [];
  const rolledBack: Array<{ verification: Verification; step: VerificationStep }> = [];
  const ports: RollingPorts = {
    groups: cluster.groups,
    traffic: cluster.traffic,
    untilFullyHealthy: async (name) => {
      const { instances } = cluster.group(name);
      const healthy = new Set(
        (await cluster.traffic.health([TG]))
          .get(TG)
          ?.filter((t) => t.TargetHealth?.State === 'healthy')
          .map((t) => t.Target?.Id),
      );
      if (!instances.every((id) => healthy.has(id))) throw new Error(`${name} not fully healthy`);
    },
    // The previous group does not scale out here: nothing to hand over beyond the step's share.
    handOff: async () => ({ desired: cluster.group('web-prod-v002').instances.length, previousDesired: 4 }),
    watch: async (step) => {
      watched.push(step);
      return stepVerdict(step, verdicts[step] ?? 'passed');
    },
    rollBack: async (verification, step) => {
      rolledBack.push({ verification, step });
      return new Error(`rolled back at ${step.step}`);
    },
  };
  const options = {
    rolling: { steps: [25, 50, 100], stepWatchSeconds: 30 },
    prepared,
    newServerGroup: 'web-prod-v002',
    targetGroupArns: [TG],
    previous,
    desired: 4,
    healthTimeoutSeconds: 60,
    warmAfterSeconds: 0,
    log: silentLogger,
  };
  return { cluster, oldIds, ports, options, watched, rolledBack };
}

test('rolling [25, 50, 100]: each step grows the new group and takes the same share of the previous one out of traffic (kept running)', async (t) => {
  const { cluster, oldIds, ports, options, watched } = setUp(1);
  const steps = await runRollingSteps(ports, options);
  t.deepEqual(
    steps.map((s) => [s.step, s.verdict]),
    [
      ['25%', 'passed'],
      ['50%', 'passed'],
    ],
  );
  t.deepEqual(watched, ['25%', '50%']);
  const fresh = cluster.group('web-prod-v002');
  t.deepEqual(fresh.capacity, { min: 4, max: 10, desired: 4 });
  t.is(fresh.tags[Tag.phase], Phase.cutover, 'the last step leaves the ordinary cutover to finish');
  t.truthy(fresh.tags[Tag.watchUntil]);
  // Half of the previous group is out of the target group, all of it still running: the cutover takes the rest.
  const old = cluster.group('web-prod-v001');
  t.deepEqual(old.instances, oldIds);
  t.deepEqual(
    cluster.registered(TG).filter((id) => oldIds.includes(id)),
    oldIds.slice(2),
  );
  t.truthy(old.tags[Tag.scaleDownAfter], 'the previous group carries its warm window from the first step');
  t.deepEqual(old.suspended, ['AddToLoadBalancer', 'Launch', 'Terminate']);
});

test('rolling: a breach at the second step rolls back with the steps so far and does not grow the new group further', async (t) => {
  const { cluster, ports, options, rolledBack } = setUp(1, { '50%': 'failed' });
  const error = await t.throwsAsync(runRollingSteps(ports, options));
  t.is(error?.message, 'rolled back at 50%');
  t.is(rolledBack.length, 1);
  t.deepEqual(
    rolledBack[0]?.verification.steps.map((s) => [s.step, s.verdict]),
    [
      ['25%', 'passed'],
      ['50%', 'failed'],
    ],
  );
  t.is(rolledBack[0]?.verification.verdict, 'failed');
  t.is(cluster.group('web-prod-v002').capacity.desired, 2);
  t.is(
    cluster.group('web-prod-v002').tags[Tag.phase],
    Phase.watching,
    'a crash now is settled as an interrupted watch',
  );
});

test('rolling: a previous instance no longer registered is not deregistered again; the share still counts it', async (t) => {
  const { cluster, oldIds, ports, options } = setUp(1);
  await cluster.traffic.deregister([TG], [oldIds[0] as string]);
  cluster.calls.length = 0;
  await runRollingSteps(ports, options);
  t.false(cluster.calls.some((c) => c.startsWith('deregister') && c.includes(oldIds[0] as string)));
  t.deepEqual(
    cluster.registered(TG).filter((id) => oldIds.includes(id)),
    oldIds.slice(2),
  );
});

test('leavingAt: the previous group leaves in the same share as the new one grows, at least one instance, never twice', (t) => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  t.deepEqual(leavingAt(ids, new Set(), 25), ['a', 'b']);
  t.deepEqual(leavingAt(ids, new Set(['a', 'b']), 50), ['c']);
  t.deepEqual(leavingAt(ids, new Set(['a', 'b', 'c']), 50), []);
  t.deepEqual(leavingAt(ids, new Set(), 1), ['a']);
});
