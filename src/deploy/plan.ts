import { isCanaryGroup, type ServerGroup } from '../cluster/server-groups';
import { nextServerGroupName } from '../core/naming';
import { InputError } from '../core/errors';
import type { Capacity, DeployRequest } from './request';
import { checkOverrideTemplates } from './fleet-settings';
import { splitSources } from '../traffic/sources';
import { checkTrafficGuards } from './traffic-guards';

/** What a deploy will do, computed from live AWS state before any change. */
export interface DeployPlan {
  cluster: string;
  newServerGroup: string;
  /** The newest enabled group: launch settings, capacity and target groups are copied from it. */
  source: ServerGroup | undefined;
  capacity: Capacity;
  targetGroupArns: string[];
  subnets: string[];
  /** Enabled groups to disable once the new one is healthy (the source and any other enabled one). */
  toDisable: string[];
  /** Disabled groups older than ours beyond `keepPrevious`, to destroy at the end. */
  toDestroy: string[];
  /** Groups named or tagged like the cluster but not made by a deploy: reported, never changed. */
  foreign: string[];
}

/** Newest enabled server group (the source of a deploy); a canary's group (its own target groups, the next run removes it) is none. */
export function newestEnabled(groups: readonly ServerGroup[]): ServerGroup | undefined {
  const production = [...groups].reverse().filter((g) => !isCanaryGroup(g));
  return production.find((g) => g.enabled && g.capacity.desired > 0) ?? production.find((g) => g.enabled);
}

/**
 * Disabled groups to destroy once `keep` is the enabled one: all but the
 * `keepPrevious` newest disabled ones — never an enabled group, never one
 * newer than `keep`.
 */
export function groupsBeyondKeep(
  groups: readonly ServerGroup[],
  keep: string,
  keepPrevious: number,
  alsoDisabled: readonly string[] = [],
): string[] {
  const ordered = [...groups];
  const keepIndex = ordered.findIndex((g) => g.name === keep);
  const older = keepIndex < 0 ? ordered : ordered.slice(0, keepIndex);
  const disabledOlder = older.filter((g) => !g.enabled || alsoDisabled.includes(g.name));
  return disabledOlder.slice(0, Math.max(0, disabledOlder.length - keepPrevious)).map((g) => g.name);
}

/**
 * The new group's traffic sources (target group ARNs, then classic load
 * balancer names): each kind as given, else the current group's of that kind.
 */
function plannedSources(
  current: readonly string[] | undefined,
  given: { targetGroupArns: string[] | undefined; loadBalancerNames?: string[] | undefined },
): string[] | undefined {
  if (!given.targetGroupArns && !given.loadBalancerNames) return current ? [...current] : undefined;
  const kept = splitSources(current ?? []);
  return [...(given.targetGroupArns ?? kept.targetGroupArns), ...(given.loadBalancerNames ?? kept.loadBalancerNames)];
}

/** Computes the plan; throws InputError for what a first deploy must be told. */
export function planDeploy(
  groups: readonly ServerGroup[],
  request: DeployRequest,
  resolved: {
    targetGroupArns: string[] | undefined;
    loadBalancerNames?: string[] | undefined;
    subnets: string[] | undefined;
    foreign?: readonly string[];
  },
): DeployPlan {
  const source = newestEnabled(groups);
  const newest = [...groups].reverse().find((g) => g.sequence !== undefined);
  const foreign = [...(resolved.foreign ?? [])];
  const inUse = new Set([...groups.map((g) => g.name), ...foreign]);
  const newServerGroup = nextServerGroupName(request.cluster.name, newest?.sequence, inUse);
  const capacity = request.capacity ?? source?.capacity;
  if (!capacity)
    throw new InputError(
      'capacity',
      'is required on the first deploy of a cluster: {"min": 2, "max": 4, "desired": 2}',
    );
  const targetGroupArns = plannedSources(source?.targetGroupArns, resolved);
  if (!targetGroupArns || targetGroupArns.length === 0) {
    throw new InputError(
      'targetGroups',
      'is required on the first deploy of a cluster: the target group(s) the load balancer sends traffic to (or loadBalancerNames: classic load balancers)',
    );
  }
  // The temporary test target group copies a production target group's settings: a classic ELB has none to copy.
  if (request.testListener && splitSources(targetGroupArns).targetGroupArns.length === 0)
    throw new InputError(
      'testListener',
      'needs a target group (targetGroups): the test target group copies its settings; a cluster behind classic load balancers alone runs beforeTraffic without a test listener',
    );
  const subnets = resolved.subnets ?? (source?.asg.VPCZoneIdentifier ?? '').split(',').filter(Boolean);
  if (subnets.length === 0 && !source)
    throw new InputError('subnets', 'is required on the first deploy of a cluster: the subnets to launch in');
  // A per-override launch template would launch the old AMI: refused before anything changes.
  if (source) checkOverrideTemplates(source.asg);
  checkTrafficGuards({
    groups,
    targetGroupArns,
    capacity,
    ...(request.allowRemovingTargetGroups !== undefined
      ? { allowRemovingTargetGroups: request.allowRemovingTargetGroups }
      : {}),
    ...(request.allowScaleToZero !== undefined ? { allowScaleToZero: request.allowScaleToZero } : {}),
  });
  const toDisable = groups.filter((g) => g.enabled && g.name !== newServerGroup).map((g) => g.name);
  const afterDeploy = [...groups];
  const toDestroy = groupsBeyondKeep(afterDeploy, '', request.keepPrevious, toDisable);
  return {
    cluster: request.cluster.name,
    newServerGroup,
    source,
    capacity,
    targetGroupArns,
    subnets,
    toDisable,
    toDestroy,
    foreign,
  };
}

/** The plan as lines for the log (`--plan`). */
export function describePlan(plan: DeployPlan, amiId: string): string {
  const lines = [
    `plan for cluster ${plan.cluster}:`,
    `  create ${plan.newServerGroup} from ${amiId} (launch template copied from ${plan.source?.name ?? 'nothing: first deploy'})`,
    `  capacity min/max/desired ${plan.capacity.min}/${plan.capacity.max}/${plan.capacity.desired} (min pinned to desired while both run)`,
    `  traffic sources (target groups, classic load balancers): ${plan.targetGroupArns.join(', ')}`,
    `  wait until healthy, then disable: ${plan.toDisable.join(', ') || 'nothing (first deploy)'}`,
    `  destroy (beyond keepPrevious): ${plan.toDestroy.join(', ') || 'nothing'}`,
    ...(plan.foreign.length > 0 ? [`  left alone (not made by a bluegreen deploy): ${plan.foreign.join(', ')}`] : []),
  ];
  return lines.join('\n');
}
