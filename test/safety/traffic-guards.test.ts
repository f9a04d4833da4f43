import test from 'ava';
import { CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import { CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describeAsgsByName } from '../../src/cluster/server-groups';
import { DEMO_HEALTH_CHECK } from '../../src/sandbox/demo-infra';
import { startProbe } from '../../src/sandbox/probe';
import { getClusterStatus } from '../../src/status/cluster-status';
import { registeredTargets, servingTargetIds } from '../helpers/cluster-fixture';
import { startDeploySandbox, type DeploySandbox } from '../helpers/deploy-sandbox';

// Spinnaker-style traffic guards, tried the way a demanding user would, on the sandbox with a probe running.
let env: DeploySandbox;
let tgA: string;
let tgB: { name: string; arn: string };
const amis: Record<string, string> = {};

type ErrorOutput = { error: { code: string; message: string; field?: string; exitCode: number } };

test.before(async () => {
  env = await startDeploySandbox();
  const infra = env.sandbox.infra!;
  tgA = infra.targetGroupArn;
  const created = await env.aws.elbv2.send(
    new CreateTargetGroupCommand({
      Name: 'web-admin-tg',
      Protocol: 'HTTP',
      Port: 80,
      VpcId: infra.vpcId,
      TargetType: 'instance',
      HealthCheckPath: DEMO_HEALTH_CHECK.path,
      HealthCheckIntervalSeconds: DEMO_HEALTH_CHECK.intervalSeconds,
      HealthCheckTimeoutSeconds: DEMO_HEALTH_CHECK.timeoutSeconds,
      HealthyThresholdCount: DEMO_HEALTH_CHECK.healthyThreshold,
      UnhealthyThresholdCount: DEMO_HEALTH_CHECK.unhealthyThreshold,
    }),
  );
  tgB = { name: 'web-admin-tg', arn: created.TargetGroups?.[0]?.TargetGroupArn as string };
  for (const version of ['1.0.0', '2.0.0', '3.0.0']) amis[version] = await env.ami(version);
  amis.halfBroken = await env.ami('4.0.0-half', 'partial:0.5');
  const first = await env.deploy({
    ...env.baseInput,
    targetGroups: [infra.targetGroupName, tgB.name],
    amiId: amis['1.0.0'],
    version: '1.0.0',
  });
  if (first.exitCode !== 0)
    throw new Error(`first deploy failed: ${JSON.stringify(first.output)}\n${env.lines.join('\n')}`);
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

function probe() {
  return startProbe({ url: env.listenerUrl, concurrency: 4, maxDurationMs: 240_000, maxRequests: 200_000 });
}

test.serial(
  'a deploy whose target groups leave one the cluster serves uncovered is refused: exit 2, nothing changed',
  async (t) => {
    const traffic = probe();
    env.sandbox.resetCalls();
    const result = await env.deploy({
      ...env.baseInput,
      targetGroups: [env.sandbox.infra!.targetGroupName],
      amiId: amis['2.0.0'],
      version: '2.0.0',
    });
    const mutating = env.sandbox.calls().mutating;
    const report = await traffic.stop();
    t.is(result.exitCode, 2, JSON.stringify(result.output));
    const { error } = result.output as ErrorOutput;
    t.is(error.field, 'targetGroups');
    t.regex(error.message, /web-admin-tg/, 'names the target group that would be left without servers');
    t.regex(error.message, /allowRemovingTargetGroups/, 'says how to ask for it explicitly');
    t.is(mutating, 0, 'no mutating AWS call');
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.is((await servingTargetIds(env.aws, tgB.arn)).length, 2, 'web-admin-tg still has its two servers');
  },
);

test.serial('capacity 0 while a group serves is refused: exit 2, nothing changed, traffic unaffected', async (t) => {
  const traffic = probe();
  env.sandbox.resetCalls();
  const result = await env.deploy({
    ...env.baseInput,
    targetGroups: undefined,
    capacity: { min: 0, max: 0, desired: 0 },
    amiId: amis['2.0.0'],
    version: '2.0.0',
  });
  const mutating = env.sandbox.calls().mutating;
  const report = await traffic.stop();
  t.is(result.exitCode, 2, JSON.stringify(result.output));
  const { error } = result.output as ErrorOutput;
  t.is(error.field, 'capacity.desired');
  t.regex(error.message, /allowScaleToZero/);
  t.is(mutating, 0, 'no mutating AWS call');
  t.is(report.failed, 0, JSON.stringify(report.failures));
  const status = await getClusterStatus(env.aws, 'web-prod');
  t.deepEqual(
    status.serverGroups.map((g) => `${g.name}:${g.state}:${g.capacity.desired}`),
    ['web-prod-v000:enabled:2'],
  );
});

test.serial(
  'a deploy that omits targetGroups keeps every target group of the serving group (0 failed requests)',
  async (t) => {
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      targetGroups: undefined,
      amiId: amis['2.0.0'],
      version: '2.0.0',
    });
    const report = await traffic.stop();
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-20).join('\n')}`);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    const [group] = await describeAsgsByName(env.aws, ['web-prod-v001']);
    t.deepEqual([...(group?.TargetGroupARNs ?? [])].sort(), [tgA, tgB.arn].sort());
    t.is((await servingTargetIds(env.aws, tgB.arn)).length, 2);
  },
);

test.serial(
  'a server group merely tagged for the cluster, or named like it without a deployment tag, is never touched',
  async (t) => {
    const infra = env.sandbox.infra!;
    // Someone else's groups: one tagged bluegreen:cluster=web-prod with another name, one named web-prod-v500 without our tags.
    for (const name of ['intruder-asg', 'web-prod-v500']) {
      const template = await env.aws.ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: `${name}-lt`,
          LaunchTemplateData: { ImageId: amis['1.0.0'], InstanceType: 't3.micro' },
        }),
      );
      await env.aws.autoScaling.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: name,
          LaunchTemplate: { LaunchTemplateId: template.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
          MinSize: 1,
          MaxSize: 1,
          DesiredCapacity: 1,
          VPCZoneIdentifier: infra.subnetIds.join(','),
          TargetGroupARNs: [tgA],
          Tags:
            name === 'intruder-asg'
              ? [
                  {
                    Key: 'bluegreen:cluster',
                    Value: 'web-prod',
                    PropagateAtLaunch: false,
                    ResourceId: name,
                    ResourceType: 'auto-scaling-group',
                  },
                ]
              : [],
        }),
      );
    }
    const before = await describeAsgsByName(env.aws, ['intruder-asg', 'web-prod-v500']);
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      targetGroups: undefined,
      amiId: amis['3.0.0'],
      version: '3.0.0',
      keepPrevious: 0,
    });
    const report = await traffic.stop();
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-20).join('\n')}`);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    const output = result.output as {
      serverGroup: string;
      disabledServerGroups: string[];
      destroyedServerGroups: string[];
    };
    t.is(output.serverGroup, 'web-prod-v002', 'numbering follows our own groups only');
    t.false(output.disabledServerGroups.some((name) => ['intruder-asg', 'web-prod-v500'].includes(name)));
    t.false(output.destroyedServerGroups.some((name) => ['intruder-asg', 'web-prod-v500'].includes(name)));
    const after = await describeAsgsByName(env.aws, ['intruder-asg', 'web-prod-v500']);
    t.is(after.length, 2, 'both foreign groups still exist');
    for (const group of after) {
      const old = before.find((g) => g.AutoScalingGroupName === group.AutoScalingGroupName);
      t.is(group.DesiredCapacity, old?.DesiredCapacity, `${group.AutoScalingGroupName} capacity unchanged`);
      t.is(group.MinSize, old?.MinSize, `${group.AutoScalingGroupName} min unchanged`);
      t.deepEqual(group.SuspendedProcesses ?? [], [], `${group.AutoScalingGroupName} not suspended`);
      const ids = (group.Instances ?? []).map((i) => i.InstanceId as string);
      const registered = await registeredTargets(env.aws, tgA);
      t.true(
        ids.every((id) => registered.includes(id)),
        `${group.AutoScalingGroupName} still registered`,
      );
    }
  },
);

test.serial(
  'targetHealthyPercent 50: the old group is not scaled down while the new one is not fully healthy',
  async (t) => {
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      targetGroups: undefined,
      amiId: amis.halfBroken,
      version: '4.0.0-half',
      targetHealthyPercent: 50,
      healthTimeout: '30s',
    });
    const report = await traffic.stop();
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-20).join('\n')}`);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    const output = result.output as {
      previousServerGroup: string;
      scaledDownServerGroups: string[];
      warmServerGroups: string[];
      warnings?: string[];
    };
    // Older groups whose (scheduled) scale-down time came may go to 0 meanwhile; the previous one must not.
    t.false(
      output.scaledDownServerGroups.includes(output.previousServerGroup),
      'the previous group is not scaled to 0',
    );
    t.deepEqual(output.warmServerGroups, [output.previousServerGroup], 'the previous group is kept warm');
    t.regex((output.warnings ?? []).join('\n'), /1\/2 healthy/);
    const [previous] = await describeAsgsByName(env.aws, [output.previousServerGroup]);
    t.is(previous?.DesiredCapacity, 2, 'the previous group still runs at full capacity for a fast rollback');
  },
);
