import test, { type ExecutionContext } from 'ava';
import { awsClients } from '../../src/aws/clients';
import { silentLogger } from '../../src/core/log';
import { clusterApisOf, type ClusterApis } from '../../src/cluster/server-group-api';
import { waitForDrainedIn } from '../../src/traffic/drain';
import { tagMap } from '../../src/aws/tags';
import {
  createClassicLoadBalancer,
  createNetwork,
  createServerGroup,
  someAmi,
  type Network,
} from '../helpers/cluster-fixture';
import { InMemoryCluster } from '../helpers/in-memory-cluster';
import { startMoto, useEmulator, type MotoServer } from '../helpers/moto';

// One contract, two implementations: the narrow cluster and traffic interfaces over the SDK (against
// moto_server) and the in-memory cluster the fast tests use. What the fast tests rely on holds for both.

let moto: MotoServer;
let network: Network;
let amiId: string;
const region = 'us-east-1';

test.before(async () => {
  moto = await startMoto();
  useEmulator(moto.endpoint, region);
  process.env.BLUEGREEN_POLL_MIN_MS = '50';
  process.env.BLUEGREEN_POLL_MAX_MS = '200';
  const aws = awsClients(region);
  network = await createNetwork(aws);
  amiId = await someAmi(aws);
});

test.after.always(async () => {
  await moto?.stop();
});

/** A group of 2 serving in one target group, on either implementation. */
type Subject = { apis: ClusterApis; tg: string; name: string };

async function onSdk(name: string): Promise<Subject> {
  const aws = awsClients(region);
  await createServerGroup(aws, network, { name, cluster: 'contract', amiId, desired: 2 });
  return { apis: clusterApisOf(aws), tg: network.targetGroupArn, name };
}

/** The same group behind a classic load balancer too; the subject's source is the CLB's name (the composite dispatches it). */
async function onSdkClassic(name: string): Promise<Subject> {
  const aws = awsClients(region);
  const clb = await createClassicLoadBalancer(aws, network, 'contract-elb');
  await createServerGroup(aws, network, { name, cluster: 'contract-clb', amiId, desired: 2, loadBalancerNames: [clb] });
  return { apis: clusterApisOf(aws), tg: clb, name };
}

async function inMemory(name: string): Promise<Subject> {
  const cluster = new InMemoryCluster();
  const tg = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/0123456789abcdef';
  cluster.addGroup(name, { count: 2, targetGroupArns: [tg] });
  return { apis: cluster, tg, name };
}

async function registered(apis: ClusterApis, tg: string, ids: readonly string[]): Promise<string[]> {
  const health = await apis.traffic.health([tg]);
  return (health.get(tg) ?? [])
    .filter((t) => ids.includes(t.Target?.Id ?? '') && !['draining', 'unused'].includes(t.TargetHealth?.State ?? ''))
    .map((t) => t.Target?.Id as string)
    .sort();
}

async function contract(t: ExecutionContext, subject: Subject): Promise<void> {
  const { apis, tg, name } = subject;
  const [asg] = await apis.groups.describe([name, 'no-such-group']);
  const ids = (asg?.Instances ?? []).map((i) => i.InstanceId as string).sort();
  t.is(ids.length, 2, 'describe returns the group, leaves out an absent one');
  t.deepEqual(await registered(apis, tg, ids), ids, "a group's instances are in its target group");

  await apis.traffic.deregister([tg], [ids[0] as string]);
  await waitForDrainedIn(apis.traffic, {
    instanceIds: [ids[0] as string],
    targetGroupArns: [tg],
    deadline: Date.now() + 30_000,
    log: silentLogger,
    label: name,
  });
  t.deepEqual(await registered(apis, tg, ids), [ids[1]], 'deregistered: out, drained');
  await apis.traffic.deregister([tg], [ids[0] as string]);
  t.deepEqual(await registered(apis, tg, ids), [ids[1]], 'deregistering again changes nothing');
  await apis.traffic.register([tg], [ids[0] as string]);
  t.deepEqual(await registered(apis, tg, ids), ids, 'registered again');
  t.true((await apis.traffic.drainSeconds([tg])) >= 0);

  await apis.groups.suspend(name, ['Launch', 'AddToLoadBalancer']);
  await apis.groups.setTags([{ name, tags: { 'bluegreen:phase': 'cutover', 'bluegreen:pinned-min': '1' } }]);
  await apis.groups.removeTags(name, ['bluegreen:pinned-min']);
  await apis.groups.setCapacity(name, { min: 1 });
  const [after] = await apis.groups.describe([name]);
  t.deepEqual((after?.SuspendedProcesses ?? []).map((p) => p.ProcessName).sort(), ['AddToLoadBalancer', 'Launch']);
  const tags = tagMap(after?.Tags);
  t.is(tags['bluegreen:phase'], 'cutover');
  t.is(tags['bluegreen:pinned-min'], undefined);
  t.is(after?.MinSize, 1);
  t.is(after?.DesiredCapacity, 2);
  await apis.groups.resume(name, ['Launch', 'AddToLoadBalancer']);
  const [resumed] = await apis.groups.describe([name]);
  t.deepEqual(resumed?.SuspendedProcesses ?? [], []);
}

test.serial('the SDK implementations (target groups, Auto Scaling) keep the contract', async (t) => {
  await contract(t, await onSdk('contract-v001'));
});

test.serial('the SDK implementations over a classic load balancer keep the contract', async (t) => {
  await contract(t, await onSdkClassic('contract-clb-v001'));
});

test.serial('the in-memory cluster keeps the same contract', async (t) => {
  await contract(t, await inMemory('contract-v001'));
});
