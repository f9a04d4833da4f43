import type { TimelineEvent } from '../src/sandbox/timeline';

/**
 * What the benchmark measures from the sandbox's timeline (`sandbox.timeline()`),
 * from the outside, instead of what the deploy says of itself. Pure.
 */

/** Targets registered during the window: their first event in it is `initial`. */
export function newTargetsOf(events: readonly TimelineEvent[]): Set<string> {
  const seen = new Set<string>();
  const fresh = new Set<string>();
  for (const e of events) {
    if (e.kind !== 'target-state' || seen.has(e.targetId)) continue;
    seen.add(e.targetId);
    if (e.state === 'initial') fresh.add(e.targetId);
  }
  return fresh;
}

/**
 * The true cutover: last new target really `healthy` → the first call that takes an old group out of
 * service: SuspendProcesses, DetachLoadBalancerTargetGroups or DeleteAutoScalingGroup of an old group (the
 * AWS CLI peer detaches), or DeregisterTargets of old targets.
 */
export interface TrueCutover {
  lastHealthyAt: number;
  cutoverAt: number;
  /** What started the cutover, e.g. `SuspendProcesses bench-v001`. */
  cutoverCall: string;
  ms: number;
}

/** Calls naming an old group that take it out of service. */
const OUT_OF_SERVICE = new Set(['SuspendProcesses', 'DetachLoadBalancerTargetGroups', 'DeleteAutoScalingGroup']);

/** Measures {@link TrueCutover} in a deploy's window; undefined when the window holds no cutover. */
export function trueCutoverOf(events: readonly TimelineEvent[], oldGroups: readonly string[]): TrueCutover | undefined {
  const fresh = newTargetsOf(events);
  const cut = events.find(
    (e) =>
      e.kind === 'call' &&
      ((OUT_OF_SERVICE.has(e.action) && oldGroups.includes(e.autoScalingGroupName ?? '')) ||
        (e.action === 'DeregisterTargets' && (e.targetIds ?? []).some((id) => !fresh.has(id)))),
  );
  if (!cut || cut.kind !== 'call') return undefined;
  let lastHealthyAt: number | undefined;
  for (const e of events) {
    if (e.at > cut.at) break;
    if (e.kind === 'target-state' && e.state === 'healthy' && fresh.has(e.targetId)) lastHealthyAt = e.at;
  }
  if (lastHealthyAt === undefined) return undefined;
  return {
    lastHealthyAt,
    cutoverAt: cut.at,
    cutoverCall: `${cut.action} ${cut.autoScalingGroupName ?? (cut.targetIds ?? []).join(',')}`,
    ms: cut.at - lastHealthyAt,
  };
}

/** A broken build's timeline: its group created, its last target turned `unhealthy`, its group deleted. */
export interface BrokenBuildTimes {
  createdAt?: number;
  /** When the last of the new targets turned `unhealthy` (the load balancer's verdict; the floor of any give-up). */
  allUnhealthyAt?: number;
  deletedAt?: number;
}

/** Reads {@link BrokenBuildTimes} for the group `group` from a window. */
export function brokenBuildTimesOf(events: readonly TimelineEvent[], group: string): BrokenBuildTimes {
  const fresh = newTargetsOf(events);
  const times: BrokenBuildTimes = {};
  const unhealthy = new Map<string, number>();
  for (const e of events) {
    if (e.kind === 'call' && e.autoScalingGroupName === group) {
      if (e.action === 'CreateAutoScalingGroup' && times.createdAt === undefined) times.createdAt = e.at;
      if (e.action === 'DeleteAutoScalingGroup' && times.deletedAt === undefined) times.deletedAt = e.at;
    }
    if (e.kind === 'target-state' && fresh.has(e.targetId) && e.state === 'unhealthy' && !unhealthy.has(e.targetId))
      unhealthy.set(e.targetId, e.at);
  }
  if (fresh.size > 0 && unhealthy.size === fresh.size) times.allUnhealthyAt = Math.max(...unhealthy.values());
  return times;
}

/** Median of numbers (undefined when empty). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
