// Longer than most files on purpose: the health wait and its due-time poll schedule share one poll
// loop and its state. The rules it applies (healthy, required, broken build) are pure, in health-rules.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeScalingActivitiesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients';
import { chunk } from '../aws/paginate';
import { OperationFailedError } from '../core/errors';
import type { Logger } from '../core/log';
import { awsSecondsToMs, healthPollDelayMs, healthPollWindow, pollSchedule, type HealthPollWindow } from '../core/poll';
import {
  clusterOf,
  describeAsgsByName,
  describeTargetHealth,
  listClusterAsgs,
  type ServerGroup,
  type TargetHealthByGroup,
} from '../cluster/server-groups';
import { waitForDrainedIn } from '../traffic/drain';
import { classicHealthChecks } from '../traffic/classic-load-balancers';
import { sourceTraffic, splitSources, trafficSourcesOf } from '../traffic/sources';
import { capacityUnits, readUnitWeight, type InstanceTypeSizes } from './capacity-units';
import {
  BROKEN_BUILD_POLLS,
  STABLE_HEALTH_POLLS,
  brokenBuildReasons,
  countHealthy,
  requiredHealthy,
  type HealthProgress,
} from './health-rules';

/**
 * Pause before a confirming poll (AWS-clock seconds): short, so proven health
 * is acted on at once. The load balancer changes a target's state only at a
 * health check (seconds apart), so a longer pause would see the same state;
 * the confirming poll is there for a full, fresh read of the cluster.
 */
const CONFIRM_POLL_SECONDS = 0.1;

/**
 * Shortest poll period once a verdict can be due, in AWS seconds: at most
 * one DescribeTargetHealth per target group a second — a tenth of the ELB
 * API's documented refill rate for Describe calls (bucket 40, refill 10 a
 * second, per account and region).
 */
export const FAST_POLL_SECONDS = 1;

/**
 * Polls per health check interval once a verdict can be due: the load
 * balancer changes a target's state only at a check, so a quarter interval
 * sees a change within that (plus one call), at a bounded number of calls
 * however long the app takes to boot.
 */
export const POLLS_PER_INTERVAL = 4;

/** Fast polls read the ASG again at least every this many polls (instances may be replaced). */
const ASG_REREAD_POLLS = 10;

/** Pause before a confirming poll, real ms on this clock. */
function confirmPollMs(): number {
  return awsSecondsToMs(CONFIRM_POLL_SECONDS);
}

/** Failed scaling activities of a group since `since` (launch failures). */
async function failedActivities(aws: AwsClients, groupName: string, since: Date): Promise<string[]> {
  const response = await aws.autoScaling.send(
    new DescribeScalingActivitiesCommand({ AutoScalingGroupName: groupName, MaxRecords: 20 }),
  );
  return (response.Activities ?? [])
    .filter((a) => a.StatusCode === 'Failed' && (a.StartTime?.getTime() ?? 0) >= since.getTime() - 1_000)
    .map((a) => `${a.Description ?? 'activity'}: ${a.StatusMessage ?? 'failed'}`);
}

/** When the load balancer can first give its verdicts (see {@link verdictDueAfterMs}). */
export interface VerdictTimes {
  healthyMs: number;
  unhealthyMs: number;
  intervalMs: number;
  /** The target group that takes longest to report healthy, with its threshold and interval, for messages. */
  slowestHealthy: string;
}

/** One source's health check timing, AWS seconds. */
interface CheckTiming {
  name: string;
  interval: number;
  healthy: number;
  unhealthy: number;
}

/** Health check timing of target groups (one DescribeTargetGroups per 20). */
async function targetGroupChecks(aws: AwsClients, arns: readonly string[]): Promise<CheckTiming[]> {
  const timings: CheckTiming[] = [];
  for (const batch of chunk([...new Set(arns)], 20)) {
    const response = await aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: batch }));
    for (const group of response.TargetGroups ?? [])
      timings.push({
        name: `target group ${group.TargetGroupName ?? group.TargetGroupArn ?? '?'}`,
        interval: group.HealthCheckIntervalSeconds ?? 30,
        healthy: group.HealthyThresholdCount ?? 5,
        unhealthy: group.UnhealthyThresholdCount ?? 2,
      });
  }
  return timings;
}

/**
 * How long after registration the load balancer can first give a verdict on
 * a target, in real ms on this clock (one DescribeTargetGroups for up to 20
 * target groups, one DescribeLoadBalancers for up to 20 classic load
 * balancers): `healthyMs`, the largest healthy threshold × interval
 * (healthy in every source), and `unhealthyMs`, the smallest
 * unhealthy threshold × interval (unhealthy in some source).
 */
export async function verdictDueAfterMs(aws: AwsClients, sources: readonly string[]): Promise<VerdictTimes> {
  let healthy = 0;
  let unhealthy = Number.POSITIVE_INFINITY;
  let shortest = Number.POSITIVE_INFINITY;
  let slowest = '';
  const { targetGroupArns, loadBalancerNames } = splitSources(sources);
  const [groups, classic] = await Promise.all([
    targetGroupArns.length > 0 ? targetGroupChecks(aws, targetGroupArns) : [],
    loadBalancerNames.length > 0 ? classicHealthChecks(aws, loadBalancerNames) : [],
  ]);
  const timings: CheckTiming[] = [
    ...groups,
    ...classic.map((c) => ({
      name: `classic load balancer ${c.name}`,
      interval: c.intervalSeconds,
      healthy: c.healthyThreshold,
      unhealthy: c.unhealthyThreshold,
    })),
  ];
  for (const check of timings) {
    shortest = Math.min(shortest, check.interval);
    if (check.healthy * check.interval > healthy)
      slowest = `${check.name} (healthy threshold ${check.healthy} × interval ${check.interval}s)`;
    healthy = Math.max(healthy, check.healthy * check.interval);
    unhealthy = Math.min(unhealthy, check.unhealthy * check.interval);
  }
  return {
    slowestHealthy: slowest,
    healthyMs: awsSecondsToMs(healthy),
    unhealthyMs: awsSecondsToMs(Number.isFinite(unhealthy) ? unhealthy : healthy),
    intervalMs: awsSecondsToMs(Number.isFinite(shortest) ? shortest : 30),
  };
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
  /**
   * Give up (`BrokenBuild`, exit 1) as soon as the build is plainly broken
   * ({@link brokenBuildReasons} on {@link BROKEN_BUILD_POLLS} consecutive
   * polls) instead of at the deadline. A deploy's new group sets it.
   */
  giveUpWhenBroken?: boolean;
  /**
   * The cluster the group belongs to: the poll that confirms health then
   * loads the whole cluster (its groups and their target health) and
   * returns it, so the cutover acts on the state that proved health instead
   * of loading it again.
   */
  cluster?: string;
}

/** What {@link waitForHealthyTargets} proved. */
export interface HealthProof extends HealthProgress {
  /** The cluster as the confirming poll saw it (when `cluster` was given). */
  clusterState?: { groups: ServerGroup[]; health: TargetHealthByGroup };
}

/**
 * One poll: the group (or the whole cluster, when `cluster` is given) and its
 * target health, in parallel. With `known` (the group as the last poll saw it,
 * every desired instance InService) only target health is read: what is left
 * to wait for is the load balancer.
 */
async function pollGroup(
  aws: AwsClients,
  groupName: string,
  targetGroupArns: readonly string[],
  cluster: string | undefined,
  known: AutoScalingGroup | undefined,
): Promise<{ asg: AutoScalingGroup | undefined; all: AutoScalingGroup[]; health: TargetHealthByGroup }> {
  const [all, health] = await Promise.all([
    cluster ? listClusterAsgs(aws, cluster) : known ? Promise.resolve([known]) : describeAsgsByName(aws, [groupName]),
    describeTargetHealth(aws, targetGroupArns),
  ]);
  const asg = all.find((a) => a.AutoScalingGroupName === groupName);
  // Other groups of the cluster may sit in target groups the new one does not use.
  const missing = [...new Set(all.flatMap((a) => trafficSourcesOf(a)))].filter((arn) => !health.has(arn));
  if (missing.length > 0)
    for (const [arn, targets] of await describeTargetHealth(aws, missing)) health.set(arn, targets);
  return { asg, all, health };
}

/**
 * Waits until the group's desired × percent instances are InService and
 * healthy in every target group, on {@link STABLE_HEALTH_POLLS} consecutive
 * polls. Polls wait while health cannot be due yet, and poll every quarter
 * health check interval (at least {@link FAST_POLL_SECONDS}) once it can (registration + healthy threshold ×
 * interval, read once from the target groups; + unhealthy threshold ×
 * interval with `giveUpWhenBroken`), so the load balancer's verdict is acted
 * on within about a second. Per poll one target-health describe per target
 * group, one ASG describe until every instance is InService (and on the
 * confirming poll), launch activities only while instances are missing. Throws `HealthTimeout`, `LaunchFailed` or
 * (with `giveUpWhenBroken`) `BrokenBuild` (exit 1) with the reasons seen.
 */
export async function waitForHealthyTargets(aws: AwsClients, options: WaitHealthyOptions): Promise<HealthProof> {
  const schedule = pollSchedule(options.deadline);
  const verdicts = await verdictDueAfterMs(aws, options.targetGroupArns);
  // Giving up on a broken build needs the unhealthy verdict as soon as the load balancer can give it.
  const dueAfterMs = options.giveUpWhenBroken ? Math.min(verdicts.healthyMs, verdicts.unhealthyMs) : verdicts.healthyMs;
  const fastMs = Math.max(1, awsSecondsToMs(FAST_POLL_SECONDS), verdicts.intervalMs / POLLS_PER_INTERVAL);
  let lastLine = '';
  let progress: HealthProgress | undefined;
  let healthyPolls = 0;
  let brokenPolls = 0;
  let everHealthy = false;
  let dueAt: number | undefined;
  /** Polls come every 250 ms (AWS) from the moment health can first be due until one interval later. */
  let window: HealthPollWindow | undefined;
  let previousPollAt = Date.now();
  const inServiceSince = new Map<string, number>();
  /** Instance types' vCPUs / memory, read once each (groups counting desired capacity in vcpu / memory-mib). */
  const sizes: InstanceTypeSizes = new Map();
  /** The group when every desired instance was InService at the last poll: fast polls then read target health only. */
  let settled: AutoScalingGroup | undefined;
  let polls = 0;
  for (;;) {
    const confirming = healthyPolls > 0;
    const polledAt = Date.now();
    // The confirming poll always reads the group (and cluster) afresh: health is proven on a full, current picture.
    const polled = await pollGroup(
      aws,
      options.groupName,
      options.targetGroupArns,
      confirming ? options.cluster : undefined,
      confirming ? undefined : settled,
    );
    const { asg, health } = polled;
    if (!asg)
      throw new OperationFailedError(
        'ServerGroupGone',
        `server group ${options.groupName} disappeared while waiting for it to be healthy`,
      );
    const desired = asg.DesiredCapacity ?? 0;
    const instances = asg.Instances ?? [];
    // Desired is in the group's units: an instance of weight 2 counts 2 (capacity-units.ts).
    const counted = countHealthy(instances, options.targetGroupArns, health, await readUnitWeight(aws, asg, sizes));
    progress = { desired, required: requiredHealthy(desired, options.targetHealthyPercent), ...counted };
    const line = `${options.groupName}: ${progress.healthy}/${progress.required} healthy (${progress.inService}/${desired} InService)`;
    if (line !== lastLine) {
      options.log.info(
        progress.pending.length > 0 ? `${line}; waiting on ${progress.pending.slice(0, 3).join('; ')}` : line,
      );
      lastLine = line;
    }
    if (progress.healthy > 0) everHealthy = true;
    // Re-read the group when an instance left a target group (replaced?) and every few polls anyway.
    const registered = instances.every((i) =>
      options.targetGroupArns.every((arn) =>
        (health.get(arn) ?? []).some(
          (t) => t.Target?.Id === i.InstanceId && !['draining', 'unused'].includes(t.TargetHealth?.State ?? ''),
        ),
      ),
    );
    polls += 1;
    settled =
      progress.inService >= desired && desired > 0 && registered && polls % ASG_REREAD_POLLS !== 0 ? asg : undefined;
    for (const instance of instances) {
      if (instance.LifecycleState === 'InService' && instance.InstanceId && !inServiceSince.has(instance.InstanceId))
        inServiceSince.set(instance.InstanceId, polledAt);
    }
    // Registered no earlier than the poll before the one that first saw it: health is due that long after.
    const ids = new Set(instances.map((i) => i.InstanceId));
    if (dueAt === undefined && [...health.values()].some((targets) => targets.some((t) => ids.has(t.Target?.Id)))) {
      // The window is for the healthy verdict (a broken build's comes sooner and needs no 250 ms polls).
      window = healthPollWindow({
        previousPollAt,
        polledAt,
        dueAfterMs: verdicts.healthyMs,
        intervalMs: verdicts.intervalMs,
        targetGroups: options.targetGroupArns.length,
      });
      dueAt = previousPollAt + dueAfterMs;
    }
    previousPollAt = polledAt;
    if (progress.healthy >= progress.required) {
      healthyPolls += 1;
      if (healthyPolls >= STABLE_HEALTH_POLLS) {
        if (!options.cluster) return progress;
        const clusterState = await clusterOf(aws, options.cluster, polled.all, health);
        return { ...progress, clusterState: { groups: clusterState.groups, health } };
      }
      if (schedule.remainingMs() <= 0) break;
      await sleep(Math.min(confirmPollMs(), Math.max(0, schedule.remainingMs())));
      continue;
    }
    healthyPolls = 0;
    if (options.giveUpWhenBroken) {
      const broken = brokenBuildReasons({
        instances,
        targetGroupArns: options.targetGroupArns,
        health,
        inServiceSince,
        graceMs: awsSecondsToMs(asg.HealthCheckGracePeriod ?? 0),
        everHealthy,
        now: Date.now(),
      });
      brokenPolls = broken ? brokenPolls + 1 : 0;
      if (broken && brokenPolls >= BROKEN_BUILD_POLLS) {
        throw new OperationFailedError(
          'BrokenBuild',
          `${options.groupName} is broken: every InService instance is failing its health checks and none was ever healthy; ${broken.slice(0, 5).join('; ')}`,
          { reasons: broken },
        );
      }
    }
    if (progress.inService < desired) {
      const failures = await failedActivities(aws, options.groupName, options.since);
      if (failures.length > 0) {
        throw new OperationFailedError(
          'LaunchFailed',
          `instances of ${options.groupName} failed to launch: ${failures.slice(0, 3).join(' | ')}`,
          {
            reasons: failures,
          },
        );
      }
    }
    if (
      !(await schedule.next((backoffMs) =>
        healthPollDelayMs({
          now: Date.now(),
          dueAt,
          backoffMs,
          fastMs,
          lastPollAt: polledAt,
          ...(window ? { window } : {}),
        }),
      ))
    )
      break;
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
  return sourceTraffic(aws).drainSeconds(targetGroupArns);
}

/**
 * Waits until none of `instanceIds` is still registered or draining in the
 * target groups (gone or `unused`), i.e. in-flight requests have finished.
 */
export async function waitForDrained(aws: AwsClients, options: Parameters<typeof waitForDrainedIn>[1]): Promise<void> {
  await waitForDrainedIn(sourceTraffic(aws), options);
}

/**
 * Waits until the group's InService instances give at least `count` units
 * of its desired capacity (capacity-units.ts; one per instance without
 * weights) — lifecycle only, no target group: a disabled group being brought
 * back is not registered yet. Fails at once on launch failures. Returns their ids.
 */
export async function waitForInService(
  aws: AwsClients,
  options: { groupName: string; count: number; deadline: number; since: Date; log: Logger },
): Promise<string[]> {
  const schedule = pollSchedule(options.deadline);
  const sizes: InstanceTypeSizes = new Map();
  let lastLine = '';
  for (;;) {
    const [asg] = await describeAsgsByName(aws, [options.groupName]);
    if (!asg)
      throw new OperationFailedError(
        'ServerGroupGone',
        `server group ${options.groupName} disappeared while waiting for its instances`,
      );
    const running = (asg.Instances ?? []).filter((i) => i.LifecycleState === 'InService');
    const units = capacityUnits(running, await readUnitWeight(aws, asg, sizes));
    const line = `${options.groupName}: ${units}/${options.count} InService`;
    if (line !== lastLine) {
      options.log.info(line);
      lastLine = line;
    }
    if (units >= options.count) return running.map((i) => i.InstanceId as string);
    const failures = await failedActivities(aws, options.groupName, options.since);
    if (failures.length > 0) {
      throw new OperationFailedError(
        'LaunchFailed',
        `instances of ${options.groupName} failed to launch: ${failures.slice(0, 3).join(' | ')}`,
        { reasons: failures },
      );
    }
    if (!(await schedule.next())) {
      throw new OperationFailedError(
        'InServiceTimeout',
        `${options.groupName} had ${units}/${options.count} InService at the deadline`,
      );
    }
  }
}
