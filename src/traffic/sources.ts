import type { AwsClients } from '../aws/clients';
import { classicLoadBalancerTraffic } from './classic-load-balancers';
import { targetGroupTraffic } from './target-groups';
import type { TargetHealthByGroup, Traffic } from './traffic';

/**
 * Traffic sources of either kind in one list: an ALB/NLB target group is its
 * ARN, a classic load balancer its name (a CLB name is never an ARN: 1-32
 * alphanumerics and hyphens). The engine passes such lists around unchanged;
 * only the implementations below tell them apart.
 */

/** True for a classic load balancer's name, false for a target group ARN. */
export function isClassicLoadBalancer(source: string): boolean {
  return !source.startsWith('arn:');
}

/** The sources by kind. */
export function splitSources(sources: readonly string[]): { targetGroupArns: string[]; loadBalancerNames: string[] } {
  return {
    targetGroupArns: sources.filter((s) => !isClassicLoadBalancer(s)),
    loadBalancerNames: sources.filter(isClassicLoadBalancer),
  };
}

/** The sources an Auto Scaling group takes traffic from, as its description names them: target groups, then CLBs. */
export function trafficSourcesOf(asg: { TargetGroupARNs?: string[]; LoadBalancerNames?: string[] }): string[] {
  return [...(asg.TargetGroupARNs ?? []), ...(asg.LoadBalancerNames ?? [])];
}

/** The CreateAutoScalingGroup fields that attach a new group to its sources (it registers its instances itself). */
export function attachmentFor(sources: readonly string[]): { TargetGroupARNs: string[]; LoadBalancerNames?: string[] } {
  const { targetGroupArns, loadBalancerNames } = splitSources(sources);
  return {
    TargetGroupARNs: targetGroupArns,
    ...(loadBalancerNames.length > 0 ? { LoadBalancerNames: loadBalancerNames } : {}),
  };
}

/**
 * The engine's {@link Traffic}: each source goes to its kind's implementation
 * (target groups: `target-groups.ts`, classic load balancers:
 * `classic-load-balancers.ts`); health comes back in one map, drains take the
 * longest of both.
 */
export function sourceTraffic(aws: AwsClients): Traffic {
  const groups = targetGroupTraffic(aws);
  const classic = classicLoadBalancerTraffic(aws);
  const both = async <T>(
    sources: readonly string[],
    act: (traffic: Traffic, ofKind: string[]) => Promise<T>,
  ): Promise<T[]> => {
    const { targetGroupArns, loadBalancerNames } = splitSources(sources);
    return Promise.all([
      ...(targetGroupArns.length > 0 ? [act(groups, targetGroupArns)] : []),
      ...(loadBalancerNames.length > 0 ? [act(classic, loadBalancerNames)] : []),
    ]);
  };
  return {
    async health(sources) {
      const merged: TargetHealthByGroup = new Map();
      for (const part of await both(sources, (traffic, ofKind) => traffic.health(ofKind)))
        for (const [source, targets] of part) merged.set(source, targets);
      return merged;
    },
    async register(sources, instanceIds) {
      await both(sources, (traffic, ofKind) => traffic.register(ofKind, instanceIds));
    },
    async deregister(sources, instanceIds, known) {
      await both(sources, (traffic, ofKind) => traffic.deregister(ofKind, instanceIds, known));
    },
    async drainSeconds(sources) {
      return Math.max(0, ...(await both(sources, (traffic, ofKind) => traffic.drainSeconds(ofKind))));
    },
  };
}
