import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeScalingActivitiesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { OperationFailedError } from '../core/errors';
import type { Logger } from '../core/log';
import { pollSchedule } from '../core/poll';
import { describeAsgsByName, describeTargetHealth, type TargetHealthByGroup } from '../cluster/server-groups';
import { targetGroupNameFromArn } from '../status/cluster-status';

/** How far a server group is from serving. */
export interface HealthProgress {
  desired: number;
  required: number;
  inService: number;
  /** InService in the ASG and `healthy` in every target group. */
  healthy: number;
  healthyInstanceIds: string[];
  /** Why the others are not healthy yet: `i-… web-tg initial (Elb.InitialHealthChecking)`. */
  pending: string[];
}

/**
 * Counts instances that really serve: InService in the ASG and `healthy` in
 * every target group. `initial`, `unhealthy`, `draining` and `unused` do not count.
 */
export function countHealthy(
  instances: ReadonlyArray<{ InstanceId?: string; LifecycleState?: string }>,
  targetGroupArns: readonly string[],
  health: TargetHealthByGroup,
): Pick<HealthProgress, 'inService' | 'healthy' | 'healthyInstanceIds' | 'pending'> {
  const pending: string[] = [];
  const healthyInstanceIds: string[] = [];
  let inService = 0;
  for (const instance of instances) {
    const id = instance.InstanceId ?? '';
    if (instance.LifecycleState !== 'InService') {
      pending.push(`${id} ${instance.LifecycleState ?? 'unknown'}`);
      continue;
    }
    inService += 1;
    const problems: string[] = [];
    for (const arn of targetGroupArns) {
      const description = (health.get(arn) ?? []).find((t) => t.Target?.Id === id);
      const state = description?.TargetHealth?.State ?? 'unregistered';
      if (state !== 'healthy') {
        const reason = description?.TargetHealth?.Reason ? ` (${description.TargetHealth.Reason})` : '';
        problems.push(`${targetGroupNameFromArn(arn)} ${state}${reason}`);
      }
    }
    if (problems.length === 0) healthyInstanceIds.push(id);
    else pending.push(`${id} ${problems.join(', ')}`);
  }
  return { inService, healthy: healthyInstanceIds.length, healthyInstanceIds, pending };
}

/** Instances needed for `percent` of `desired` (at least one when desired > 0). */
export function requiredHealthy(desired: number, percent: number): number {
  if (desired === 0) return 0;
  return Math.max(1, Math.ceil((desired * percent) / 100));
}

/**
 * Consecutive polls that must all see the group healthy before it counts:
 * cutover needs health that holds over a short window, not one snapshot.
 */
export const STABLE_HEALTH_POLLS = 2;

/** Pause before a confirming poll: short, so proven health is acted on at once. */
const CONFIRM_POLL_MS = 250;

/** Failed scaling activities of a group since `since` (launch failures). */
async function failedActivities(aws: AwsClients, groupName: string, since: Date): Promise<string[]> {
  const response = await aws.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: groupName, MaxRecords: 20 }));
  return (response.Activities ?? [])
    .filter((a) => a.StatusCode === 'Failed' && (a.StartTime?.getTime() ?? 0) >= since.getTime() - 1_000)
    .map((a) => `${a.Description ?? 'activity'}: ${a.StatusMessage ?? 'failed'}`);
}

/** Options of {@link waitForHealthyTargets}. */
export interface WaitHealthyOptions {
  groupName: string;
  targetGroupArns: readonly string[];
  targetHealthyPercent: number;
  /** Epoch ms. */
  deadline: number;
  /** Launch failures after this time fail the wait at once. */
  since: Date;
  log: Logger;
}

/**
 * Waits until the group's desired × percent instances are InService and
 * healthy in every target group. One ASG describe and one target-health
 * describe per target group per poll. Throws `HealthTimeout` or
 * `LaunchFailed` (exit 1) with the reasons seen.
 */
export async function waitForHealthyTargets(aws: AwsClients, options: WaitHealthyOptions): Promise<HealthProgress> {
  const schedule = pollSchedule(options.deadline);
  let lastLine = '';
  let progress: HealthProgress | undefined;
  let healthyPolls = 0;
  for (;;) {
    const [asg] = await describeAsgsByName(aws, [options.groupName]);
    if (!asg) throw new OperationFailedError('ServerGroupGone', `server group ${options.groupName} disappeared while waiting for it to be healthy`);
    const desired = asg.DesiredCapacity ?? 0;
    const health = await describeTargetHealth(aws, options.targetGroupArns);
    const counted = countHealthy(asg.Instances ?? [], options.targetGroupArns, health);
    progress = { desired, required: requiredHealthy(desired, options.targetHealthyPercent), ...counted };
    const line = `${options.groupName}: ${progress.healthy}/${progress.required} healthy (${progress.inService}/${desired} InService)`;
    if (line !== lastLine) {
      options.log.info(progress.pending.length > 0 ? `${line}; waiting on ${progress.pending.slice(0, 3).join('; ')}` : line);
      lastLine = line;
    }
    if (progress.healthy >= progress.required) {
      healthyPolls += 1;
      if (healthyPolls >= STABLE_HEALTH_POLLS) return progress;
      if (schedule.remainingMs() <= 0) break;
      await sleep(Math.min(CONFIRM_POLL_MS, Math.max(0, schedule.remainingMs())));
      continue;
    }
    healthyPolls = 0;
    const failures = await failedActivities(aws, options.groupName, options.since);
    if (failures.length > 0) {
      throw new OperationFailedError('LaunchFailed', `instances of ${options.groupName} failed to launch: ${failures.slice(0, 3).join(' | ')}`, {
        reasons: failures,
      });
    }
    if (!(await schedule.next())) break;
  }
  const reasons = progress?.pending ?? [];
  throw new OperationFailedError(
    'HealthTimeout',
    `${options.groupName} was not healthy in time: ${progress?.healthy ?? 0}/${progress?.required ?? '?'} healthy` +
      (reasons.length ? `; ${reasons.slice(0, 5).join('; ')}` : ''),
    { reasons },
  );
}

/** The longest deregistration delay of the target groups, in seconds (AWS default 300). */
export async function deregistrationDelaySeconds(aws: AwsClients, targetGroupArns: readonly string[]): Promise<number> {
  let longest = 0;
  for (const arn of targetGroupArns) {
    const response = await aws.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
    const value = response.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
    longest = Math.max(longest, value === undefined ? 300 : Number(value));
  }
  return longest;
}

/**
 * Waits until none of `instanceIds` is still registered or draining in the
 * target groups (gone or `unused`), i.e. in-flight requests have finished.
 */
export async function waitForDrained(
  aws: AwsClients,
  options: { instanceIds: readonly string[]; targetGroupArns: readonly string[]; deadline: number; log: Logger; label: string },
): Promise<void> {
  const ids = new Set(options.instanceIds);
  const schedule = pollSchedule(options.deadline);
  let last = -1;
  for (;;) {
    const health = await describeTargetHealth(aws, options.targetGroupArns);
    let remaining = 0;
    for (const targets of health.values()) {
      remaining += targets.filter((t) => ids.has(t.Target?.Id ?? '') && t.TargetHealth?.State !== 'unused').length;
    }
    if (remaining !== last) {
      options.log.info(remaining === 0 ? `${options.label}: drained` : `${options.label}: ${remaining} target(s) still draining`);
      last = remaining;
    }
    if (remaining === 0) return;
    if (!(await schedule.next())) {
      throw new OperationFailedError('DrainTimeout', `${options.label}: ${remaining} target(s) still draining at the deadline`);
    }
  }
}

/**
 * Waits until at least `count` instances of the group are InService in the
 * ASG (lifecycle only, no target group: a disabled group being brought back
 * is not registered yet). Fails at once on launch failures. Returns their ids.
 */
export async function waitForInService(
  aws: AwsClients,
  options: { groupName: string; count: number; deadline: number; since: Date; log: Logger },
): Promise<string[]> {
  const schedule = pollSchedule(options.deadline);
  let lastLine = '';
  for (;;) {
    const [asg] = await describeAsgsByName(aws, [options.groupName]);
    if (!asg) throw new OperationFailedError('ServerGroupGone', `server group ${options.groupName} disappeared while waiting for its instances`);
    const inService = (asg.Instances ?? []).filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId as string);
    const line = `${options.groupName}: ${inService.length}/${options.count} InService`;
    if (line !== lastLine) {
      options.log.info(line);
      lastLine = line;
    }
    if (inService.length >= options.count) return inService;
    const failures = await failedActivities(aws, options.groupName, options.since);
    if (failures.length > 0) {
      throw new OperationFailedError('LaunchFailed', `instances of ${options.groupName} failed to launch: ${failures.slice(0, 3).join(' | ')}`, { reasons: failures });
    }
    if (!(await schedule.next())) {
      throw new OperationFailedError('InServiceTimeout', `${options.groupName} had ${inService.length}/${options.count} instances InService at the deadline`);
    }
  }
}
