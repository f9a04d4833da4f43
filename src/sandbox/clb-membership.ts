import type { WorldSnapshot } from './moto-world';
import type { WorldScope } from './world-effects';

/**
 * Moto's Auto Scaling keeps a classic load balancer's instances equal to
 * those of the *one* group it is updating (moto 5.2 `update_attached_elbs`
 * deregisters every other instance): creating, scaling or attaching a second
 * group takes the first group's instances (and any registered by hand) out of
 * the CLB. AWS only adds and removes the group's own instances. The traffic
 * layer puts them back (straight to moto) before anyone sees the change.
 */

/**
 * Instances that left a CLB between `previous` and `world` although the
 * calls read in `scope` could not have removed them: still running, and not
 * members of a group the calls named. Undefined scope (a full read, effects
 * unknown) or a classic ELB call (a real deregistration) says nothing.
 */
export function droppedByMoto(
  previous: WorldSnapshot | undefined,
  world: WorldSnapshot,
  scope: WorldScope,
): Map<string, string[]> {
  const dropped = new Map<string, string[]>();
  if (!previous?.classicLoadBalancers || scope.full || scope.classicLoadBalancers || scope.asgNames.size === 0)
    return dropped;
  for (const [name, now] of world.classicLoadBalancers ?? []) {
    const before = previous.classicLoadBalancers.get(name);
    if (!before) continue;
    const still = new Set(now.instances);
    const lost = before.instances.filter((id) => {
      if (still.has(id)) return false;
      const instance = world.instances.get(id);
      if (!instance || (instance.state !== 'running' && instance.state !== 'pending')) return false;
      return !instance.asgName || !scope.asgNames.has(instance.asgName);
    });
    if (lost.length > 0) dropped.set(name, lost);
  }
  return dropped;
}
