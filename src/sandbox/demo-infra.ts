import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from '../aws/clients';
import { classicElbCall } from './classic-elb';

/**
 * `--infra demo`: what a Terraform module would have made before the first
 * deploy, created through the AWS APIs: network, security group, an
 * internet-facing ALB with an HTTP listener, the app's target group, and the
 * artifact and ledger buckets.
 */

/** Ids, ARNs and names of the demo infrastructure (also written to the state file). */
export interface DemoInfra {
  vpcId: string;
  subnetIds: string[];
  securityGroupId: string;
  loadBalancerArn: string;
  loadBalancerName: string;
  loadBalancerDnsName: string;
  listenerArn: string;
  targetGroupArn: string;
  targetGroupName: string;
  /** Health check and drain settings of the target group, in AWS seconds. */
  healthCheck: {
    path: string;
    intervalSeconds: number;
    healthyThreshold: number;
    unhealthyThreshold: number;
    deregistrationDelaySeconds: number;
  };
  artifactBucket: string;
  ledgerBucket: string;
  /** The classic load balancer (HTTP 80 → 80, the same health check, draining as the deregistration delay), when asked for. */
  classicLoadBalancerName?: string;
}

/** Options of {@link createDemoInfra}. */
export interface DemoInfraOptions {
  /** Also create a classic load balancer through this endpoint (the gateway): the project has no SDK client for it. */
  classicEndpoint?: string;
}

/** The demo's settings: AWS-like, short enough to watch. */
export const DEMO_HEALTH_CHECK = {
  path: '/health',
  intervalSeconds: 10,
  timeoutSeconds: 5,
  healthyThreshold: 3,
  unhealthyThreshold: 2,
  deregistrationDelaySeconds: 30,
} as const;

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null || value === '')
    throw new Error(`demo infra: ${what} missing from the AWS answer`);
  return value;
}

/** Creates the demo infrastructure with `aws` (clients aimed at the sandbox gateway). */
export async function createDemoInfra(
  aws: AwsClients,
  name = 'bluegreen-demo',
  options: DemoInfraOptions = {},
): Promise<DemoInfra> {
  const vpc = await aws.ec2.send(
    new CreateVpcCommand({
      CidrBlock: '10.0.0.0/16',
      TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: name }] }],
    }),
  );
  const vpcId = required(vpc.Vpc?.VpcId, 'VpcId');
  const subnetIds: string[] = [];
  for (const [index, zone] of ['a', 'b'].entries()) {
    const subnet = await aws.ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: `10.0.${index * 16}.0/20`,
        AvailabilityZone: `${aws.region}${zone}`,
      }),
    );
    subnetIds.push(required(subnet.Subnet?.SubnetId, 'SubnetId'));
  }
  const group = await aws.ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `${name}-web`,
      Description: 'bluegreen demo: HTTP from anywhere',
      VpcId: vpcId,
    }),
  );
  const securityGroupId = required(group.GroupId, 'GroupId');
  await aws.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: securityGroupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    }),
  );
  const targetGroupName = `${name}-web`;
  const tg = await aws.elbv2.send(
    new CreateTargetGroupCommand({
      Name: targetGroupName,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: vpcId,
      TargetType: 'instance',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPath: DEMO_HEALTH_CHECK.path,
      HealthCheckIntervalSeconds: DEMO_HEALTH_CHECK.intervalSeconds,
      HealthCheckTimeoutSeconds: DEMO_HEALTH_CHECK.timeoutSeconds,
      HealthyThresholdCount: DEMO_HEALTH_CHECK.healthyThreshold,
      UnhealthyThresholdCount: DEMO_HEALTH_CHECK.unhealthyThreshold,
      Matcher: { HttpCode: '200' },
    }),
  );
  const targetGroupArn = required(tg.TargetGroups?.[0]?.TargetGroupArn, 'TargetGroupArn');
  await aws.elbv2.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: targetGroupArn,
      Attributes: [
        { Key: 'deregistration_delay.timeout_seconds', Value: String(DEMO_HEALTH_CHECK.deregistrationDelaySeconds) },
      ],
    }),
  );
  const lb = await aws.elbv2.send(
    new CreateLoadBalancerCommand({
      Name: name,
      Subnets: subnetIds,
      SecurityGroups: [securityGroupId],
      Scheme: 'internet-facing',
      Type: 'application',
      IpAddressType: 'ipv4',
    }),
  );
  const balancer = required(lb.LoadBalancers?.[0], 'LoadBalancer');
  const listener = await aws.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: balancer.LoadBalancerArn,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  );
  const artifactBucket = `${name}-artifacts`;
  const ledgerBucket = `${name}-ledger`;
  for (const bucket of [artifactBucket, ledgerBucket]) {
    await aws.s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(aws.region === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: aws.region as never } }),
      }),
    );
  }
  // Publish reports a versionId: artifacts are versioned, as they should be.
  await aws.s3.send(
    new PutBucketVersioningCommand({ Bucket: artifactBucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  const classicLoadBalancerName = options.classicEndpoint
    ? await createClassicLoadBalancer(
        options.classicEndpoint,
        aws.region,
        `${name}-classic`,
        subnetIds,
        securityGroupId,
      )
    : undefined;
  return {
    ...(classicLoadBalancerName ? { classicLoadBalancerName } : {}),
    vpcId,
    subnetIds,
    securityGroupId,
    loadBalancerArn: required(balancer.LoadBalancerArn, 'LoadBalancerArn'),
    loadBalancerName: name,
    loadBalancerDnsName: balancer.DNSName ?? '',
    listenerArn: required(listener.Listeners?.[0]?.ListenerArn, 'ListenerArn'),
    targetGroupArn,
    targetGroupName,
    healthCheck: {
      path: DEMO_HEALTH_CHECK.path,
      intervalSeconds: DEMO_HEALTH_CHECK.intervalSeconds,
      healthyThreshold: DEMO_HEALTH_CHECK.healthyThreshold,
      unhealthyThreshold: DEMO_HEALTH_CHECK.unhealthyThreshold,
      deregistrationDelaySeconds: DEMO_HEALTH_CHECK.deregistrationDelaySeconds,
    },
    artifactBucket,
    ledgerBucket,
  };
}

/** A classic load balancer like the ALB: HTTP 80 → 80, the demo's health check and draining (classic ELB API, Query). */
async function createClassicLoadBalancer(
  endpoint: string,
  region: string,
  name: string,
  subnetIds: string[],
  securityGroupId: string,
): Promise<string> {
  await classicElbCall(endpoint, region, 'CreateLoadBalancer', {
    LoadBalancerName: name,
    'Listeners.member.1.Protocol': 'HTTP',
    'Listeners.member.1.LoadBalancerPort': '80',
    'Listeners.member.1.InstanceProtocol': 'HTTP',
    'Listeners.member.1.InstancePort': '80',
    ...Object.fromEntries(subnetIds.map((id, i) => [`Subnets.member.${i + 1}`, id])),
    'SecurityGroups.member.1': securityGroupId,
    Scheme: 'internet-facing',
  });
  await classicElbCall(endpoint, region, 'ConfigureHealthCheck', {
    LoadBalancerName: name,
    'HealthCheck.Target': `HTTP:80${DEMO_HEALTH_CHECK.path}`,
    'HealthCheck.Interval': String(DEMO_HEALTH_CHECK.intervalSeconds),
    'HealthCheck.Timeout': String(DEMO_HEALTH_CHECK.timeoutSeconds),
    'HealthCheck.HealthyThreshold': String(DEMO_HEALTH_CHECK.healthyThreshold),
    'HealthCheck.UnhealthyThreshold': String(DEMO_HEALTH_CHECK.unhealthyThreshold),
  });
  await classicElbCall(endpoint, region, 'ModifyLoadBalancerAttributes', {
    LoadBalancerName: name,
    'LoadBalancerAttributes.ConnectionDraining.Enabled': 'true',
    'LoadBalancerAttributes.ConnectionDraining.Timeout': String(DEMO_HEALTH_CHECK.deregistrationDelaySeconds),
  });
  return name;
}
