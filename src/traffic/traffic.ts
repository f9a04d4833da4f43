import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';

/**
 * The narrow traffic interface: the only way the engine moves a server
 * group's instances in and out of its load balancers and reads their health.
 * A "source" is where instances take traffic: an ALB/NLB target group, named
 * by its ARN (`target-groups.ts`), or a classic load balancer, named by its
 * name (`classic-load-balancers.ts`; a CLB name is never an ARN, so one list
 * holds both). The engine uses the composite of `sources.ts`, which hands each
 * source to its kind. A CLB's health maps onto the target-group states
 * (`InService` → `healthy`, registering → `initial`, failing → `unhealthy`,
 * connection draining → `draining`), so the rules reading it do not change.
 */
export interface Traffic {
  /** Health of the instances registered in each source: one read per source, never one per instance. */
  health(sources: readonly string[]): Promise<TargetHealthByGroup>;
  /** Puts instances into every source (in batches the API takes). */
  register(sources: readonly string[], instanceIds: readonly string[]): Promise<void>;
  /**
   * Takes instances out of every source where they are registered and not
   * already draining. `known`: health read just before (under the lock), so
   * it is not read again.
   */
  deregister(sources: readonly string[], instanceIds: readonly string[], known?: TargetHealthByGroup): Promise<void>;
  /** The longest time the sources take to drain a deregistered instance, in seconds (deregistration delay, CLB connection draining). */
  drainSeconds(sources: readonly string[]): Promise<number>;
}

/** Instance health per source (a target group ARN or a CLB name): the target-group shape is the common one. */
export type TargetHealthByGroup = Map<string, TargetHealthDescription[]>;

/** Instances still taking requests in a source: registered and not yet drained (`unused`) — what a drain waits for. */
export function stillDraining(health: TargetHealthByGroup, instanceIds: ReadonlySet<string>): number {
  let remaining = 0;
  for (const targets of health.values())
    remaining += targets.filter(
      (t) => instanceIds.has(t.Target?.Id ?? '') && t.TargetHealth?.State !== 'unused',
    ).length;
  return remaining;
}
