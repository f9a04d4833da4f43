// The health rules, pure: what counts as healthy, how many are needed, when a build is broken.
// The waits that poll AWS and apply them are health.ts.
import { targetGroupNameFromArn } from '../traffic/target-group-names';
import type { TargetHealthByGroup } from '../traffic/traffic';
import type { UnitWeight } from './capacity-units';

/** How far a server group is from serving; counts are in the group's capacity units (capacity-units.ts). */
export interface HealthProgress {
  desired: number;
  required: number;
  inService: number;
  /** InService in the ASG and `healthy` in every target group (units: an instance of weight 2 counts 2). */
  healthy: number;
  healthyInstanceIds: string[];
  /** Why the others are not healthy yet: `i-… web-tg initial (Elb.InitialHealthChecking)`. */
  pending: string[];
}

/**
 * Counts the capacity that really serves: instances InService in the ASG and
 * `healthy` in every target group, each counting `weight` units (1 by
 * default). `initial`, `unhealthy`, `draining` and `unused` do not count.
 */
export function countHealthy(
  instances: ReadonlyArray<{ InstanceId?: string; LifecycleState?: string; InstanceType?: string }>,
  targetGroupArns: readonly string[],
  health: TargetHealthByGroup,
  weight: UnitWeight = () => 1,
): Pick<HealthProgress, 'inService' | 'healthy' | 'healthyInstanceIds' | 'pending'> {
  const pending: string[] = [];
  const healthyInstanceIds: string[] = [];
  let inService = 0;
  let healthy = 0;
  for (const instance of instances) {
    const id = instance.InstanceId ?? '';
    if (instance.LifecycleState !== 'InService') {
      pending.push(`${id} ${instance.LifecycleState ?? 'unknown'}`);
      continue;
    }
    inService += weight(instance);
    const problems: string[] = [];
    for (const arn of targetGroupArns) {
      const description = (health.get(arn) ?? []).find((t) => t.Target?.Id === id);
      const state = description?.TargetHealth?.State ?? 'unregistered';
      if (state !== 'healthy') {
        const reason = description?.TargetHealth?.Reason ? ` (${description.TargetHealth.Reason})` : '';
        problems.push(`${targetGroupNameFromArn(arn)} ${state}${reason}`);
      }
    }
    if (problems.length === 0) {
      healthyInstanceIds.push(id);
      healthy += weight(instance);
    } else pending.push(`${id} ${problems.join(', ')}`);
  }
  return { inService, healthy, healthyInstanceIds, pending };
}

/** Capacity units needed for `percent` of `desired` (at least one when desired > 0). */
export function requiredHealthy(desired: number, percent: number): number {
  if (desired === 0) return 0;
  return Math.max(1, Math.ceil((desired * percent) / 100));
}

/**
 * Consecutive polls that must all see the group healthy before it counts:
 * cutover needs health that holds over a short window, not one snapshot.
 */
export const STABLE_HEALTH_POLLS = 2;

/** Consecutive polls that must all see the build broken ({@link brokenBuildReasons}) before the deploy gives up on it. */
export const BROKEN_BUILD_POLLS = 2;

/** Health check reasons that mean the app answers, wrongly: not a slow start. */
const ANSWERS_WRONGLY = new Set(['Target.ResponseCodeMismatch']);
/** Health check reasons that may be a slow start: they count only past the ASG's grace period. */
const NOT_ANSWERING = new Set(['Target.Timeout', 'Target.FailedHealthChecks']);

/** What {@link brokenBuildReasons} looks at, for one poll. */
export interface BrokenBuildInput {
  instances: ReadonlyArray<{ InstanceId?: string; LifecycleState?: string }>;
  targetGroupArns: readonly string[];
  health: TargetHealthByGroup;
  /** When each instance was first seen InService (epoch ms). */
  inServiceSince: ReadonlyMap<string, number>;
  /** The ASG's health check grace period, in real ms on this clock. */
  graceMs: number;
  /** True once any new instance was seen healthy in every target group during this wait. */
  everHealthy: boolean;
  now: number;
}

/**
 * The rule for giving up on a broken build before the health timeout: every
 * InService instance of the new group (at least one) is `unhealthy` with a
 * failing reason in some target group, and none was ever seen healthy during
 * this wait. `Target.ResponseCodeMismatch` (the app answers, wrongly) counts
 * at once; connection failures (`Target.Timeout`, `Target.FailedHealthChecks`)
 * only past the ASG's health check grace period (the app may still be
 * starting). `initial` (booting, first checks) never counts. Returns one line
 * per instance when the build looks broken on this poll, else undefined; the
 * caller gives up after {@link BROKEN_BUILD_POLLS} consecutive such polls. Pure.
 */
export function brokenBuildReasons(input: BrokenBuildInput): string[] | undefined {
  if (input.everHealthy) return undefined;
  const reasons: string[] = [];
  for (const instance of input.instances) {
    if (instance.LifecycleState !== 'InService') continue;
    const id = instance.InstanceId ?? '';
    const pastGrace = input.now - (input.inServiceSince.get(id) ?? input.now) >= input.graceMs;
    let failing: string | undefined;
    for (const arn of input.targetGroupArns) {
      const target = (input.health.get(arn) ?? []).find((t) => t.Target?.Id === id)?.TargetHealth;
      const reason = target?.Reason ?? '';
      if (target?.State !== 'unhealthy') continue;
      if (ANSWERS_WRONGLY.has(reason) || (pastGrace && NOT_ANSWERING.has(reason))) {
        failing = `${id} ${targetGroupNameFromArn(arn)} unhealthy (${reason})`;
        break;
      }
    }
    if (!failing) return undefined;
    reasons.push(failing);
  }
  return reasons.length > 0 ? reasons : undefined;
}
