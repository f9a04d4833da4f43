import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  PutWarmPoolCommand,
  SetDesiredCapacityCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
  type LaunchTemplateOverrides,
  type LaunchTemplateSpecification,
  type UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, type Instance } from '@aws-sdk/client-ec2';
import { Phase } from '../../src/cluster/phases';
import { describeAsgsByName, describeTargetHealth } from '../../src/cluster/server-groups';
import { formatClusterStatus, getClusterStatus } from '../../src/status/cluster-status';
import { deleteServerGroupNow, scaleOutWhenPhase, type DeploySandbox } from '../helpers/deploy-sandbox';
import { emulatorEnv } from '../helpers/moto';
import { waitFor } from '../sandbox/fixtures';
import { deploy, probeLine, rollback, startRollbackSandbox, versionsNow, withProbe } from '../rollback/helpers';

// Issue #22: a real fleet (spot + instance-type overrides, a warm pool) survives a deploy and a
// rollback exactly, as the AWS CLI v2 sees it; a serving group that scales out during the
// health wait hands its capacity over to the new group.
const run = promisify(execFile);
const AWS_V2 = '/usr/bin/aws';
const cluster = 'web-prod';
const v = (n: number) => `${cluster}-v${String(n).padStart(3, '0')}`;
let env: DeploySandbox;
const amis = { v1: '', v2: '', v3: '', v4: '', v5: '', v6: '' };

/** The user's fleet on the serving group: two instance types, 25 % on-demand above a base of 0, a stopped warm pool. */
const DISTRIBUTION = {
  OnDemandBaseCapacity: 0,
  OnDemandPercentageAboveBaseCapacity: 25,
  SpotAllocationStrategy: 'price-capacity-optimized',
  OnDemandAllocationStrategy: 'prioritized',
};
const OVERRIDES = [{ InstanceType: 't3.micro' }, { InstanceType: 't3a.micro' }];
const WARM_POOL = {
  MinSize: 1,
  MaxGroupPreparedCapacity: 3,
  PoolState: 'Stopped',
  InstanceReusePolicy: { ReuseOnScaleIn: true },
} as const;

/** What the AWS CLI v2 says, as JSON (it ignores AWS_ENDPOINT_URL: the endpoint is passed). */
async function cli(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(
    AWS_V2,
    [...args, '--endpoint-url', env.sandbox.endpoint, '--region', 'us-east-1', '--output', 'json'],
    { env: { ...process.env, ...emulatorEnv(env.sandbox.endpoint), AWS_PAGER: '' }, timeout: 60_000 },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

async function groupByCli(name: string): Promise<AutoScalingGroup> {
  const answer = await cli('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', name);
  const [group] = answer.AutoScalingGroups as AutoScalingGroup[];
  if (!group) throw new Error(`${name} not found by the AWS CLI`);
  return group;
}

async function instancesByCli(ids: string[]): Promise<Instance[]> {
  const answer = await cli('ec2', 'describe-instances', '--instance-ids', ...ids);
  return (answer.Reservations as Array<{ Instances: Instance[] }>).flatMap((r) => r.Instances);
}

/** Once `created` waits to be healthy, `serving` goes to `desired` (a scaling policy, played by the test). */
function scaleOutWhileWaiting(serving: string, created: string, desired: number): Promise<boolean> {
  return scaleOutWhenPhase(env.aws, { serving, created, phase: Phase.waitingHealthy, desired });
}

/** Gives a group a mixed instances policy, as a user would: `template` as its base, the distribution. */
async function setMixedPolicy(
  group: string,
  template: LaunchTemplateSpecification,
  overrides: LaunchTemplateOverrides[],
): Promise<void> {
  await env.aws.autoScaling.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: group,
      MixedInstancesPolicy: {
        LaunchTemplate: { LaunchTemplateSpecification: template, Overrides: overrides },
        InstancesDistribution: DISTRIBUTION,
      },
    }),
  );
}

test.before(async () => {
  env = await startRollbackSandbox();
  for (const version of ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'] as const) amis[version] = await env.ami(version);
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

test.serial(
  'a deploy keeps the mixed instances policy and the warm pool exactly (AWS CLI v2), 0 failed requests',
  async (t) => {
    const first = await deploy(t, env, { cluster, amiId: amis.v1, version: 'v1' });
    t.is(first.exitCode, 0, JSON.stringify(first.output));
    // The user turns the serving group into a spot fleet with a warm pool, as in the issue.
    const template = first.output.launchTemplate!;
    await setMixedPolicy(v(0), { LaunchTemplateId: template.id, Version: template.version }, OVERRIDES);
    await env.aws.autoScaling.send(new PutWarmPoolCommand({ AutoScalingGroupName: v(0), ...WARM_POOL }));
    const source = await groupByCli(v(0));
    t.truthy(source.MixedInstancesPolicy, 'moto keeps the policy');

    const { result, report } = await withProbe(env, () => deploy(t, env, { cluster, amiId: amis.v2, version: 'v2' }));
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    t.log(`probe: ${probeLine(report)}`);
    t.is(report.failed, 0, JSON.stringify(report.failedSamples.slice(0, 5)));
    const created = await groupByCli(v(1));
    const newTemplate = result.output.launchTemplate!;
    const policy = created.MixedInstancesPolicy;
    t.is(created.LaunchTemplate, undefined, 'launched through the mixed policy, not a plain launch template');
    t.is(policy?.LaunchTemplate?.LaunchTemplateSpecification?.LaunchTemplateId, newTemplate.id, 'the new AMI');
    t.is(policy?.LaunchTemplate?.LaunchTemplateSpecification?.Version, newTemplate.version);
    t.deepEqual(policy?.LaunchTemplate?.Overrides, source.MixedInstancesPolicy?.LaunchTemplate?.Overrides);
    t.deepEqual(policy?.InstancesDistribution, source.MixedInstancesPolicy?.InstancesDistribution);
    for (const key of Object.keys(DISTRIBUTION) as Array<keyof typeof DISTRIBUTION>)
      t.is(policy?.InstancesDistribution?.[key], DISTRIBUTION[key], `InstancesDistribution.${key}`);
    t.deepEqual(created.WarmPoolConfiguration, source.WarmPoolConfiguration, 'the warm pool, field by field');
    t.like(created.WarmPoolConfiguration, WARM_POOL);

    const instances = await instancesByCli((created.Instances ?? []).map((i) => i.InstanceId as string));
    t.is(instances.length, 2);
    t.true(
      instances.every((i) => ['t3.micro', 't3a.micro'].includes(i.InstanceType ?? '')),
      JSON.stringify(instances.map((i) => i.InstanceType)),
    );
    t.is(instances.filter((i) => i.InstanceLifecycle === 'spot').length, 1, '25 % on-demand of 2: one spot');
    t.true(instances.every((i) => i.ImageId === amis.v2));

    t.is((await groupByCli(v(0))).WarmPoolConfiguration, undefined, 'the previous group, disabled, has no warm pool');
    // The deploy returned at cutover: its scheduled action scales the previous group down after the drain.
    const previous = await waitFor(
      `${v(0)} scaled down by its scheduled action`,
      async () => {
        const group = await groupByCli(v(0));
        return group.DesiredCapacity === 0 ? group : undefined;
      },
      120_000,
      250,
    );
    t.is(previous.DesiredCapacity, 0, 'the previous group scaled down');
    const status = await getClusterStatus(env.aws, cluster);
    const serving = status.serverGroups.find((g) => g.name === v(1));
    t.like(serving?.mixedInstances, {
      instanceTypes: ['t3.micro', 't3a.micro'],
      spotAllocationStrategy: 'price-capacity-optimized',
      shares: { onDemand: 1, spot: 1 },
    });
    t.like(serving?.warmPool, { minSize: 1, maxGroupPreparedCapacity: 3, poolState: 'Stopped', reuseOnScaleIn: true });
    t.regex(formatClusterStatus(status), /web-prod-v001: 1 on-demand \+ 1 spot of 2 .*warm pool Stopped, min 1/);
    t.deepEqual(await versionsNow(env), { v2: 20 });
  },
);

test.serial(
  'a rollback re-enables the previous group with its own mixed policy and the warm pool back, 0 failed requests',
  async (t) => {
    const before = await groupByCli(v(1));
    const { result, report } = await withProbe(env, () => rollback(t, env, { cluster, reason: 'fleet test' }));
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    t.is(result.output.mode, 'reenable');
    t.is(result.output.restoredServerGroup, v(0));
    t.log(`probe: ${probeLine(report)}`);
    t.is(report.failed, 0, JSON.stringify(report.failedSamples.slice(0, 5)));
    const restored = await groupByCli(v(0));
    t.deepEqual(
      restored.MixedInstancesPolicy?.LaunchTemplate?.Overrides,
      before.MixedInstancesPolicy?.LaunchTemplate?.Overrides,
    );
    t.deepEqual(
      restored.MixedInstancesPolicy?.InstancesDistribution,
      before.MixedInstancesPolicy?.InstancesDistribution,
    );
    t.deepEqual(restored.WarmPoolConfiguration, before.WarmPoolConfiguration, 'warm pool back, field by field');
    t.is((await groupByCli(v(1))).WarmPoolConfiguration, undefined, 'the rolled-back group, scaled down, has none');
    t.deepEqual(await versionsNow(env), { v1: 20 });
  },
);

test.serial(
  'the serving group scales out 2 → 4 during the health wait: the new group takes traffic at 4, 0 failed requests',
  async (t) => {
    const scaler = scaleOutWhileWaiting(v(0), v(2), 4);
    const { result, report } = await withProbe(env, () => deploy(t, env, { cluster, amiId: amis.v3, version: 'v3' }));
    t.true(await scaler, 'the serving group was scaled out during the wait');
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    t.log(`probe: ${probeLine(report)}`);
    t.is(report.failed, 0, JSON.stringify(report.failedSamples.slice(0, 5)));
    t.is(result.output.capacity.desired, 4, 'the output says the new group took over 4');
    const [created] = await describeAsgsByName(env.aws, [v(2)]);
    t.is(created?.DesiredCapacity, 4);
    t.is((created?.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length, 4);
    t.is(created?.MinSize, 2, 'the pinned min went back to the plan: a later scale-in is not blocked');
    t.deepEqual(await versionsNow(env), { v3: 20 });
  },
);

test.serial(
  "a rollback that redeploys (the target's group destroyed) keeps the mixed policy and the warm pool, 0 failed requests",
  async (t) => {
    const forward = await deploy(t, env, { cluster, amiId: amis.v4, version: 'v4', keepPrevious: 0 });
    t.is(forward.exitCode, 0, JSON.stringify(forward.output));
    // Returned at cutover: the v3 group is disabled, left to its scheduled scale-down; gone, a rollback must redeploy.
    t.true(forward.output.disabledServerGroups.includes(v(2)), JSON.stringify(forward.output));
    await deleteServerGroupNow(env, v(2));
    const serving = await groupByCli(v(3));
    const { result, report } = await withProbe(env, () =>
      rollback(t, env, { cluster, reason: 'fleet redeploy', keepPrevious: 0 }),
    );
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    t.is(result.output.mode, 'redeploy');
    t.log(`probe: ${probeLine(report)}`);
    t.is(report.failed, 0, JSON.stringify(report.failedSamples.slice(0, 5)));
    const redeployed = await groupByCli(result.output.restoredServerGroup);
    t.deepEqual(
      redeployed.MixedInstancesPolicy?.LaunchTemplate?.Overrides,
      serving.MixedInstancesPolicy?.LaunchTemplate?.Overrides,
    );
    t.deepEqual(
      redeployed.MixedInstancesPolicy?.InstancesDistribution,
      serving.MixedInstancesPolicy?.InstancesDistribution,
    );
    t.not(
      redeployed.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification?.LaunchTemplateId,
      serving.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification?.LaunchTemplateId,
      'its own launch template (the AMI rolled back to)',
    );
    t.deepEqual(redeployed.WarmPoolConfiguration, serving.WarmPoolConfiguration, 'warm pool, field by field');
    t.deepEqual(await versionsNow(env), { v3: 20 });
  },
);

test.serial(
  'rolling [50, 100]: the serving group scales out 2 → 4 during the first step: 2 at 50 %, 4 at the end, 0 failed requests',
  async (t) => {
    const serving = v(4);
    await env.aws.autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: serving, DesiredCapacity: 2 }),
    );
    // moto terminates the two at once (AWS would deregister them first): wait until the load balancer let them go.
    const [group] = await describeAsgsByName(env.aws, [serving]);
    for (let tries = 0; tries < 100; tries += 1) {
      const health = await describeTargetHealth(env.aws, group?.TargetGroupARNs ?? []);
      if ([...health.values()].every((targets) => targets.length === 2)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await versionsNow(env);
    const scaler = scaleOutWhileWaiting(serving, v(5), 4);
    const { result, report } = await withProbe(env, () =>
      deploy(t, env, {
        cluster,
        amiId: amis.v5,
        version: 'v5',
        capacity: { min: 2, max: 4, desired: 2 },
        strategy: 'rolling',
        steps: '50,100',
        stepWatch: '2s',
      }),
    );
    t.true(await scaler, 'the serving group was scaled out during the first step');
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    t.log(`probe: ${probeLine(report)}`);
    t.is(report.failed, 0, JSON.stringify(report.failedSamples.slice(0, 5)));
    t.is(result.output.capacity.desired, 4, 'the output says the new group took over 4');
    const [created] = await describeAsgsByName(env.aws, [v(5)]);
    t.is(created?.DesiredCapacity, 4);
    t.is((created?.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length, 4);
    t.deepEqual(await versionsNow(env), { v5: 20 });
  },
);

test.serial(
  'an override naming another launch template (the old AMI) is refused: exit 2 naming the field, nothing changed',
  async (t) => {
    const serving = await groupByCli(v(5));
    const other = await env.aws.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'web-arm64',
        LaunchTemplateData: { ImageId: amis.v1, InstanceType: 't4g.micro' },
      }),
    );
    const spec = serving.MixedInstancesPolicy!.LaunchTemplate!.LaunchTemplateSpecification!;
    await setMixedPolicy(v(5), { LaunchTemplateId: spec.LaunchTemplateId, Version: spec.Version }, [
      { InstanceType: 't3.micro' },
      {
        InstanceType: 't4g.micro',
        LaunchTemplateSpecification: { LaunchTemplateId: other.LaunchTemplate?.LaunchTemplateId, Version: '1' },
      },
    ]);
    const result = await deploy(t, env, { cluster, amiId: amis.v4, version: 'v4-again' });
    t.is(result.exitCode, 2, JSON.stringify(result.output));
    t.regex(
      JSON.stringify(result.output.error),
      /MixedInstancesPolicy\.LaunchTemplate\.Overrides\[1\]\.LaunchTemplateSpecification/,
    );
    t.deepEqual(await describeAsgsByName(env.aws, [v(6)]), [], 'no group made');
    t.is((await groupByCli(v(5))).MinSize, serving.MinSize, 'the serving group untouched (no pin)');
    t.deepEqual(await versionsNow(env), { v5: 20 });
  },
);

/** Units of desired capacity a group's InService instances give, each weighing its type's `weights` entry. */
function unitsOf(group: AutoScalingGroup | undefined, weights: Record<string, number>): number {
  return (group?.Instances ?? [])
    .filter((i) => i.LifecycleState === 'InService')
    .reduce((sum, i) => sum + (weights[i.InstanceType ?? ''] ?? 1), 0);
}

/** Gives the serving `group` other overrides (on its own launch template) and group `settings`, as a user would. */
async function reshapeFleet(
  group: string,
  overrides: LaunchTemplateOverrides[],
  settings: Omit<UpdateAutoScalingGroupCommandInput, 'AutoScalingGroupName'>,
): Promise<void> {
  const spec = (await groupByCli(group)).MixedInstancesPolicy!.LaunchTemplate!.LaunchTemplateSpecification!;
  await setMixedPolicy(group, { LaunchTemplateId: spec.LaunchTemplateId, Version: spec.Version }, overrides);
  await env.aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group, ...settings }));
}

test.serial(
  'weighted overrides (t3.micro 1, t3.large 2): desired counts units; the new group takes over at ≥ the previous units, 0 failed requests',
  async (t) => {
    const previous = v(5);
    const weights = { 't3.micro': 1, 't3.large': 2 };
    const overrides = Object.entries(weights).map(([type, weight]) => ({
      InstanceType: type,
      WeightedCapacity: String(weight),
    }));
    await reshapeFleet(previous, overrides, { DesiredCapacityType: 'units' });
    const before = await groupByCli(previous);
    t.is(before.DesiredCapacityType, 'units');
    const { result, report } = await withProbe(env, () =>
      deploy(t, env, { cluster, amiId: amis.v6, version: 'v6', capacity: { min: 2, max: 8, desired: 4 } }),
    );
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    t.log(`probe: ${probeLine(report)}`);
    t.is(report.failed, 0, JSON.stringify(report.failedSamples.slice(0, 5)));
    const created = await groupByCli(v(6));
    t.is(created.DesiredCapacityType, 'units', 'the capacity type copied');
    t.deepEqual(
      created.MixedInstancesPolicy?.LaunchTemplate?.Overrides,
      before.MixedInstancesPolicy?.LaunchTemplate?.Overrides,
    );
    const units = unitsOf(created, weights);
    t.true(units >= (before.DesiredCapacity ?? 0), `${units} units take over from ${before.DesiredCapacity}`);
    t.true(
      (created.Instances ?? []).length < units,
      `fewer instances than units: ${JSON.stringify(created.Instances?.map((i) => i.InstanceType))}`,
    );
    t.deepEqual(await versionsNow(env), { v6: 20 });
  },
);

test.serial(
  'DesiredCapacityType vcpu with instance requirements: desired 8 vCPUs is 4 t3.micro (2 vCPUs each); the new group takes over at ≥ 8 vCPUs, 0 failed requests',
  async (t) => {
    const previous = v(6);
    await reshapeFleet(
      previous,
      [{ InstanceRequirements: { VCpuCount: { Min: 2, Max: 4 }, MemoryMiB: { Min: 1024 } } }],
      { DesiredCapacityType: 'vcpu', MinSize: 4, MaxSize: 16, DesiredCapacity: 8 },
    );
    const before = await groupByCli(previous);
    t.is(before.DesiredCapacityType, 'vcpu');
    const { result, report } = await withProbe(env, () =>
      deploy(t, env, { cluster, amiId: amis.v2, version: 'v2-vcpu', capacity: { min: 4, max: 16, desired: 8 } }),
    );
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    t.log(`probe: ${probeLine(report)}`);
    t.is(report.failed, 0, JSON.stringify(report.failedSamples.slice(0, 5)));
    const created = await groupByCli(v(7));
    t.is(created.DesiredCapacityType, 'vcpu', 'the capacity type copied');
    t.is(created.DesiredCapacity, 8);
    const vcpus = unitsOf(created, { 't3.micro': 2 });
    t.true(vcpus >= 8, `${vcpus} vCPUs take over from 8`);
    t.is((created.Instances ?? []).length, 4, JSON.stringify(created.Instances?.map((i) => i.InstanceType)));
    t.deepEqual(await versionsNow(env), { v2: 20 });
  },
);

test.serial(
  'a vcpu group whose instance types cannot be read (DescribeInstanceTypes denied): exit 2 naming DesiredCapacityType, 0 mutating calls',
  async (t) => {
    const fault = env.sandbox.addFault({
      kind: 'fail',
      service: 'ec2',
      action: 'DescribeInstanceTypes',
      count: 100,
      code: 'UnauthorizedOperation',
      status: 403,
    });
    try {
      env.sandbox.resetCalls();
      const result = await deploy(t, env, { cluster, amiId: amis.v3, version: 'v3-denied' });
      const calls = env.sandbox.calls();
      t.is(result.exitCode, 2, JSON.stringify(result.output));
      t.is(result.output.error?.field, 'DesiredCapacityType', JSON.stringify(result.output.error));
      t.regex(
        String(result.output.error?.message),
        /web-prod-v007 is vcpu: .*ec2:DescribeInstanceTypes.*nothing was changed/,
      );
      t.is(calls.mutating, 0, `mutating attempts: ${JSON.stringify(calls.calls)}`);
    } finally {
      env.sandbox.removeFault(fault.id);
    }
    t.deepEqual(await describeAsgsByName(env.aws, [v(8)]), [], 'no group made');
  },
);
