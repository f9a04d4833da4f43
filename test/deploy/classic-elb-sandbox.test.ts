import test from 'ava';
import { getClusterStatus } from '../../src/status/cluster-status';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ModifyLoadBalancerAttributesCommand } from '@aws-sdk/client-elastic-load-balancing';
import { describeAsgsByName, loadCluster } from '../../src/cluster/server-groups';
import { createClassicLoadBalancer } from '../helpers/cluster-fixture';
import { waitFor } from '../sandbox/fixtures';
import { deleteServerGroupNow, type DeploySandbox } from '../helpers/deploy-sandbox';
import { awsCliV2 } from '../helpers/aws-cli';
import { emulatorEnv } from '../helpers/moto';
import { deploy, probeLine, rollback, startRollbackSandbox, versionsNow, withProbe } from '../rollback/helpers';

// Issue #22: classic load balancers (`loadBalancerNames`), alone or beside target groups: deploys,
// a broken build and rollbacks behind a CLB with a probe going through the CLB's own sandbox
// listener, not one request failed; at the end only the serving group's instances are InService
// in DescribeInstanceHealth as the AWS CLI v2 reads it.
const run = promisify(execFile);
let env: DeploySandbox;
let clb: string;
let clbUrl: string;
const amis = { v1: '', v2: '', v3: '', broken: '' };

test.before(async () => {
  env = await startRollbackSandbox({ classicLoadBalancer: true });
  clb = env.sandbox.infra?.classicLoadBalancerName as string;
  const listener = env.sandbox.listeners().find((l) => l.type === 'classic' && l.loadBalancerName === clb);
  if (!listener) throw new Error(`no sandbox listener of ${clb}`);
  clbUrl = listener.url;
  amis.v1 = await env.ami('1.0.0');
  amis.v2 = await env.ami('2.0.0');
  amis.v3 = await env.ami('3.0.0');
  amis.broken = await env.ami('4.0.0-broken', 'fail');
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

/** DescribeInstanceHealth of the CLB through the AWS CLI v2: instance id → State. */
async function instanceStates(): Promise<Record<string, string>> {
  const { stdout } = await run(
    awsCliV2(),
    [
      'elb',
      'describe-instance-health',
      '--load-balancer-name',
      clb,
      '--endpoint-url',
      env.sandbox.endpoint,
      '--region',
      'us-east-1',
      '--output',
      'json',
    ],
    { env: { ...process.env, ...emulatorEnv(env.sandbox.endpoint), AWS_PAGER: '' }, timeout: 60_000 },
  );
  const states = (JSON.parse(stdout) as { InstanceStates: Array<{ InstanceId: string; State: string }> })
    .InstanceStates;
  return Object.fromEntries(states.map((s) => [s.InstanceId, s.State]));
}

/** The instance ids of the cluster's enabled group (the one serving). */
async function servingInstances(cluster: string): Promise<{ name: string; ids: string[] }> {
  const { groups } = await loadCluster(env.aws, cluster);
  const serving = groups.filter((g) => g.enabled);
  if (serving.length !== 1) throw new Error(`${serving.length} enabled groups in ${cluster}`);
  const group = serving[0]!;
  return { name: group.name, ids: group.instances.map((i) => i.id).sort() };
}

/** Sets the CLB's connection draining timeout (AWS seconds). */
async function setDraining(seconds: number): Promise<void> {
  await env.aws.elb.send(
    new ModifyLoadBalancerAttributesCommand({
      LoadBalancerName: clb,
      LoadBalancerAttributes: { ConnectionDraining: { Enabled: true, Timeout: seconds } },
    }),
  );
}

/** The base input without the demo target group: a cluster behind the CLB alone. */
function clbOnly(input: Record<string, unknown>): Record<string, unknown> {
  return { ...input, targetGroups: undefined, loadBalancerNames: [clb] };
}

test.serial(
  'behind a classic ELB alone: v1 → v2 → broken v3 rolls back → rollback to v1, no failed request',
  async (t) => {
    const cluster = 'web-clb';
    const first = await deploy(t, env, clbOnly({ cluster, amiId: amis.v1 }));
    t.is(first.exitCode, 0, JSON.stringify(first.output.error));
    t.deepEqual(Object.keys(await versionsNow(env, 20, clbUrl)), ['1.0.0']);

    // A long connection draining (300 AWS s, 15 s here): the disabled group is kept until it ends.
    await setDraining(300);
    const v1 = await servingInstances(cluster);
    const second = await withProbe(env, () => deploy(t, env, clbOnly({ cluster, amiId: amis.v2 })), clbUrl);
    t.log(probeLine(second.report));
    t.is(second.result.exitCode, 0, JSON.stringify(second.result.output.error));
    t.is(second.report.failed, 0);
    t.deepEqual(Object.keys(await versionsNow(env, 20, clbUrl)), ['2.0.0']);
    const draining = await instanceStates();
    t.deepEqual(
      v1.ids.map((id) => draining[id]),
      v1.ids.map(() => 'OutOfService'),
      `the disabled group's instances drain in the CLB: ${JSON.stringify(draining)}`,
    );
    const [previous] = await describeAsgsByName(env.aws, [v1.name]);
    t.is(previous?.DesiredCapacity, 2, 'not scaled down while its connections drain');
    await setDraining(30);

    const broken = await withProbe(env, () => deploy(t, env, clbOnly({ cluster, amiId: amis.broken })), clbUrl);
    t.log(probeLine(broken.report));
    t.is(broken.result.exitCode, 1);
    t.is(broken.report.failed, 0);
    t.deepEqual(Object.keys(broken.report.perVersion), ['2.0.0']);

    const back = await withProbe(env, () => rollback(t, env, { cluster, reason: 'v2 misbehaves' }), clbUrl);
    t.log(probeLine(back.report));
    t.is(back.result.exitCode, 0, JSON.stringify(back.result.output.error));
    t.is(back.report.failed, 0);
    t.deepEqual(Object.keys(await versionsNow(env, 20, clbUrl)), ['1.0.0']);

    const serving = await servingInstances(cluster);
    const states = await instanceStates();
    const inService = Object.entries(states)
      .filter(([, state]) => state === 'InService')
      .map(([id]) => id)
      .sort();
    t.deepEqual(inService, serving.ids, `InService ${JSON.stringify(states)}; ${serving.name} serves`);
    // status lists the CLB as a classic load balancer (not as a target group), counting InService as healthy.
    const status = await getClusterStatus(env.aws, cluster);
    const active = status.serverGroups.find((g) => g.name === status.active);
    t.deepEqual(active?.targetGroups, []);
    t.deepEqual(active?.loadBalancers, [{ name: clb, healthy: serving.ids.length, registered: serving.ids.length }]);
    // The CLB is shared with the next test's cluster: this one leaves it.
    const { groups } = await loadCluster(env.aws, cluster);
    for (const group of groups) await deleteServerGroupNow(env, group.name);
  },
);

test.serial('a watch gate on AWS/ELB metrics breaching behind a classic ELB rolls back (exit 1)', async (t) => {
  const cluster = 'web-gate';
  // A CLB of its own, so the other tests' clusters do not answer through it.
  const name = await createClassicLoadBalancer(env.aws, { subnetIds: env.sandbox.infra!.subnetIds }, 'web-gate-elb');
  const url = await waitFor(
    `a sandbox listener of ${name}`,
    async () => env.sandbox.listeners().find((l) => l.type === 'classic' && l.loadBalancerName === name)?.url,
  );
  const first = await deploy(t, env, { ...clbOnly({ cluster, amiId: amis.v1 }), loadBalancerNames: [name] });
  t.is(first.exitCode, 0, JSON.stringify(first.output.error));
  const erring = await env.ami('5.0.0-errors', 'ok', { 'sandbox:errors': '0.5' });
  const { result, report } = await withProbe(
    env,
    () => deploy(t, env, { ...clbOnly({ cluster, amiId: erring }), loadBalancerNames: [name], watch: '10s' }),
    url,
  );
  t.log(probeLine(report));
  t.is(result.exitCode, 1, JSON.stringify(result.output));
  const error = result.output.error as { code: string; verification: { steps: Array<{ reason?: string }> } };
  t.is(error.code, 'VerificationFailed');
  // The bad build's own 500s reach the probe until the gate trips; no request is cut or refused.
  t.deepEqual(Object.keys(report.failures), ['status:500']);
  t.regex(
    error.verification.steps[0]?.reason ?? '',
    /gate: error rate [\d.]+ % \(\d+ of \d+ requests\) above maxErrorRate/,
  );
  t.deepEqual(Object.keys(await versionsNow(env, 20, url)), ['1.0.0']);
});

test.serial(
  'beforeTraffic behind a classic ELB: the new group joins it after the command passed, no failed request',
  async (t) => {
    const cluster = 'web-bt';
    const name = await createClassicLoadBalancer(env.aws, { subnetIds: env.sandbox.infra!.subnetIds }, 'web-bt-elb');
    const url = await waitFor(
      `a sandbox listener of ${name}`,
      async () => env.sandbox.listeners().find((l) => l.type === 'classic' && l.loadBalancerName === name)?.url,
    );
    const input = (amiId: string) => ({ ...clbOnly({ cluster, amiId }), loadBalancerNames: [name] });
    const first = await deploy(t, env, input(amis.v1));
    t.is(first.exitCode, 0, JSON.stringify(first.output.error));
    const { result, report } = await withProbe(
      env,
      () => deploy(t, env, { ...input(amis.v2), beforeTraffic: 'test -n "$BLUEGREEN_SERVER_GROUP"' }),
      url,
    );
    t.log(probeLine(report));
    t.is(result.exitCode, 0, JSON.stringify(result.output.error));
    t.is(report.failed, 0);
    t.deepEqual(Object.keys(await versionsNow(env, 20, url)), ['2.0.0']);
    const [created] = await describeAsgsByName(env.aws, [result.output.serverGroup as string]);
    t.deepEqual(created?.LoadBalancerNames, [name], 'attached to the CLB once the command passed');
  },
);

test.serial('behind a classic ELB and a target group at once: deploy and rollback, probes through both', async (t) => {
  const cluster = 'web-both';
  const both = (input: Record<string, unknown>) => ({ ...input, loadBalancerNames: [clb] });
  const first = await deploy(t, env, both({ cluster, amiId: amis.v1 }));
  t.is(first.exitCode, 0, JSON.stringify(first.output.error));

  const viaBoth = async <T>(work: () => Promise<T>) => {
    let viaClb: Awaited<ReturnType<typeof withProbe<T>>> | undefined;
    const viaAlb = await withProbe(env, async () => {
      viaClb = await withProbe(env, work, clbUrl);
      return viaClb.result;
    });
    return { result: viaAlb.result, alb: viaAlb.report, clb: viaClb!.report };
  };

  const second = await viaBoth(() => deploy(t, env, both({ cluster, amiId: amis.v3 })));
  t.log(`alb: ${probeLine(second.alb)}`);
  t.log(`clb: ${probeLine(second.clb)}`);
  t.is(second.result.exitCode, 0, JSON.stringify(second.result.output.error));
  t.is(second.alb.failed, 0);
  t.is(second.clb.failed, 0);
  t.deepEqual(Object.keys(await versionsNow(env, 20, clbUrl)), ['3.0.0']);
  t.deepEqual(Object.keys(await versionsNow(env, 20)), ['3.0.0']);

  const back = await viaBoth(() => rollback(t, env, { cluster, reason: 'v3 misbehaves' }));
  t.log(`alb: ${probeLine(back.alb)}`);
  t.log(`clb: ${probeLine(back.clb)}`);
  t.is(back.result.exitCode, 0, JSON.stringify(back.result.output.error));
  t.is(back.alb.failed, 0);
  t.is(back.clb.failed, 0);
  t.deepEqual(Object.keys(await versionsNow(env, 20, clbUrl)), ['1.0.0']);
  t.deepEqual(Object.keys(await versionsNow(env, 20)), ['1.0.0']);
});
