/**
 * Which parts of the traffic layer's world to read again after a call: the
 * scope type and its algebra. Apart from world-effects.ts (which computes a
 * call's scope) so that moto-world.ts, which reads a scope, does not import it.
 */

/** The parts of the world to read again after a call. */
export interface WorldScope {
  /** Read everything (the effect is unknown). */
  full: boolean;
  /** ASGs to describe again: their settings, their members (new ones and those that left), their target groups. */
  asgNames: Set<string>;
  /** Instances to describe again (EC2 state, AMI, ASG tag). */
  instanceIds: Set<string>;
  /** Target groups whose registered targets to read again. */
  targetGroupArns: Set<string>;
  /** List the target groups again (created, deleted, health check settings changed). */
  targetGroupList: boolean;
  /** Read the load balancers' listeners again. */
  listeners: boolean;
  /** AMIs whose tags may have changed (the cache forgets them). */
  imageIds: Set<string>;
  /** Target groups whose attributes (deregistration delay) may have changed (the cache forgets them). */
  targetGroupAttributes: Set<string>;
  /** Read the classic load balancers again (their listeners, health check, instances, draining). */
  classicLoadBalancers: boolean;
}

/** A scope that reads nothing. */
export function emptyScope(): WorldScope {
  return {
    full: false,
    asgNames: new Set(),
    instanceIds: new Set(),
    targetGroupArns: new Set(),
    targetGroupList: false,
    listeners: false,
    imageIds: new Set(),
    targetGroupAttributes: new Set(),
    classicLoadBalancers: false,
  };
}

/** A scope that reads everything. */
export function fullScope(): WorldScope {
  return { ...emptyScope(), full: true };
}

/** True when the scope reads nothing. */
export function isEmptyScope(scope: WorldScope): boolean {
  return (
    !scope.full &&
    !scope.targetGroupList &&
    !scope.listeners &&
    !scope.classicLoadBalancers &&
    scope.asgNames.size === 0 &&
    scope.instanceIds.size === 0 &&
    scope.targetGroupArns.size === 0 &&
    scope.imageIds.size === 0 &&
    scope.targetGroupAttributes.size === 0
  );
}

/** Everything either scope reads. */
export function mergeScopes(a: WorldScope | undefined, b: WorldScope): WorldScope {
  if (!a) return b;
  const union = (x: Set<string>, y: Set<string>): Set<string> => new Set([...x, ...y]);
  return {
    full: a.full || b.full,
    asgNames: union(a.asgNames, b.asgNames),
    instanceIds: union(a.instanceIds, b.instanceIds),
    targetGroupArns: union(a.targetGroupArns, b.targetGroupArns),
    targetGroupList: a.targetGroupList || b.targetGroupList,
    listeners: a.listeners || b.listeners,
    imageIds: union(a.imageIds, b.imageIds),
    targetGroupAttributes: union(a.targetGroupAttributes, b.targetGroupAttributes),
    classicLoadBalancers: a.classicLoadBalancers || b.classicLoadBalancers,
  };
}
