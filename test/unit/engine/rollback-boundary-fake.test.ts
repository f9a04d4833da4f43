import test from 'ava';
import { Tag } from '../../../src/aws/tags';
import { silentLogger } from '../../../src/core/log';
import type { OperationPorts } from '../../../src/deploy/operations/ports';
import { removeNewGroup } from '../../../src/deploy/operations/remove-new-group';
import type { GroupToDestroy } from '../../../src/deploy/server-group-ops';
import { InMemoryCluster } from '../../helpers/in-memory-cluster';
import { group, TG } from './helpers';

// The automatic rollback boundary on the in-memory cluster: a new group that failed before traffic
// moved is removed, the old group left serving with its min back. test/deploy/deploy-sandbox.test.ts
// and give-up.test.ts run it with real traffic.

const template = { id: 'lt-0123', name: 'web-prod-v002', version: '1' };

async function setUp() {
  const cluster = new InMemoryCluster();
  const oldIds = cluster.addGroup('web-prod-v001', { count: 2, targetGroupArns: [TG] });
  // The deploy pinned the old group's min to its desired (2, from 1).
  await cluster.groups.setCapacity('web-prod-v001', { min: 2 });
  await cluster.groups.setTags([{ name: 'web-prod-v001', tags: { [Tag.pinnedFrom]: '1' } }]);
  const source = group('web-prod-v001', { capacity: { min: 1, max: 4, desired: 2 } });
  const destroyed: GroupToDestroy[] = [];
  const ports: OperationPorts = {
    groups: cluster.groups,
    traffic: cluster.traffic,
    destroy: async (spec) => {
      destroyed.push(spec);
      cluster.deleteGroup(spec.name);
    },
    untilHealthy: async () => undefined,
  };
  return { cluster, oldIds, source, ports, destroyed };
}

test('boundary: a new group that never served is deleted with its launch template; the old one serves on, its min restored', async (t) => {
  const { cluster, oldIds, source, ports, destroyed } = await setUp();
  const newIds = cluster.addGroup('web-prod-v002', { count: 2, targetGroupArns: [TG] });
  for (const id of newIds) cluster.setTargetState(TG, id, 'unhealthy');
  await removeNewGroup(ports, 'web-prod-v002', template, source, silentLogger, undefined);
  t.false(cluster.has('web-prod-v002'));
  t.deepEqual(destroyed, [{ name: 'web-prod-v002', launchTemplate: template, ownsLaunchTemplate: true }]);
  t.false(
    cluster.calls.some((c) => c.startsWith('suspend web-prod-v002')),
    'nothing to drain: not disabled first',
  );
  t.deepEqual(cluster.registered(TG), [...oldIds].sort(), 'the old group still serves, alone');
  const old = cluster.group('web-prod-v001');
  t.is(old.capacity.min, 1);
  t.is(old.tags[Tag.pinnedFrom], undefined);
  t.deepEqual(old.suspended, [], 'the old group was never disabled');
});

test('boundary: a new group some of whose instances took traffic is drained out of the load balancer before it is deleted', async (t) => {
  const { cluster, source, ports } = await setUp();
  const newIds = cluster.addGroup('web-prod-v002', { count: 2, targetGroupArns: [TG] });
  cluster.setTargetState(TG, newIds[1] as string, 'unhealthy');
  await removeNewGroup(ports, 'web-prod-v002', template, source, silentLogger, undefined);
  const suspend = cluster.calls.indexOf('suspend web-prod-v002 Launch,Terminate,AddToLoadBalancer');
  const deregister = cluster.calls.findIndex((c) => c.startsWith('deregister') && c.includes(newIds[0] as string));
  const deleted = cluster.calls.indexOf('delete web-prod-v002');
  t.true(suspend >= 0 && suspend < deregister && deregister < deleted, cluster.calls.join('\n'));
  t.false(cluster.has('web-prod-v002'));
});

test('boundary: the group was never created (only its launch template): the template still goes, the min comes back', async (t) => {
  const { cluster, source, ports, destroyed } = await setUp();
  await removeNewGroup(ports, 'web-prod-v002', template, source, silentLogger, undefined);
  t.deepEqual(
    destroyed.map((d) => d.launchTemplate),
    [template],
  );
  t.is(cluster.group('web-prod-v001').capacity.min, 1);
});

test('boundary: a first deploy (no old group) removes the new group and touches nothing else', async (t) => {
  const cluster = new InMemoryCluster();
  cluster.addGroup('web-prod-v000', { count: 1, targetGroupArns: [TG] });
  const ports: OperationPorts = {
    ...cluster,
    groups: cluster.groups,
    traffic: cluster.traffic,
    destroy: async (spec) => cluster.deleteGroup(spec.name),
    untilHealthy: async () => undefined,
  };
  await removeNewGroup(ports, 'web-prod-v000', template, undefined, silentLogger, undefined);
  t.false(cluster.has('web-prod-v000'));
  t.false(cluster.calls.some((c) => c.startsWith('setCapacity')));
});
