import {
  ConfigureHealthCheckCommand,
  CreateLoadBalancerCommand,
  ModifyLoadBalancerAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import { CreateAutoScalingGroupCommand, SuspendProcessesCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../src/aws/clients';
import { Tag } from '../../src/aws/tags';

/** A VPC with two subnets and one target group, made in the emulator for a test. */
export interface Network {
  vpcId: string;
  subnetIds: string[];
  targetGroupArn: string;
  targetGroupName: string;
}

export async function createNetwork(aws: AwsClients, name = 'web-tg'): Promise<Network> {
  const vpc = await aws.ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId as string;
  const subnetIds: string[] = [];
  for (const [index, zone] of ['a', 'b'].entries()) {
    const subnet = await aws.ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: `10.0.${index}.0/24`,
        AvailabilityZone: `${aws.region}${zone}`,
      }),
    );
    subnetIds.push(subnet.Subnet?.SubnetId as string);
  }
  const tg = await aws.elbv2.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: vpcId,
      HealthCheckPath: '/health',
      // As quick as AWS allows (healthy after 2 checks 5 s apart): a deploy's healthTimeout is judged against it.
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 2,
      HealthyThresholdCount: 2,
      TargetType: 'instance',
    }),
  );
  return { vpcId, subnetIds, targetGroupArn: tg.TargetGroups?.[0]?.TargetGroupArn as string, targetGroupName: name };
}

/** A classic load balancer in the network's subnets (HTTP 80, health check as quick as AWS allows); returns its name. */
export async function createClassicLoadBalancer(
  aws: AwsClients,
  network: Pick<Network, 'subnetIds'>,
  name = 'web-elb',
): Promise<string> {
  await aws.elb.send(
    new CreateLoadBalancerCommand({
      LoadBalancerName: name,
      Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 80 }],
      Subnets: network.subnetIds,
    }),
  );
  await aws.elb.send(
    new ConfigureHealthCheckCommand({
      LoadBalancerName: name,
      HealthCheck: { Target: 'HTTP:80/health', Interval: 5, Timeout: 2, HealthyThreshold: 2, UnhealthyThreshold: 2 },
    }),
  );
  // Connection draining on, as in production: in-flight requests of a deregistered instance finish.
  await aws.elb.send(
    new ModifyLoadBalancerAttributesCommand({
      LoadBalancerName: name,
      LoadBalancerAttributes: { ConnectionDraining: { Enabled: true, Timeout: 30 } },
    }),
  );
  return name;
}

/** Any AMI the emulator knows (moto ships some). */
export async function someAmi(aws: AwsClients): Promise<string> {
  const images = await aws.ec2.send(new DescribeImagesCommand({}));
  const id = images.Images?.[0]?.ImageId;
  if (!id) throw new Error('the emulator has no AMI');
  return id;
}

/**
 * Creates a launch template and an ASG `name` in the target group, tagged for
 * `cluster` (unless `tagged: false`); `deploymentId` adds the tags a bluegreen
 * deploy leaves (deployment id, AMI id), which make the group managed.
 */
export async function createServerGroup(
  aws: AwsClients,
  network: Network,
  options: {
    name: string;
    cluster: string;
    amiId: string;
    desired: number;
    tagged?: boolean;
    deploymentId?: string;
    /** Classic load balancers too (by default only the network's target group). */
    loadBalancerNames?: string[];
  },
): Promise<void> {
  const tag = (Key: string, Value: string) => ({
    Key,
    Value,
    PropagateAtLaunch: false,
    ResourceId: options.name,
    ResourceType: 'auto-scaling-group',
  });
  const template = await aws.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: options.name,
      LaunchTemplateData: { ImageId: options.amiId, InstanceType: 't3.micro' },
    }),
  );
  await aws.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: options.name,
      LaunchTemplate: { LaunchTemplateId: template.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
      MinSize: options.desired,
      MaxSize: Math.max(options.desired, 1) * 2,
      DesiredCapacity: options.desired,
      VPCZoneIdentifier: network.subnetIds.join(','),
      TargetGroupARNs: [network.targetGroupArn],
      ...(options.loadBalancerNames ? { LoadBalancerNames: options.loadBalancerNames } : {}),
      Tags:
        options.tagged === false
          ? []
          : [
              tag(Tag.cluster, options.cluster),
              ...(options.deploymentId
                ? [tag(Tag.deploymentId, options.deploymentId), tag(Tag.amiId, options.amiId)]
                : []),
            ],
    }),
  );
}

/** Disables a server group as a deploy does: suspend processes and deregister its instances. */
export async function disableServerGroup(
  aws: AwsClients,
  network: Network,
  name: string,
  instanceIds: string[],
): Promise<void> {
  await aws.autoScaling.send(
    new SuspendProcessesCommand({
      AutoScalingGroupName: name,
      ScalingProcesses: ['Launch', 'Terminate', 'AddToLoadBalancer'],
    }),
  );
  if (instanceIds.length > 0) {
    await aws.elbv2.send(
      new DeregisterTargetsCommand({
        TargetGroupArn: network.targetGroupArn,
        Targets: instanceIds.map((Id) => ({ Id })),
      }),
    );
  }
}

/** Registered target ids of a target group. */
export async function registeredTargets(aws: AwsClients, targetGroupArn: string): Promise<string[]> {
  const health = await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (health.TargetHealthDescriptions ?? []).map((t) => t.Target?.Id as string);
}

/** Target ids taking new requests: registered and not draining (a deregistered target drains for the deregistration delay). */
export async function servingTargetIds(aws: AwsClients, targetGroupArn: string): Promise<string[]> {
  const health = await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (health.TargetHealthDescriptions ?? [])
    .filter((t) => t.TargetHealth?.State !== 'draining')
    .map((t) => t.Target?.Id as string);
}
