import { InputError } from '../core/errors';
import { Tag } from '../aws/tags';
import { isBeforeCutover } from '../cluster/phases';
import { isCanaryGroup, type ServerGroup } from '../cluster/server-groups';
import { isClassicLoadBalancer } from '../traffic/sources';
import { targetGroupNameFromArn } from '../traffic/target-group-names';
import type { Capacity } from './request';

/**
 * Spinnaker-style traffic guards, checked on the plan before any change: a
 * deploy must not quietly take traffic away from what serves it now.
 * Violations are bad input (exit 2, nothing changed) unless the request asks
 * for them explicitly.
 */

/** What the guards look at. */
export interface TrafficGuardInput {
  /** The cluster's own server groups (oldest first). */
  groups: readonly ServerGroup[];
  /** Sources (target groups, classic load balancers) the new server group will join. */
  targetGroupArns: readonly string[];
  capacity: Capacity;
  allowRemovingTargetGroups?: boolean;
  allowScaleToZero?: boolean;
}

/** Throws InputError when the planned deploy would leave a served target group or classic load balancer, or the whole cluster, without servers. */
export function checkTrafficGuards(input: TrafficGuardInput): void {
  // A group an interrupted run left before cutover (e.g. in a test listener's temporary target group)
  // serves nothing: recovery removes it under the lock, before the plan is made again. A canary's group
  // serves only its own target groups, and the next run removes it.
  const serving = input.groups.filter(
    (g) => g.enabled && g.capacity.desired > 0 && !isBeforeCutover(g.tags[Tag.phase] ?? '') && !isCanaryGroup(g),
  );
  if (serving.length === 0) return;
  const names = serving.map((g) => g.name).join(', ');
  if (!input.allowRemovingTargetGroups) {
    const covered = new Set(input.targetGroupArns);
    const uncovered = [...new Set(serving.flatMap((g) => g.targetGroupArns))].filter((arn) => !covered.has(arn));
    if (uncovered.length > 0) {
      // The field of the first source left behind: a CLB name is never an ARN.
      const field = isClassicLoadBalancer(uncovered[0] as string) ? 'loadBalancerNames' : 'targetGroups';
      throw new InputError(
        field,
        `would leave ${uncovered.map(targetGroupNameFromArn).join(', ')} without servers: ${names} serve(s) it now. ` +
          `Add it to ${field} (or leave ${field} out to keep the current ones), or set allowRemovingTargetGroups: true to take it out of the cluster on purpose`,
      );
    }
  }
  if (input.capacity.desired === 0 && !input.allowScaleToZero) {
    throw new InputError(
      'capacity.desired',
      `is 0 while ${names} serve(s) traffic: the deploy would take the cluster out of service. ` +
        'Give a desired capacity of at least 1, or set allowScaleToZero: true to do it on purpose',
    );
  }
}
