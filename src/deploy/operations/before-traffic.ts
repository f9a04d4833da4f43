import { AttachLoadBalancerTargetGroupsCommand, AttachLoadBalancersCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../../aws/clients';
import { chunk } from '../../aws/paginate';
import { Tag } from '../../aws/tags';
import { OperationFailedError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { runShellCommand } from '../../core/shell-command';
import { Phase } from '../../cluster/phases';
import { splitSources } from '../../traffic/sources';
import type { DeployPlan } from '../plan';
import type { BeforeTrafficSettings, DeployRequest } from '../request';
import { removeGroupTags, setGroupTags } from '../server-group-ops';
import { closeTestListener, openTestListener, type PreparedTestListener, type TestEndpoint } from './test-listener';

/** How many of the command's last lines an error carries. */
const LAST_LINES = 20;

/** What marks the command's lines in the stage log. */
export const BEFORE_TRAFFIC_MARK = '│';

/** One instance of the new group, as the command sees it (`BLUEGREEN_INSTANCES`). */
export interface TestedInstance {
  id: string;
  privateIp: string | null;
}

/**
 * True when the deploy runs something before production traffic, or holds for a human: the new
 * group is then created in no production target group, and joins them only
 * once that passed, or on promote ({@link joinProductionTargetGroups}).
 */
export function holdsProductionTraffic(request: DeployRequest): boolean {
  return request.beforeTraffic !== undefined || request.hold === true;
}

/**
 * The target groups a new group is created in: while something runs before
 * production traffic, only the test listener's temporary one (or none).
 */
export function creationTargetGroups(
  request: DeployRequest,
  plan: DeployPlan,
  testListener: PreparedTestListener | undefined,
): string[] {
  if (testListener) return [testListener.targetGroupArn];
  return holdsProductionTraffic(request) ? [] : plan.targetGroupArns;
}

/** The environment of the `beforeTraffic` / `afterTraffic` command (docs: README, "Tests before traffic"). */
export function commandEnvironment(options: {
  serverGroup: string;
  version: string | undefined;
  amiId: string;
  instances: readonly TestedInstance[];
  endpoint?: TestEndpoint;
}): Record<string, string> {
  return {
    BLUEGREEN_SERVER_GROUP: options.serverGroup,
    BLUEGREEN_VERSION: options.version ?? '',
    BLUEGREEN_AMI_ID: options.amiId,
    BLUEGREEN_INSTANCES: JSON.stringify(options.instances),
    ...(options.endpoint
      ? { BLUEGREEN_TEST_LISTENER_ARN: options.endpoint.listenerArn, BLUEGREEN_TEST_URL: options.endpoint.url }
      : {}),
  };
}

/** The private IPs of instances (DescribeInstances, 100 ids a call). */
export async function testedInstances(aws: AwsClients, instanceIds: readonly string[]): Promise<TestedInstance[]> {
  const ips = new Map<string, string>();
  for (const ids of chunk([...instanceIds], 100)) {
    const response = await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    for (const instance of (response.Reservations ?? []).flatMap((r) => r.Instances ?? []))
      if (instance.InstanceId && instance.PrivateIpAddress) ips.set(instance.InstanceId, instance.PrivateIpAddress);
  }
  return [...instanceIds].sort().map((id) => ({ id, privateIp: ips.get(id) ?? null }));
}

/**
 * Runs a user's command against the new group, its output in the log (marked,
 * redacted). Throws `BeforeTrafficFailed` / `AfterTrafficFailed` (exit 1) with
 * its last lines on a non-zero exit or a timeout.
 */
export async function runTrafficCommand(
  settings: BeforeTrafficSettings,
  env: Record<string, string>,
  log: Logger,
  which: 'beforeTraffic' | 'afterTraffic',
): Promise<void> {
  log.info(`${which}: running the command (timeout ${settings.timeoutSeconds}s)`);
  const result = await runShellCommand({
    command: settings.command,
    env,
    timeoutSeconds: settings.timeoutSeconds,
    keepLines: LAST_LINES,
    onLine: (line) => log.info(`${BEFORE_TRAFFIC_MARK} ${line}`),
  });
  if (result.exitCode === 0) {
    log.info(`${which}: passed`);
    return;
  }
  const how = result.timedOut ? `timed out after ${settings.timeoutSeconds}s` : `exited ${result.exitCode}`;
  const tail = result.lastLines.length > 0 ? `; last lines:\n${result.lastLines.join('\n')}` : '';
  throw new OperationFailedError(
    which === 'beforeTraffic' ? 'BeforeTrafficFailed' : 'AfterTrafficFailed',
    `${which} ${how}${tail}`,
    { lastLines: result.lastLines },
  );
}

/**
 * The "before traffic" step of the skeleton, between "healthy" and the
 * strategy's shift: phase `testing`, then the command with the new group's
 * instances. Throws (exit 1) when it fails: the skeleton then removes the group,
 * which never was in a production target group.
 */
export async function runBeforeTraffic(
  aws: AwsClients,
  options: {
    request: DeployRequest;
    serverGroup: string;
    instanceIds: readonly string[];
    testListener?: PreparedTestListener;
    /** Leave the test listener open after the command passed (a held group stays behind it); a failure still closes it. */
    keepTestListener?: boolean;
    log: Logger;
  },
): Promise<void> {
  const { request } = options;
  const settings = request.beforeTraffic as BeforeTrafficSettings;
  await setGroupTags(aws, options.serverGroup, { [Tag.phase]: Phase.testing });
  const instances = await testedInstances(aws, options.instanceIds);
  const { testListener } = options;
  const env = commandEnvironment({
    serverGroup: options.serverGroup,
    version: request.build.version,
    amiId: request.amiId,
    instances,
    ...(testListener ? { endpoint: testListener.endpoint } : {}),
  });
  if (!testListener) {
    await runTrafficCommand(settings, env, options.log.child('beforeTraffic'), 'beforeTraffic');
    return;
  }
  let passed = false;
  try {
    await openTestListener(aws, testListener, options.log);
    await runTrafficCommand(settings, env, options.log.child('beforeTraffic'), 'beforeTraffic');
    passed = true;
  } finally {
    // Passed or not (unless held): the listener back as it was, the temporary target group gone.
    if (!passed || !options.keepTestListener)
      await closeTestListener(aws, options.serverGroup, testListener.tags, options.log);
  }
  if (!options.keepTestListener) await removeGroupTags(aws, options.serverGroup, Object.keys(testListener.tags));
}

/** After the command passed: the group joins the production target groups and classic load balancers (its new instances register there too). */
export async function joinProductionTargetGroups(
  aws: AwsClients,
  serverGroup: string,
  targetGroupArns: readonly string[],
  log: Logger,
): Promise<void> {
  if (targetGroupArns.length === 0) return;
  const { targetGroupArns: arnsOnly, loadBalancerNames } = splitSources(targetGroupArns);
  for (const arns of chunk(arnsOnly, 10))
    await aws.autoScaling.send(
      new AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: serverGroup, TargetGroupARNs: arns }),
    );
  for (const names of chunk(loadBalancerNames, 10))
    await aws.autoScaling.send(
      new AttachLoadBalancersCommand({ AutoScalingGroupName: serverGroup, LoadBalancerNames: names }),
    );
  await setGroupTags(aws, serverGroup, { [Tag.phase]: Phase.waitingHealthy });
  log.info(`${serverGroup} joins the production target group(s); waiting until healthy there`);
}

/**
 * `afterTraffic`: the command run right after the cutover, inside the watch
 * (`watch-cutover.ts` starts it; a failure there is a breach). Same variables
 * as `beforeTraffic`, without a test listener.
 */
export function afterTrafficCommand(
  aws: AwsClients,
  request: DeployRequest,
  serverGroup: string,
  instanceIds: readonly string[],
  log: Logger,
): () => Promise<void> {
  return async () => {
    const env = commandEnvironment({
      serverGroup,
      version: request.build.version,
      amiId: request.amiId,
      instances: await testedInstances(aws, instanceIds),
    });
    await runTrafficCommand(
      request.afterTraffic as BeforeTrafficSettings,
      env,
      log.child('afterTraffic'),
      'afterTraffic',
    );
  };
}
