import { createHash } from 'node:crypto';
import { DetachLoadBalancerTargetGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ModifyListenerCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../aws/clients';
import { isNotFound } from '../../aws/errors';
import { Tag } from '../../aws/tags';
import { OperationFailedError } from '../../core/errors';
import type { Logger } from '../../core/log';

/**
 * The test listener of #23: a listener the user keeps (e.g. port 8080 on the
 * production ALB) forwards, while `beforeTraffic` runs, to a temporary target
 * group holding only the new group. Everything needed to put it back is on the
 * new group's tags before the listener changes, so a crash is undone by
 * recovery ({@link closeTestListener}) from the tags alone.
 */

/** Where the command reaches the new group through the test listener. */
export interface TestEndpoint {
  listenerArn: string;
  /** `http://<load balancer DNS>:<port>` (`https` for an HTTPS listener). */
  url: string;
}

/** Prefix of the temporary target groups' names (the IAM policy scopes Create/DeleteTargetGroup by it). */
export const TEST_TARGET_GROUP_PREFIX = 'bgtest-';

/** Tags of a new group behind a test listener: the listener, the temporary target group, the listener's previous actions. */
export const TestListenerTag = {
  listener: 'bluegreen:test-listener',
  targetGroup: 'bluegreen:test-target-group',
  /** The previous default actions, JSON, split over `…-previous-1`, `-2`, … (a tag value holds 256 characters). */
  previous: 'bluegreen:test-listener-previous',
} as const;

const TAG_VALUE_MAX = 256;

/** The temporary target group's name for a server group: short (32 at most) and stable. */
export function testTargetGroupName(serverGroup: string): string {
  return `${TEST_TARGET_GROUP_PREFIX}${createHash('sha256').update(serverGroup).digest('hex').slice(0, 24)}`;
}

/** The previous actions as tags (split in tag-sized parts). Pure. */
export function previousActionTags(actions: readonly Action[]): Record<string, string> {
  const json = JSON.stringify(actions);
  const tags: Record<string, string> = {};
  for (let i = 0; i * TAG_VALUE_MAX < json.length; i++)
    tags[`${TestListenerTag.previous}-${i + 1}`] = json.slice(i * TAG_VALUE_MAX, (i + 1) * TAG_VALUE_MAX);
  return tags;
}

/** The previous actions read back from the tags; undefined when none were recorded. Pure. */
export function previousActionsOf(tags: Readonly<Record<string, string>>): Action[] | undefined {
  let json = '';
  for (let i = 1; tags[`${TestListenerTag.previous}-${i}`] !== undefined; i++)
    json += tags[`${TestListenerTag.previous}-${i}`];
  return json ? (JSON.parse(json) as Action[]) : undefined;
}

/** A test listener prepared for a new group: where the command reaches it, and the tags that undo it. */
export interface PreparedTestListener {
  endpoint: TestEndpoint;
  targetGroupArn: string;
  /** To write on the new group at its creation (before the listener changes). */
  tags: Record<string, string>;
}

/**
 * Reads the test listener (its current actions, its load balancer's DNS name)
 * and creates the temporary target group with the settings of the first
 * production target group. The listener is not changed yet.
 */
export async function prepareTestListener(
  aws: AwsClients,
  options: { listenerArn: string; productionTargetGroupArn: string; serverGroup: string; cluster: string },
): Promise<PreparedTestListener> {
  const listener = (await aws.elbv2.send(new DescribeListenersCommand({ ListenerArns: [options.listenerArn] })))
    .Listeners?.[0];
  if (!listener?.LoadBalancerArn)
    throw new OperationFailedError('TestListenerNotFound', `testListener: no listener ${options.listenerArn}`);
  const [loadBalancer] =
    (await aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [listener.LoadBalancerArn] })))
      .LoadBalancers ?? [];
  const [production] =
    (await aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [options.productionTargetGroupArn] })))
      .TargetGroups ?? [];
  if (!production) throw new OperationFailedError('TargetGroupNotFound', 'the production target group is gone');
  const created = await aws.elbv2.send(
    new CreateTargetGroupCommand({
      Name: testTargetGroupName(options.serverGroup),
      Protocol: production.Protocol,
      ...(production.ProtocolVersion ? { ProtocolVersion: production.ProtocolVersion } : {}),
      Port: production.Port,
      VpcId: production.VpcId,
      TargetType: production.TargetType ?? 'instance',
      HealthCheckEnabled: production.HealthCheckEnabled ?? true,
      ...(production.HealthCheckProtocol ? { HealthCheckProtocol: production.HealthCheckProtocol } : {}),
      ...(production.HealthCheckPort ? { HealthCheckPort: production.HealthCheckPort } : {}),
      ...(production.HealthCheckPath ? { HealthCheckPath: production.HealthCheckPath } : {}),
      ...(production.HealthCheckIntervalSeconds
        ? { HealthCheckIntervalSeconds: production.HealthCheckIntervalSeconds }
        : {}),
      ...(production.HealthCheckTimeoutSeconds
        ? { HealthCheckTimeoutSeconds: production.HealthCheckTimeoutSeconds }
        : {}),
      ...(production.HealthyThresholdCount ? { HealthyThresholdCount: production.HealthyThresholdCount } : {}),
      ...(production.UnhealthyThresholdCount ? { UnhealthyThresholdCount: production.UnhealthyThresholdCount } : {}),
      ...(production.Matcher ? { Matcher: production.Matcher } : {}),
      Tags: [
        { Key: Tag.cluster, Value: options.cluster },
        { Key: TestListenerTag.listener, Value: options.listenerArn },
      ],
    }),
  );
  const targetGroupArn = created.TargetGroups?.[0]?.TargetGroupArn as string;
  const scheme = listener.Protocol === 'HTTPS' ? 'https' : 'http';
  return {
    endpoint: { listenerArn: options.listenerArn, url: `${scheme}://${loadBalancer?.DNSName ?? ''}:${listener.Port}` },
    targetGroupArn,
    tags: {
      [TestListenerTag.listener]: options.listenerArn,
      [TestListenerTag.targetGroup]: targetGroupArn,
      ...previousActionTags(listener.DefaultActions ?? []),
    },
  };
}

/** The test listener forwards to the temporary target group (the new group only). */
export async function openTestListener(aws: AwsClients, prepared: PreparedTestListener, log: Logger): Promise<void> {
  await aws.elbv2.send(
    new ModifyListenerCommand({
      ListenerArn: prepared.endpoint.listenerArn,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: prepared.targetGroupArn }],
    }),
  );
  log.info(`test listener ${prepared.endpoint.url} forwards to the new group`);
}

/**
 * Undoes a test listener from a new group's tags, whatever happened before
 * (the command passed or failed, or the run crashed): the listener gets its
 * previous actions back, the temporary target group leaves the group and is
 * deleted. Each step tolerates what is already undone. No-op without the tags.
 * Returns the temporary target group's ARN (undefined without the tags).
 */
export async function closeTestListener(
  aws: AwsClients,
  serverGroup: string,
  tags: Readonly<Record<string, string>>,
  log: Logger,
): Promise<string | undefined> {
  const listenerArn = tags[TestListenerTag.listener];
  const targetGroupArn = tags[TestListenerTag.targetGroup];
  if (!listenerArn || !targetGroupArn) return undefined;
  const previous = previousActionsOf(tags);
  if (previous && previous.length > 0) {
    try {
      await aws.elbv2.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: previous }));
      log.info(`test listener ${listenerArn} has its previous action back`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  try {
    await aws.autoScaling.send(
      new DetachLoadBalancerTargetGroupsCommand({
        AutoScalingGroupName: serverGroup,
        TargetGroupARNs: [targetGroupArn],
      }),
    );
  } catch (error) {
    // The group may be gone already.
    if (!isNotFound(error)) throw error;
  }
  try {
    await aws.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: targetGroupArn }));
    log.info(`temporary target group ${testTargetGroupName(serverGroup)} deleted`);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  return targetGroupArn;
}
