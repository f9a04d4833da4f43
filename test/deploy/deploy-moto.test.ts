import test from 'ava';
import {
  DescribeLifecycleHooksCommand,
  DescribePoliciesCommand,
  DescribeScheduledActionsCommand,
  PutLifecycleHookCommand,
  PutScalingPolicyCommand,
  PutScheduledUpdateGroupActionCommand,
  CreateOrUpdateTagsCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { awsClients } from '../../src/aws/clients';
import { globalCallCounter } from '../../src/aws/call-counter';
import { describeAsgsByName } from '../../src/cluster/server-groups';
import { createLogger } from '../../src/core/log';
import { executeStage } from '../../src/stages/framework';
import { deployStage } from '../../src/stages/deploy';
import { getClusterStatus } from '../../src/status/cluster-status';
import { listRecords } from '../../src/ledger';
import { createNetwork, someAmi, registeredTargets, type Network } from '../helpers/cluster-fixture';
import { startMoto, useEmulator, type MotoServer } from '../helpers/moto';

// Plain moto: targets are healthy at once. Traffic, health timing and draining are covered by the sandbox tests.
let moto: MotoServer;
let network: Network;
let amiId: string;
const region = 'us-east-1';
const ledger = { bucket: 'deploy-ledger', prefix: 'bluegreen' };

test.before(async () => {
  moto = await startMoto();
  useEmulator(moto.endpoint, region);
  process.env.BLUEGREEN_POLL_MIN_MS = '50';
  process.env.BLUEGREEN_POLL_MAX_MS = '200';
  const aws = awsClients(region);
  network = await createNetwork(aws);
  amiId = await someAmi(aws);
  await aws.s3.send(new CreateBucketCommand({ Bucket: ledger.bucket }));
});

test.after.always(async () => {
  await moto?.stop();
});

const lines: string[] = [];
const log = createLogger('deploy', (line) => lines.push(line));

async function runDeploy(input: Record<string, unknown>) {
  return executeStage(deployStage, { region, ...input }, log);
}

test.serial('first deploy creates v000 serving in the target group', async (t) => {
  const result = await runDeploy({
    app: 'web',
    stack: 'prod',
    amiId,
    targetGroups: [network.targetGroupName],
    capacity: { min: 2, max: 4, desired: 2 },
    instanceType: 't3.micro',
    subnets: network.subnetIds,
    ledger,
    version: '1.0.0',
    buildUrl: 'https://ci.example.com/job/web/1/',
    healthTimeout: '60s',
    drainTimeout: 30,
  });
  t.is(result.exitCode, 0, JSON.stringify(result.output));
  const output = result.output as Record<string, unknown>;
  t.is(output.serverGroup, 'web-prod-v000');
  t.is(output.previousServerGroup, null);
  const aws = awsClients(region);
  const [asg] = await describeAsgsByName(aws, ['web-prod-v000']);
  t.is(asg?.Instances?.length, 2);
  t.is(asg?.MinSize, 2, 'min unpinned back to the requested min');
  const registered = await registeredTargets(aws, network.targetGroupArn);
  t.deepEqual(registered.sort(), (asg?.Instances ?? []).map((i) => i.InstanceId as string).sort());
});

test.serial(
  'second deploy copies policies, scheduled actions, hooks and tags, then disables and scales down v000',
  async (t) => {
    const aws = awsClients(region);
    await aws.autoScaling.send(
      new PutScalingPolicyCommand({
        AutoScalingGroupName: 'web-prod-v000',
        PolicyName: 'cpu50',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
          TargetValue: 50,
        },
      }),
    );
    await aws.autoScaling.send(
      new PutScheduledUpdateGroupActionCommand({
        AutoScalingGroupName: 'web-prod-v000',
        ScheduledActionName: 'nightly',
        Recurrence: '0 2 * * *',
        MinSize: 1,
        MaxSize: 4,
        DesiredCapacity: 1,
      }),
    );
    await aws.autoScaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: 'web-prod-v000',
        LifecycleHookName: 'warmup',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        HeartbeatTimeout: 300,
        DefaultResult: 'CONTINUE',
      }),
    );
    await aws.autoScaling.send(
      new CreateOrUpdateTagsCommand({
        Tags: [
          {
            ResourceId: 'web-prod-v000',
            ResourceType: 'auto-scaling-group',
            Key: 'team',
            Value: 'payments',
            PropagateAtLaunch: true,
          },
        ],
      }),
    );
    const result = await runDeploy({
      cluster: 'web-prod',
      amiId,
      ledger,
      version: '1.0.1',
      healthTimeout: 60,
      drainTimeout: 30,
    });
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    const output = result.output as Record<string, unknown>;
    t.is(output.serverGroup, 'web-prod-v001');
    t.is(output.previousServerGroup, 'web-prod-v000');
    t.deepEqual(output.scaledDownServerGroups, ['web-prod-v000']);

    const policies = await aws.autoScaling.send(new DescribePoliciesCommand({ AutoScalingGroupName: 'web-prod-v001' }));
    t.deepEqual(
      policies.ScalingPolicies?.map((p) => p.PolicyName),
      ['cpu50'],
    );
    const scheduled = await aws.autoScaling.send(
      new DescribeScheduledActionsCommand({ AutoScalingGroupName: 'web-prod-v001' }),
    );
    t.deepEqual(
      scheduled.ScheduledUpdateGroupActions?.map((a) => a.ScheduledActionName),
      ['nightly'],
    );
    const hooks = await aws.autoScaling.send(
      new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'web-prod-v001' }),
    );
    t.deepEqual(
      hooks.LifecycleHooks?.map((h) => h.LifecycleHookName),
      ['warmup'],
    );
    const [v001] = await describeAsgsByName(aws, ['web-prod-v001']);
    t.true((v001?.Tags ?? []).some((tag) => tag.Key === 'team' && tag.Value === 'payments' && tag.PropagateAtLaunch));
    t.true((v001?.Tags ?? []).some((tag) => tag.Key === 'bluegreen:version' && tag.Value === '1.0.1'));

    const status = await getClusterStatus(aws, 'web-prod');
    const byName = Object.fromEntries(status.serverGroups.map((g) => [g.name, g]));
    t.is(byName['web-prod-v000']?.state, 'disabled');
    t.is(byName['web-prod-v000']?.capacity.desired, 0);
    t.is(byName['web-prod-v001']?.state, 'enabled');
    t.is(status.active, 'web-prod-v001');
  },
);

test.serial('keepPrevious bounds the disabled groups left; the ledger has one record per step', async (t) => {
  for (const version of ['1.0.2', '1.0.3']) {
    const result = await runDeploy({
      cluster: 'web-prod',
      amiId,
      ledger,
      version,
      keepPrevious: 1,
      healthTimeout: 60,
      drainTimeout: 30,
    });
    t.is(result.exitCode, 0, JSON.stringify(result.output));
  }
  const status = await getClusterStatus(awsClients(region), 'web-prod');
  t.deepEqual(
    status.serverGroups.map((g) => `${g.name}:${g.state}`),
    ['web-prod-v002:disabled', 'web-prod-v003:enabled'],
  );
  const records = await listRecords(awsClients(region), ledger, 'web-prod', { limit: 20 });
  const succeeded = records.filter((r) => r.kind === 'deploy' && r.result === 'succeeded').map((r) => r.version);
  t.deepEqual(succeeded, ['1.0.3', '1.0.2', '1.0.1', '1.0.0'], lines.filter((l) => / WARN /.test(l)).join('\n'));
});

test.serial('--plan changes nothing', async (t) => {
  globalCallCounter.reset();
  const result = await runDeploy({ cluster: 'web-prod', amiId, ledger, plan: true });
  t.is(result.exitCode, 0, JSON.stringify(result.output));
  const output = result.output as Record<string, unknown>;
  t.is(output.status, 'planned');
  t.is(output.serverGroup, 'web-prod-v004');
  const mutating = Object.keys(globalCallCounter.snapshot()).filter((k) => !/:(Describe|List|Get|Head)/.test(k));
  t.deepEqual(mutating, []);
});
