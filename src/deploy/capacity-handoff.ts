import type { AwsClients } from '../aws/clients';
import { describeAsgsByName } from '../cluster/server-groups';
import type { Logger } from '../core/log';
import { waitForHealthyTargets, type HealthProof } from './health';
import { setCapacity } from './server-group-ops';

/**
 * Capacity handoff (docs/architecture.md, "Capacity handoff"): the serving
 * group's desired capacity may change while a deploy runs (scaling policies,
 * scheduled actions, a person). Before the previous group leaves the target
 * groups — and at each rolling step — the new group is raised to at least the
 * previous group's *current* desired capacity (its step's share of it),
 * within the new group's max, and waits until that many are healthy.
 */

/** What the new group should run to take over from a previous group at `previousDesired`. */
export interface HandoffTarget {
  /** The new group's desired capacity after the handoff (never lower than it is). */
  desired: number;
  /** What the previous group's load asked for, when the new group's max held it lower. */
  cappedFrom?: number;
}

/**
 * The new group's desired capacity for a handoff: the previous group's
 * current desired (`percent` of it, rounded up, at a rolling step) when that
 * is more than the new group runs, held to the new group's max.
 */
export function handoffTarget(
  previousDesired: number,
  current: { desired: number; max: number },
  percent = 100,
): HandoffTarget {
  const wanted = Math.ceil((previousDesired * percent) / 100);
  if (wanted <= current.desired) return { desired: current.desired };
  const desired = Math.max(current.desired, Math.min(wanted, current.max));
  return { desired, ...(wanted > desired ? { cappedFrom: wanted } : {}) };
}

/** Options of {@link handOffCapacity}. */
export interface HandoffOptions {
  /** The group leaving the target groups. */
  previous: string;
  newServerGroup: string;
  targetGroupArns: readonly string[];
  /** At a rolling step: the share of the previous group's desired the new group takes (default 100). */
  percent?: number;
  targetHealthyPercent: number;
  /** Epoch ms: the wait for the raised count is bounded by it. */
  deadline: number;
  since: Date;
  /** With the cluster, the proof carries the cluster as the confirming poll saw it (for the cutover). */
  cluster?: string;
  log: Logger;
}

/** What {@link handOffCapacity} did. */
export interface CapacityHandoff extends HandoffTarget {
  previousDesired: number;
  /** The new group's desired before the handoff. */
  before: number;
  /** Proof of health at the raised count; undefined when nothing was raised. */
  proof?: HealthProof;
}

/**
 * Reads both groups' capacities now, raises the new group (desired and its
 * pinned min, so nothing scales it back in while both run) to
 * {@link handoffTarget}, and waits until that many are healthy in every
 * target group. One DescribeAutoScalingGroups when nothing needs raising.
 */
export async function handOffCapacity(aws: AwsClients, options: HandoffOptions): Promise<CapacityHandoff> {
  const groups = await describeAsgsByName(aws, [options.previous, options.newServerGroup]);
  const previousAsg = groups.find((g) => g.AutoScalingGroupName === options.previous);
  const newAsg = groups.find((g) => g.AutoScalingGroupName === options.newServerGroup);
  const before = newAsg?.DesiredCapacity ?? 0;
  const previousDesired = previousAsg?.DesiredCapacity ?? 0;
  const target = handoffTarget(previousDesired, { desired: before, max: newAsg?.MaxSize ?? before }, options.percent);
  if (target.cappedFrom !== undefined)
    options.log.warn(
      `${options.previous} runs ${previousDesired}; ${options.newServerGroup} can only take ${target.desired} ` +
        `(its max): raise its max (UpdateAutoScalingGroup) if it must carry ${target.cappedFrom}`,
    );
  if (target.desired <= before) return { ...target, previousDesired, before };
  options.log.info(
    `${options.previous} scaled to ${previousDesired} during the deploy: raising ${options.newServerGroup} ` +
      `from ${before} to ${target.desired} before it takes over`,
  );
  await setCapacity(aws, options.newServerGroup, { min: target.desired, desired: target.desired });
  const proof = await waitForHealthyTargets(aws, {
    groupName: options.newServerGroup,
    targetGroupArns: options.targetGroupArns,
    targetHealthyPercent: options.targetHealthyPercent,
    deadline: options.deadline,
    since: options.since,
    log: options.log,
    ...(options.cluster ? { cluster: options.cluster } : {}),
  });
  return { ...target, previousDesired, before, proof };
}
