import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { startProbe } from '../../src/sandbox/probe';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import {
  createAppAsg,
  createTargetGroup,
  forwardWeighted,
  getJson,
  makeAppAmi,
  waitFor,
  waitForHealthyTarget,
} from './fixtures';

const run = promisify(execFile);
let sandbox: Sandbox;

// Scale 0.1: boot 3 s, health interval 1 s (3 checks to healthy). Margins are wide so a loaded
// machine cannot turn a state before the test looks at it.
test.before(async () => {
  sandbox = await startSandbox({ infra: 'demo', timeScale: 0.1, bootSeconds: 30 });
});

test.after.always(async () => {
  await sandbox?.stop();
});

async function targetHealth(): Promise<TargetHealthDescription[]> {
  const answer = await sandbox
    .clients()
    .elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: sandbox.infra?.targetGroupArn }));
  return answer.TargetHealthDescriptions ?? [];
}

function stateOf(descriptions: TargetHealthDescription[], id: string): string | undefined {
  return descriptions.find((d) => d.Target?.Id === id)?.TargetHealth?.State;
}

test.serial(
  'ASG instances start initial, turn healthy only after boot and threshold checks, then serve their version',
  async (t) => {
    const aws = sandbox.clients();
    const infra = sandbox.infra!;
    const v1 = await makeAppAmi(aws, 'v1');
    await createAppAsg(aws, infra, 'app-v001', v1, 2);
    const first = await targetHealth();
    t.is(first.length, 2);
    for (const d of first) {
      t.is(d.TargetHealth?.State, 'initial');
      t.is(d.TargetHealth?.Reason, 'Elb.InitialHealthChecking');
    }
    const ids = first.map((d) => d.Target?.Id as string);
    const healthy = await waitFor('both v1 targets healthy', async () => {
      const now = await targetHealth();
      return ids.every((id) => stateOf(now, id) === 'healthy') ? now : undefined;
    });
    t.is(healthy.length, 2);
    // Healthy means the app really answered at least HealthyThresholdCount checks after booting.
    const apps = sandbox.state().instances.filter((i) => ids.includes(i.instanceId));
    t.is(apps.length, 2);
    for (const app of apps) {
      t.is(app.phase, 'serving');
      t.true(
        app.healthChecksServed >= infra.healthCheck.healthyThreshold,
        `${app.instanceId} answered ${app.healthChecksServed} checks`,
      );
    }
    const seen = new Set<string>();
    for (let i = 0; i < 10; i += 1) {
      const { status, body } = await getJson(sandbox.listenerUrl as string);
      t.is(status, 200);
      t.is(body?.version, 'v1');
      t.is(body?.amiId, v1);
      seen.add(String(body?.instanceId));
    }
    t.deepEqual([...seen].sort(), [...ids].sort(), 'round robin reaches both targets');
  },
);

test.serial('a sandbox:health=fail AMI never gets traffic; its targets and ASG instances show unhealthy', async (t) => {
  const aws = sandbox.clients();
  const infra = sandbox.infra!;
  const bad = await makeAppAmi(aws, 'v-bad', 'fail');
  await createAppAsg(aws, infra, 'app-bad-v001', bad, 1);
  const badId = sandbox.state().instances.find((i) => i.amiId === bad)?.instanceId as string;
  t.truthy(badId);
  const unhealthy = await waitFor('bad target unhealthy', async () => {
    const d = (await targetHealth()).find((x) => x.Target?.Id === badId);
    return d?.TargetHealth?.State === 'unhealthy' ? d : undefined;
  });
  t.is(unhealthy.TargetHealth?.Reason, 'Target.ResponseCodeMismatch');
  t.regex(unhealthy.TargetHealth?.Description ?? '', /\[500\]/);
  for (let i = 0; i < 20; i += 1) {
    const { status, body } = await getJson(sandbox.listenerUrl as string);
    t.is(status, 200);
    t.is(body?.version, 'v1');
  }
  const asgInstances = await aws.autoScaling.send(new DescribeAutoScalingInstancesCommand({}));
  const health = Object.fromEntries(
    (asgInstances.AutoScalingInstances ?? []).map((i) => [i.InstanceId, i.HealthStatus]),
  );
  t.is(health[badId], 'Unhealthy');
  t.is(Object.values(health).filter((h) => h === 'Healthy').length, 2);
  t.true(
    (asgInstances.AutoScalingInstances ?? []).every((i) => i.LifecycleState === 'InService'),
    'moto keeps InService',
  );

  // The AWS CLI reads the rewritten answers the same way.
  const env = { ...process.env, ...sandbox.env() };
  const cli = await run(
    '/usr/bin/aws',
    [
      '--endpoint-url',
      sandbox.endpoint,
      'elbv2',
      'describe-target-health',
      '--target-group-arn',
      infra.targetGroupArn,
      '--output',
      'json',
    ],
    { env },
  );
  const cliHealth = JSON.parse(cli.stdout) as { TargetHealthDescriptions: TargetHealthDescription[] };
  t.is(stateOf(cliHealth.TargetHealthDescriptions, badId), 'unhealthy');
  t.is(cliHealth.TargetHealthDescriptions.filter((d) => d.TargetHealth?.State === 'healthy').length, 2);
  const cliAsg = await run(
    '/usr/bin/aws',
    [
      '--endpoint-url',
      sandbox.endpoint,
      'autoscaling',
      'describe-auto-scaling-groups',
      '--auto-scaling-group-names',
      'app-bad-v001',
      '--output',
      'json',
    ],
    { env },
  );
  const group = (
    JSON.parse(cliAsg.stdout) as { AutoScalingGroups: { Instances: { InstanceId: string; HealthStatus: string }[] }[] }
  ).AutoScalingGroups[0];
  t.deepEqual(
    group?.Instances.map((i) => [i.InstanceId, i.HealthStatus]),
    [[badId, 'Unhealthy']],
  );
});

test.serial(
  'a request in flight on a deregistered target completes; new requests go elsewhere; the target drains then disappears',
  async (t) => {
    const aws = sandbox.clients();
    const infra = sandbox.infra!;
    const healthyIds = (await targetHealth())
      .filter((d) => d.TargetHealth?.State === 'healthy')
      .map((d) => d.Target?.Id as string);
    t.is(healthyIds.length, 2);
    // 100 s × 0.1: long enough to look at `draining` even on a loaded machine.
    await aws.elbv2.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: infra.targetGroupArn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '100' }],
      }),
    );
    const slow = getJson(`${sandbox.listenerUrl}/slow?ms=2000`);
    const busy = await waitFor('the slow request to reach a target', async () =>
      sandbox.state().instances.find((i) => healthyIds.includes(i.instanceId) && i.inFlight > 0),
    );
    const other = healthyIds.find((id) => id !== busy.instanceId) as string;
    await aws.elbv2.send(
      new DeregisterTargetsCommand({ TargetGroupArn: infra.targetGroupArn, Targets: [{ Id: busy.instanceId }] }),
    );
    const draining = (await targetHealth()).find((d) => d.Target?.Id === busy.instanceId);
    t.is(draining?.TargetHealth?.State, 'draining');
    t.is(draining?.TargetHealth?.Reason, 'Target.DeregistrationInProgress');
    for (let i = 0; i < 10; i += 1) {
      const { status, body } = await getJson(sandbox.listenerUrl as string);
      t.is(status, 200);
      t.is(body?.instanceId, other);
    }
    const finished = await slow;
    t.is(finished.status, 200);
    t.is(finished.body?.instanceId, busy.instanceId);
    await waitFor('the drained target to disappear', async () =>
      (await targetHealth()).some((d) => d.Target?.Id === busy.instanceId) ? undefined : true,
    );
    const asked = await aws.elbv2.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: infra.targetGroupArn, Targets: [{ Id: busy.instanceId }] }),
    );
    t.is(asked.TargetHealthDescriptions?.[0]?.TargetHealth?.State, 'unused');
    t.is(asked.TargetHealthDescriptions?.[0]?.TargetHealth?.Reason, 'Target.NotRegistered');
  },
);

test.serial(
  'the probe sees a hand-made red/black switch with zero failures and reports when the version mix changed',
  async (t) => {
    const aws = sandbox.clients();
    const infra = sandbox.infra!;
    const before = (await targetHealth()).map((d) => ({ id: d.Target?.Id as string, state: d.TargetHealth?.State }));
    t.true(
      before.some((d) => d.state === 'healthy'),
      'v1 serves before the switch',
    );
    const probe = startProbe({ url: sandbox.listenerUrl as string, concurrency: 4, maxDurationMs: 60_000, pauseMs: 5 });
    try {
      await waitFor('the probe to see v1', async () => (probe.completed() > 20 ? true : undefined));
      const v2 = await makeAppAmi(aws, 'v2');
      await createAppAsg(aws, infra, 'app-v002', v2, 2);
      const v2Ids = sandbox
        .state()
        .instances.filter((i) => i.amiId === v2)
        .map((i) => i.instanceId);
      t.is(v2Ids.length, 2);
      await waitFor('v2 healthy', async () => {
        const now = await targetHealth();
        return v2Ids.every((id) => stateOf(now, id) === 'healthy') ? true : undefined;
      });
      const old = before.map((d) => ({ Id: d.id }));
      await aws.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: infra.targetGroupArn, Targets: old }));
      await waitFor('old targets drained', async () =>
        (await targetHealth()).some((d) => old.some((o) => o.Id === d.Target?.Id)) ? undefined : true,
      );
      const settled = probe.completed();
      await waitFor('more requests after the switch', async () =>
        probe.completed() > settled + 20 ? true : undefined,
      );
    } finally {
      const report = await probe.stop();
      t.is(report.failed, 0, JSON.stringify(report.failures));
      t.true((report.perVersion.v1 ?? 0) > 0);
      t.true((report.perVersion.v2 ?? 0) > 0);
      t.is(report.perVersion['v-bad'], undefined);
      t.deepEqual(report.timeline[0]?.versions, ['v1']);
      t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['v2']);
      t.true((report.versionSpans.v1?.lastMs ?? Infinity) <= (report.versionSpans.v2?.lastMs ?? 0));
    }
  },
);

test.serial('the listener honours forward weights across target groups', async (t) => {
  const aws = sandbox.clients();
  const infra = sandbox.infra!;
  const canaryArn = await createTargetGroup(aws, infra, 'canary-web');
  const v3 = await makeAppAmi(aws, 'v3');
  await createAppAsg(aws, { ...infra, targetGroupArn: canaryArn }, 'canary-v001', v3, 1);
  await waitForHealthyTarget(aws, canaryArn);
  const forward = async (mainWeight: number, canaryWeight: number): Promise<Set<string>> => {
    await forwardWeighted(aws, infra.listenerArn, [
      [infra.targetGroupArn, mainWeight],
      [canaryArn, canaryWeight],
    ]);
    const versions = new Set<string>();
    for (let i = 0; i < 12; i += 1) {
      const { status, body } = await getJson(sandbox.listenerUrl as string);
      t.is(status, 200);
      versions.add(String(body?.version));
    }
    return versions;
  };
  t.deepEqual([...(await forward(0, 1))], ['v3']);
  t.deepEqual([...(await forward(1, 0))], ['v2']);
});

test.serial('a request in flight on an instance that terminates gets 502, as from an ALB', async (t) => {
  const aws = sandbox.clients();
  const v2Ids = (await targetHealth())
    .filter((d) => d.TargetHealth?.State === 'healthy')
    .map((d) => d.Target?.Id as string);
  t.true(v2Ids.length > 0);
  const slow = getJson(`${sandbox.listenerUrl}/?delay=30000`);
  const busy = await waitFor('the slow request to reach a target', async () =>
    sandbox.state().instances.find((i) => v2Ids.includes(i.instanceId) && i.inFlight > 0),
  );
  await aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [busy.instanceId] }));
  const answer = await slow;
  t.is(answer.status, 502);
  t.false(
    sandbox.state().instances.some((i) => i.instanceId === busy.instanceId),
    'its app is gone',
  );
});
