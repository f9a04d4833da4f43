import test from 'ava';
import { Tag } from '../../../src/aws/tags';
import { silentLogger } from '../../../src/core/log';
import type { OperationPorts } from '../../../src/deploy/operations/ports';
import { restorePrevious } from '../../../src/deploy/operations/restore-previous';
import { InMemoryCluster } from '../../helpers/in-memory-cluster';
import { group, TG } from './helpers';

// What a breach undoes, on the in-memory cluster: the previous group's running instances back in
// traffic, the new group out. test/verify/watch-sandbox.test.ts and test/rollback/watch-sandbox.test.ts
// run it with real traffic and time it.

async function setUp() {
  const cluster = new InMemoryCluster();
  const oldIds = cluster.addGroup('web-prod-v001', { count: 2, targetGroupArns: [TG] });
  // Disabled at full capacity by the cutover: out of the target group, processes suspended, warm window and pin tags.
  await cluster.groups.suspend('web-prod-v001', ['Launch', 'Terminate', 'AddToLoadBalancer']);
  await cluster.traffic.deregister([TG], oldIds);
  await cluster.groups.setTags([
    { name: 'web-prod-v001', tags: { [Tag.scaleDownAfter]: '2026-01-01T00:00:00Z', [Tag.pinnedFrom]: '1' } },
  ]);
  const newIds = cluster.addGroup('web-prod-v002', { count: 2, targetGroupArns: [TG] });
  await cluster.groups.setTags([{ name: 'web-prod-v002', tags: { [Tag.phase]: 'watching' } }]);
  const previous = group('web-prod-v001', {
    enabled: false,
    capacity: { min: 2, max: 4, desired: 2 },
    tags: { [Tag.pinnedFrom]: '1', [Tag.scaleDownAfter]: '2026-01-01T00:00:00Z' },
  });
  const healthChecked: string[] = [];
  const ports: OperationPorts = {
    groups: cluster.groups,
    traffic: cluster.traffic,
    destroy: async (spec) => cluster.deleteGroup(spec.name),
    untilHealthy: async ({ groupName }) => {
      healthChecked.push(groupName);
    },
  };
  return { cluster, oldIds, newIds, previous, ports, healthChecked };
}

test('breach undone: the previous group serves again with its own instances (no launch), the new one drained and deleted', async (t) => {
  const { cluster, oldIds, previous, ports, healthChecked } = await setUp();
  const restored = await restorePrevious(ports, {
    newServerGroup: 'web-prod-v002',
    previous: [previous],
    healthTimeoutSeconds: 60,
    log: silentLogger,
  });
  t.true(restored.servingAt <= restored.outAt);
  t.deepEqual(cluster.registered(TG), [...oldIds].sort(), 'only the previous group in traffic');
  t.deepEqual(healthChecked, ['web-prod-v001'], 'healthy before the new group goes out');
  const old = cluster.group('web-prod-v001');
  t.deepEqual(old.instances, oldIds, 'the same instances: nothing launched');
  t.deepEqual(old.suspended, []);
  t.is(old.capacity.min, 1, 'its pin released');
  t.deepEqual(old.tags, {});
  t.false(cluster.has('web-prod-v002'));
  const enabledAt = cluster.calls.findIndex((c) => c.startsWith('register'));
  const newOutAt = cluster.calls.indexOf('suspend web-prod-v002 Launch,Terminate,AddToLoadBalancer');
  t.true(enabledAt >= 0 && enabledAt < newOutAt, 'the previous group back before the new one leaves');
});

test("breach undone on a rollback's re-enabled group (keepNewGroup): it is disabled and scaled to 0, kept", async (t) => {
  const { cluster, oldIds, previous, ports } = await setUp();
  await restorePrevious(ports, {
    newServerGroup: 'web-prod-v002',
    previous: [previous],
    healthTimeoutSeconds: 60,
    keepNewGroup: true,
    log: silentLogger,
  });
  t.true(cluster.has('web-prod-v002'));
  const kept = cluster.group('web-prod-v002');
  t.deepEqual(kept.capacity, { ...kept.capacity, min: 0, desired: 0 });
  t.deepEqual(kept.instances, []);
  t.deepEqual(kept.suspended, ['AddToLoadBalancer', 'Launch']);
  t.is(kept.tags[Tag.phase], undefined);
  t.deepEqual(cluster.registered(TG), [...oldIds].sort());
});
