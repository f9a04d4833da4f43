import { CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  RegisterImageCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AwsClients } from '../../src/aws/clients';
import type { DemoInfra } from '../../src/sandbox/demo-infra';
import { DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { loadBalancerDimension, targetGroupDimension } from '../../src/sandbox/alb-metrics';

/** Registers an AMI whose instances serve `version` with the given health behaviour (moto keeps tags given by CreateTags). */
export async function makeAppAmi(
  aws: AwsClients,
  version: string,
  health = 'ok',
  /** More AMI tags, e.g. `sandbox:errors` or `sandbox:latency`. */
  tags: Record<string, string> = {},
): Promise<string> {
  const image = await aws.ec2.send(
    new RegisterImageCommand({ Name: `app-${version}-${health.replace(/[^\w-]/g, '-')}`, RootDeviceName: '/dev/sda1' }),
  );
  const amiId = image.ImageId as string;
  await aws.ec2.send(
    new CreateTagsCommand({
      Resources: [amiId],
      Tags: [
        { Key: 'sandbox:version', Value: version },
        { Key: 'sandbox:health', Value: health },
        ...Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      ],
    }),
  );
  const check = await aws.ec2.send(new DescribeImagesCommand({ ImageIds: [amiId] }));
  if (!check.Images?.[0]?.Tags?.some((t) => t.Key === 'sandbox:version')) throw new Error('AMI tags did not stick');
  return amiId;
}

/**
 * Creates a launch template and an ASG in the demo target group (HealthCheckType ELB); with
 * `loadBalancerNames`, registered with those classic load balancers instead (MinSize 0).
 */
export async function createAppAsg(
  aws: AwsClients,
  infra: Pick<DemoInfra, 'subnetIds' | 'targetGroupArn'>,
  name: string,
  amiId: string,
  desired: number,
  classic: { loadBalancerNames?: string[] } = {},
): Promise<void> {
  const template = await aws.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `${name}-lt`,
      LaunchTemplateData: { ImageId: amiId, InstanceType: 't3.micro' },
    }),
  );
  await aws.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchTemplate: { LaunchTemplateId: template.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
      MinSize: classic.loadBalancerNames ? 0 : desired,
      MaxSize: Math.max(desired, classic.loadBalancerNames ? 4 : 0),
      DesiredCapacity: desired,
      VPCZoneIdentifier: infra.subnetIds.join(','),
      ...(classic.loadBalancerNames
        ? { LoadBalancerNames: classic.loadBalancerNames }
        : { TargetGroupARNs: [infra.targetGroupArn] }),
      HealthCheckType: 'ELB',
      // moto turns 0 into its default 300, so ask for 1 s.
      HealthCheckGracePeriod: 1,
    }),
  );
}

/** A second target group in the demo VPC (health checks on `/health` every `intervalSeconds`, healthy after 2), its ARN. */
export async function createTargetGroup(
  aws: AwsClients,
  infra: DemoInfra,
  name: string,
  intervalSeconds = 5,
): Promise<string> {
  const created = await aws.elbv2.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: infra.vpcId,
      HealthCheckPath: '/health',
      HealthCheckIntervalSeconds: intervalSeconds,
      HealthyThresholdCount: 2,
    }),
  );
  return created.TargetGroups?.[0]?.TargetGroupArn as string;
}

/** Points a listener's default action at target groups with weights: `[[arn, weight], …]`. */
export async function forwardWeighted(
  aws: AwsClients,
  listenerArn: string,
  weights: [string, number][],
): Promise<void> {
  await aws.elbv2.send(
    new ModifyListenerCommand({
      ListenerArn: listenerArn,
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: { TargetGroups: weights.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })) },
        },
      ],
    }),
  );
}

/** Waits until a target group has a `healthy` target (DescribeTargetHealth through the gateway). */
export async function waitForHealthyTarget(aws: AwsClients, targetGroupArn: string): Promise<void> {
  await waitFor(`a healthy target in ${targetGroupArn}`, async () => {
    const health = await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    return health.TargetHealthDescriptions?.some((d) => d.TargetHealth?.State === 'healthy') ? true : undefined;
  });
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes; the deadline only bounds the test. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** GET a URL and parse the JSON answer with its status. */
export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const response = await fetch(url);
  const text = await response.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

/**
 * An alarm on the demo target group's `HTTPCode_Target_5XX_Count` (Sum over one `periodSeconds`
 * period, 1 of 1 datapoints above 5, missing data not breaching): what a watch is given to catch a bad build.
 */
export async function putTargetGroup5xxAlarm(
  aws: AwsClients,
  infra: DemoInfra,
  name: string,
  periodSeconds: number,
): Promise<void> {
  await aws.cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Dimensions: [
        { Name: 'TargetGroup', Value: targetGroupDimension(infra.targetGroupArn) },
        { Name: 'LoadBalancer', Value: loadBalancerDimension(infra.loadBalancerArn) },
      ],
      Statistic: 'Sum',
      Period: periodSeconds,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    }),
  );
}

/** An alarm's `StateValue` as DescribeAlarms answers it (undefined: no such alarm). */
export async function alarmState(aws: AwsClients, name: string): Promise<string | undefined> {
  const answer = await aws.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
  return answer.MetricAlarms?.[0]?.StateValue;
}
