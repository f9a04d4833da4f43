import test from 'ava';
import {
  AttachInstancesCommand,
  AttachLoadBalancersCommand,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  AttachLoadBalancerTargetGroupsCommand,
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  DetachInstancesCommand,
  DetachLoadBalancerTargetGroupsCommand,
  SetDesiredCapacityCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../src/aws/clients';
import { silentLogger } from '../../src/core/log';
import { classicElbCall } from '../../src/sandbox/classic-elb';
import { createDemoInfra, type DemoInfra } from '../../src/sandbox/demo-infra';
import { startGateway, type Gateway } from '../../src/sandbox/gateway';
import { startMotoProcess, type MotoProcess } from '../../src/sandbox/moto-process';
import { motoClients, MotoWorldReader, type WorldSnapshot } from '../../src/sandbox/moto-world';
import { sandboxClients } from '../../src/sandbox/sandbox';
import { TrafficLayer } from '../../src/sandbox/traffic-layer';
import { createAppAsg, makeAppAmi } from './fixtures';

/**
 * The traffic layer reads again only what a mutating call touched (world-effects.ts): after
 * a seeded random sequence of mutating calls through the gateway, its world must equal a
 * full read of moto after every one of them.
 */

let moto: MotoProcess;
let layer: TrafficLayer;
let gateway: Gateway;
let aws: AwsClients;
let infra: DemoInfra;
let motoEndpoint: string;

test.before(async () => {
  moto = await startMotoProcess();
  // The background poll's safety-net full read would hide a wrong partial read: keep it away.
  layer = new TrafficLayer({
    motoEndpoint: moto.endpoint,
    region: 'us-east-1',
    timeScale: 0.05,
    bootSeconds: 10,
    pollMs: 600_000,
    log: silentLogger,
  });
  await layer.start();
  gateway = await startGateway({
    motoEndpoint: moto.endpoint,
    port: 0,
    log: silentLogger,
    hooks: layer.gatewayHooks(),
  });
  aws = sandboxClients(gateway.endpoint, 'us-east-1');
  infra = await createDemoInfra(aws);
  motoEndpoint = moto.endpoint;
});

test.after.always(async () => {
  await gateway?.stop();
  await layer?.stop();
  await moto?.stop();
});

/** All of moto, read afresh (a new reader: nothing cached). */
function fullRead(): Promise<WorldSnapshot> {
  return new MotoWorldReader(motoClients(motoEndpoint, 'us-east-1')).read();
}

/** What DescribeAutoScalingGroups and DescribeTargetHealth say about membership, from `clients` (the gateway or moto). */
async function membership(
  clients: Pick<AwsClients, 'autoScaling' | 'elbv2'>,
  targetGroupArns: string[],
): Promise<unknown> {
  const groups = await clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
  const targets: Record<string, string[]> = {};
  for (const arn of targetGroupArns) {
    const health = await clients.elbv2
      .send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))
      .catch(() => undefined);
    targets[arn] = (health?.TargetHealthDescriptions ?? [])
      // The sandbox adds targets still draining, which moto no longer lists.
      .filter((d) => d.TargetHealth?.State !== 'draining')
      .map((d) => d.Target?.Id ?? '')
      .sort();
  }
  return {
    groups: (groups.AutoScalingGroups ?? [])
      .map((g) => ({
        name: g.AutoScalingGroupName,
        desired: g.DesiredCapacity,
        instances: (g.Instances ?? []).map((i) => i.InstanceId).sort(),
        targetGroups: [...(g.TargetGroupARNs ?? [])].sort(),
      }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    targets,
  };
}

/** A world as plain sorted data, to compare two reads. */
function normalized(world: WorldSnapshot | undefined): unknown {
  if (!world) return undefined;
  const sortedEntries = <T>(map: Map<string, T>, f: (v: T) => unknown = (v) => v): [string, unknown][] =>
    [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, f(v)]);
  return {
    instances: sortedEntries(world.instances),
    imageTags: sortedEntries(world.imageTags),
    targetGroups: sortedEntries(world.targetGroups, (g) => ({
      ...g,
      targets: [...g.targets].sort((a, b) => a.id.localeCompare(b.id)),
    })),
    listeners: sortedEntries(world.listeners),
    asgs: sortedEntries(world.asgs, (a) => ({ ...a, targetGroupArns: [...a.targetGroupArns].sort() })),
    classicLoadBalancers: sortedEntries(world.classicLoadBalancers ?? new Map(), (c) => ({
      ...c,
      instances: [...c.instances].sort(),
    })),
  };
}

/** Park–Miller: the same sequence every run. */
function dice(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 48271) % 2147483647;
    return state % n;
  };
}

test.serial(
  'after each of ~60 mutating calls of every kind, in random order, the partially refreshed world equals a full read of moto',
  async (t) => {
    const roll = dice(13);
    const pick = <T>(items: T[]): T | undefined => (items.length > 0 ? items[roll(items.length)] : undefined);
    const amis = [await makeAppAmi(aws, '1.0.0'), await makeAppAmi(aws, '2.0.0')];
    const extraTargetGroups: string[] = [];
    let groups = 0;
    let classics = 0;
    const classic = (action: string, params: Record<string, string>) =>
      classicElbCall(gateway.endpoint, 'us-east-1', action, params);
    const world = (): WorldSnapshot => layer.currentWorld() as WorldSnapshot;
    const asgNames = (): string[] => [...world().asgs.keys()];
    const running = (): string[] =>
      [...world().instances.values()].filter((i) => i.state === 'running').map((i) => i.id);
    const inAsg = (): { id: string; asg: string }[] =>
      [...world().instances.values()]
        .filter((i) => i.state === 'running' && i.asgName)
        .map((i) => ({ id: i.id, asg: i.asgName as string }));
    const targetGroupArns = (): string[] => [infra.targetGroupArn, ...extraTargetGroups];

    type Operation = { name: string; run: () => Promise<unknown> };
    const operations: Operation[] = [
      {
        name: 'CreateAutoScalingGroup',
        run: () => createAppAsg(aws, infra, `world-${(groups += 1)}`, pick(amis) as string, 1 + roll(3)),
      },
      {
        name: 'CreateAutoScalingGroup (numbered launch template version, as bluegreen does)',
        run: async () => {
          const name = `world-${(groups += 1)}`;
          const template = await aws.ec2.send(
            new CreateLaunchTemplateCommand({
              LaunchTemplateName: `${name}-lt`,
              LaunchTemplateData: { ImageId: pick(amis) as string, InstanceType: 't3.micro' },
            }),
          );
          const size = 1 + roll(3);
          await aws.autoScaling.send(
            new CreateAutoScalingGroupCommand({
              AutoScalingGroupName: name,
              LaunchTemplate: { LaunchTemplateId: template.LaunchTemplate?.LaunchTemplateId, Version: '1' },
              MinSize: 0,
              MaxSize: 4,
              DesiredCapacity: size,
              VPCZoneIdentifier: infra.subnetIds.join(','),
              TargetGroupARNs: [infra.targetGroupArn],
              HealthCheckType: 'ELB',
              HealthCheckGracePeriod: 1,
            }),
          );
        },
      },
      {
        name: 'CreateLaunchTemplateVersion + UpdateAutoScalingGroup to it (scale out)',
        run: async () => {
          const asg = pick([...world().asgs.values()].filter((a) => /:\d+$/.test(a.launchTemplate ?? '')));
          if (!asg?.launchTemplate) return;
          const [id] = asg.launchTemplate.split(':');
          const version = await aws.ec2.send(
            new CreateLaunchTemplateVersionCommand({
              LaunchTemplateId: id,
              LaunchTemplateData: { ImageId: pick(amis) as string, InstanceType: 't3.micro' },
            }),
          );
          await aws.autoScaling.send(
            new UpdateAutoScalingGroupCommand({
              AutoScalingGroupName: asg.name,
              LaunchTemplate: { LaunchTemplateId: id, Version: String(version.LaunchTemplateVersion?.VersionNumber) },
              MinSize: 0,
              MaxSize: 4,
              DesiredCapacity: 4,
            }),
          );
        },
      },
      {
        name: 'UpdateAutoScalingGroup',
        run: async () => {
          const name = pick(asgNames());
          const size = roll(4);
          if (name)
            await aws.autoScaling.send(
              new UpdateAutoScalingGroupCommand({
                AutoScalingGroupName: name,
                MinSize: size,
                MaxSize: 4,
                DesiredCapacity: size,
                ...(roll(2) ? { HealthCheckGracePeriod: 1 + roll(30) } : {}),
              }),
            );
        },
      },
      {
        name: 'SetDesiredCapacity',
        run: async () => {
          const name = pick(asgNames());
          if (name)
            await aws.autoScaling.send(
              new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: 0, MaxSize: 4 }),
            );
          if (name)
            await aws.autoScaling.send(
              new SetDesiredCapacityCommand({ AutoScalingGroupName: name, DesiredCapacity: roll(4) }),
            );
        },
      },
      {
        name: 'TerminateInstanceInAutoScalingGroup',
        run: async () => {
          const member = pick(inAsg());
          if (member)
            await aws.autoScaling.send(
              new TerminateInstanceInAutoScalingGroupCommand({
                InstanceId: member.id,
                ShouldDecrementDesiredCapacity: roll(2) === 0,
              }),
            );
        },
      },
      {
        name: 'DetachInstances + AttachInstances',
        run: async () => {
          const member = pick(inAsg());
          if (!member) return;
          await aws.autoScaling.send(
            new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: member.asg, MinSize: 0, MaxSize: 4 }),
          );
          await aws.autoScaling.send(
            new DetachInstancesCommand({
              AutoScalingGroupName: member.asg,
              InstanceIds: [member.id],
              ShouldDecrementDesiredCapacity: true,
            }),
          );
          t.deepEqual(normalized(world()), normalized(await fullRead()), 'after DetachInstances');
          const other = pick(asgNames());
          if (other && roll(2))
            await aws.autoScaling.send(
              new AttachInstancesCommand({ AutoScalingGroupName: other, InstanceIds: [member.id] }),
            );
        },
      },
      {
        name: 'DeregisterTargets',
        run: async () => {
          const arn = pick(targetGroupArns()) as string;
          const target = pick(world().targetGroups.get(arn)?.targets ?? []);
          if (target)
            await aws.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: target.id }] }));
        },
      },
      {
        name: 'RegisterTargets',
        run: async () => {
          const id = pick(running());
          if (id)
            await aws.elbv2.send(
              new RegisterTargetsCommand({ TargetGroupArn: pick(targetGroupArns()) as string, Targets: [{ Id: id }] }),
            );
        },
      },
      {
        name: 'CreateTargetGroup + AttachLoadBalancerTargetGroups',
        run: async () => {
          const created = await aws.elbv2.send(
            new CreateTargetGroupCommand({
              Name: `world-tg-${extraTargetGroups.length + 1}`,
              Protocol: 'HTTP',
              Port: 8080,
              VpcId: infra.vpcId,
              HealthCheckPath: '/health',
              HealthCheckIntervalSeconds: 10,
            }),
          );
          const arn = created.TargetGroups?.[0]?.TargetGroupArn as string;
          extraTargetGroups.push(arn);
          const name = pick(asgNames());
          if (name)
            await aws.autoScaling.send(
              new AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: name, TargetGroupARNs: [arn] }),
            );
        },
      },
      {
        name: 'DetachLoadBalancerTargetGroups',
        run: async () => {
          const name = pick(asgNames());
          const arn = pick(world().asgs.get(name ?? '')?.targetGroupArns ?? []);
          if (name && arn)
            await aws.autoScaling.send(
              new DetachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: name, TargetGroupARNs: [arn] }),
            );
        },
      },
      {
        name: 'ModifyTargetGroup + ModifyTargetGroupAttributes',
        run: async () => {
          const arn = pick(targetGroupArns()) as string;
          await aws.elbv2.send(
            new ModifyTargetGroupCommand({ TargetGroupArn: arn, HealthyThresholdCount: 2 + roll(4) }),
          );
          await aws.elbv2.send(
            new ModifyTargetGroupAttributesCommand({
              TargetGroupArn: arn,
              Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(5 + roll(60)) }],
            }),
          );
        },
      },
      {
        name: 'ModifyListener (forward to another target group)',
        run: () =>
          aws.elbv2.send(
            new ModifyListenerCommand({
              ListenerArn: infra.listenerArn,
              DefaultActions: [{ Type: 'forward', TargetGroupArn: pick(targetGroupArns()) as string }],
            }),
          ),
      },
      {
        name: 'DeleteTargetGroup',
        run: async () => {
          const arn = extraTargetGroups.pop();
          if (!arn) return;
          // Out of every ASG and listener first, as AWS requires (ResourceInUse).
          for (const asg of world().asgs.values())
            if (asg.targetGroupArns.includes(arn))
              await aws.autoScaling.send(
                new DetachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: asg.name, TargetGroupARNs: [arn] }),
              );
          await aws.elbv2.send(
            new ModifyListenerCommand({
              ListenerArn: infra.listenerArn,
              DefaultActions: [{ Type: 'forward', TargetGroupArn: infra.targetGroupArn }],
            }),
          );
          await aws.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
        },
      },
      {
        name: 'TerminateInstances (EC2)',
        run: async () => {
          const id = pick(running());
          if (id) await aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
        },
      },
      {
        name: 'RunInstances (EC2, effect unknown: full read)',
        run: () =>
          aws.ec2.send(
            new RunInstancesCommand({
              ImageId: pick(amis) as string,
              MinCount: 1,
              MaxCount: 1,
              InstanceType: 't3.micro',
            }),
          ),
      },
      {
        name: 'CreateTags on an AMI',
        run: () =>
          aws.ec2.send(
            new CreateTagsCommand({
              Resources: [pick(amis) as string],
              Tags: [{ Key: 'sandbox:version', Value: `3.0.${roll(9)}` }],
            }),
          ),
      },
      {
        name: 'DeleteAutoScalingGroup (force)',
        run: async () => {
          const name = pick(asgNames());
          if (name)
            await aws.autoScaling.send(
              new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }),
            );
        },
      },
      {
        name: 'CreateLoadBalancer (classic) + RegisterInstancesWithLoadBalancer',
        run: async () => {
          const name = `world-clb-${(classics += 1)}`;
          await classic('CreateLoadBalancer', {
            LoadBalancerName: name,
            'Listeners.member.1.Protocol': 'HTTP',
            'Listeners.member.1.LoadBalancerPort': String(80 + classics),
            'Listeners.member.1.InstancePort': '80',
            'Subnets.member.1': infra.subnetIds[0] as string,
          });
          const id = pick(running());
          if (id)
            await classic('RegisterInstancesWithLoadBalancer', {
              LoadBalancerName: name,
              'Instances.member.1.InstanceId': id,
            });
        },
      },
      {
        name: 'DeregisterInstancesFromLoadBalancer + ConfigureHealthCheck + ModifyLoadBalancerAttributes',
        run: async () => {
          const clb = pick([...(world().classicLoadBalancers?.values() ?? [])]);
          if (!clb) return;
          const id = pick(clb.instances);
          if (id)
            await classic('DeregisterInstancesFromLoadBalancer', {
              LoadBalancerName: clb.name,
              'Instances.member.1.InstanceId': id,
            });
          await classic('ConfigureHealthCheck', {
            LoadBalancerName: clb.name,
            'HealthCheck.Target': 'HTTP:80/health',
            'HealthCheck.Interval': String(5 + roll(20)),
            'HealthCheck.Timeout': '2',
            'HealthCheck.HealthyThreshold': '2',
            'HealthCheck.UnhealthyThreshold': '2',
          });
          await classic('ModifyLoadBalancerAttributes', {
            LoadBalancerName: clb.name,
            'LoadBalancerAttributes.ConnectionDraining.Enabled': 'true',
            'LoadBalancerAttributes.ConnectionDraining.Timeout': String(5 + roll(60)),
          });
        },
      },
      {
        name: 'AttachLoadBalancers (classic) to an ASG',
        run: async () => {
          const clb = pick([...(world().classicLoadBalancers?.keys() ?? [])]);
          const name = pick(asgNames());
          if (clb && name)
            await aws.autoScaling.send(
              new AttachLoadBalancersCommand({ AutoScalingGroupName: name, LoadBalancerNames: [clb] }),
            );
        },
      },
      {
        name: 'CreateOrUpdateTags + SuspendProcesses (world-neutral)',
        run: async () => {
          const name = pick(asgNames());
          if (!name) return;
          await aws.autoScaling.send(
            new CreateOrUpdateTagsCommand({
              Tags: [
                { ResourceId: name, ResourceType: 'auto-scaling-group', Key: 'k', Value: 'v', PropagateAtLaunch: true },
              ],
            }),
          );
          await aws.autoScaling.send(
            new SuspendProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: ['Launch'] }),
          );
        },
      },
    ];

    const fullReadsBefore = layer.costs.snapshot()['refresh:full']?.count ?? 0;
    await operations[0]?.run();
    await operations[0]?.run();
    // Every operation once (shuffled), then random ones; RunInstances (a full read) only in the first pass.
    const shuffled = [...operations].sort(() => roll(3) - 1);
    const partial = operations.filter((o) => !o.name.startsWith('RunInstances'));
    const sequence = [...shuffled, ...Array.from({ length: 50 }, () => partial[roll(partial.length)] as Operation)];
    const done: string[] = [];
    for (const [step, operation] of sequence.entries()) {
      // Some calls fail in moto (e.g. an instance outside the VPC into a target group): moto may have applied part.
      const failed = await operation.run().then(
        () => '',
        (error: unknown) => ` (failed: ${(error as Error).name})`,
      );
      done.push(`${operation.name}${failed}`);
      t.deepEqual(normalized(world()), normalized(await fullRead()), `after step ${step + 1}: ${done[step]}`);
      // The gateway's kept answers follow moto too (asked twice: the second comes from the cache).
      const direct = motoClients(motoEndpoint, 'us-east-1');
      const arns = targetGroupArns();
      t.deepEqual(await membership(aws, arns), await membership(direct, arns), `gateway, after step ${step + 1}`);
      t.deepEqual(await membership(aws, arns), await membership(direct, arns), `gateway again, after step ${step + 1}`);
    }
    t.true(layer.readCache.counts().hits > 0);
    const costs = layer.costs.snapshot();
    // All but RunInstances were read partially, and instances launched from a numbered template version were not described.
    t.true((costs['moto:DescribeLaunchTemplateVersions']?.count ?? 0) > 0, JSON.stringify(costs));
    const fullReads = (costs['refresh:full']?.count ?? 0) - fullReadsBefore;
    t.is(fullReads, 1, JSON.stringify(costs));
    t.log(done.join(', '));
  },
);
