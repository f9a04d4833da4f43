import { createHash } from 'node:crypto';
import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { ConflictError, InputError } from '../core/errors';
import type { ClusterName } from '../core/naming';
import { Phase } from '../cluster/phases';
import { loadCluster, type ServerGroup } from '../cluster/server-groups';
import { findDeployment, ledgerAws, type LedgerRecord, type LedgerRef } from '../ledger';
import type { CreatedLaunchTemplate } from './launch-template';
import { restorePinnedMin } from './operations/remove-new-group';
import { TestListenerTag } from './operations/test-listener';
import type { DeployPlan } from './plan';
import { bringUp, removeBeforeTraffic, type BroughtUp, type RedBlackOptions, type RedBlackResult } from './red-black';
import type { Capacity, DeployRequest } from './request';
import { setGroupTags } from './server-group-ops';

/**
 * Hold for a human (#23 part 2): a deploy with `hold` stops once its new group is healthy outside production
 * (behind the test listener when one was given), tagged phase `held`, and records what promote needs in the
 * ledger (result `held`). `promote.ts` finishes it or removes it; until then no other run settles it: a deploy
 * or rollback on the cluster stops with exit 3 ({@link refuseWhenHeld}), recovery and cleanup leave it.
 */

/** The request fields a held deploy keeps for promote: how it finishes (strategy, watch, gates, commands, settings). */
export type HeldRequest = Pick<
  DeployRequest,
  | 'amiId'
  | 'healthTimeoutSeconds'
  | 'targetHealthyPercent'
  | 'keepPrevious'
  | 'scaleDownDelaySeconds'
  | 'drainTimeoutSeconds'
  | 'build'
  | 'verify'
  | 'rolling'
  | 'rolloutId'
>;

/** What the `held` ledger record keeps: the request's finishing fields and the plan promote goes on with. */
export interface HeldDeploy {
  request: HeldRequest;
  targetGroupArns: string[];
  capacity: Capacity;
  /** The group that served when the deploy held (null on a first deploy). */
  previousServerGroup: string | null;
  launchTemplate: CreatedLaunchTemplate;
  /** The afterTraffic command's SHA-256 and timeout: the command may hold a secret, so promote is given it again. */
  afterTraffic?: { sha256: string; timeoutSeconds: number };
}

/** The SHA-256 (hex) of a command, to tell it is the held deploy's without keeping it. */
export function commandSha256(command: string): string {
  return createHash('sha256').update(command).digest('hex');
}

/** The held record's content for a request and its plan. Pure. */
export function heldDeployOf(request: DeployRequest, plan: DeployPlan, template: CreatedLaunchTemplate): HeldDeploy {
  const kept: HeldRequest = {
    amiId: request.amiId,
    healthTimeoutSeconds: request.healthTimeoutSeconds,
    targetHealthyPercent: request.targetHealthyPercent,
    keepPrevious: request.keepPrevious,
    scaleDownDelaySeconds: request.scaleDownDelaySeconds,
    build: request.build,
    ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
    ...(request.verify ? { verify: request.verify } : {}),
    ...(request.rolling ? { rolling: request.rolling } : {}),
    ...(request.rolloutId ? { rolloutId: request.rolloutId } : {}),
  };
  return {
    request: kept,
    targetGroupArns: plan.targetGroupArns,
    capacity: plan.capacity,
    previousServerGroup: plan.source?.name ?? null,
    launchTemplate: template,
    ...(request.afterTraffic
      ? {
          afterTraffic: {
            sha256: commandSha256(request.afterTraffic.command),
            timeoutSeconds: request.afterTraffic.timeoutSeconds,
          },
        }
      : {}),
  };
}

/**
 * The held deploy's afterTraffic, from the command promote was given: the same as the held deploy's (by its
 * SHA-256), or exit 2 naming `afterTraffic`, nothing changed.
 */
export function heldAfterTraffic(
  held: HeldDeploy,
  given: string | undefined,
): { command: string; timeoutSeconds: number } | undefined {
  if (!held.afterTraffic) {
    if (given !== undefined)
      throw new InputError('afterTraffic', 'the held deploy had none: promote finishes it as it was asked');
    return undefined;
  }
  if (given === undefined || commandSha256(given) !== held.afterTraffic.sha256)
    throw new InputError(
      'afterTraffic',
      `${given === undefined ? 'is required' : "differs from the held deploy's"}: the held deploy runs an afterTraffic command inside its watch, and the ledger keeps only its SHA-256 (${held.afterTraffic.sha256.slice(0, 12)}…); give the same command`,
    );
  return { command: given, timeoutSeconds: held.afterTraffic.timeoutSeconds };
}

/** A deploy with `hold`: the skeleton's first half, then {@link holdNewGroup}; a failure removes the new group (exit 1). */
export async function runUntilHeld(aws: AwsClients, options: RedBlackOptions): Promise<RedBlackResult> {
  const up = await bringUp(aws, options);
  return holdNewGroup(aws, options, up).catch((error: unknown) => removeBeforeTraffic(aws, options, up, error, true));
}

/**
 * The last step of a deploy with `hold`: phase `held`, the serving group's min unpinned (nothing switches
 * while a human decides, maybe for hours; promote pins it again), the `held` record. The lock is released by
 * the caller as after any run.
 */
export async function holdNewGroup(aws: AwsClients, options: RedBlackOptions, up: BroughtUp): Promise<RedBlackResult> {
  const { plan, request, log, session } = options;
  await setGroupTags(aws, plan.newServerGroup, { [Tag.phase]: Phase.held });
  if (plan.source) await restorePinnedMin(aws, plan.source.name, plan.source.capacity.min, log);
  const totalMs = Date.now() - up.t0;
  await session.record({
    ...up.record,
    result: 'held',
    finishedAt: new Date().toISOString(),
    durationSeconds: Math.round(totalMs / 1000),
    message: `held for a human: ${plan.newServerGroup} healthy ${up.openTestListener ? 'behind the test listener' : 'outside production'}`,
    held: heldDeployOf(request, plan, up.template) as unknown as Record<string, unknown>,
  });
  log.info(
    `${plan.newServerGroup} held: healthy ${up.openTestListener ? 'behind the test listener' : 'outside production'}; ` +
      `${plan.source?.name ?? 'nothing'} serves as before. ${nextSteps(request.cluster.name, plan.newServerGroup)}`,
  );
  return {
    serverGroup: plan.newServerGroup,
    previousServerGroup: plan.source?.name ?? null,
    launchTemplate: up.template,
    targetGroups: plan.targetGroupArns,
    capacity: plan.capacity,
    disabled: [],
    scaledDown: [],
    warm: [],
    destroyed: [],
    copied: up.copied,
    warnings: [],
    verification: null,
    held: true,
    timings: { createdMs: up.createdMs, healthyMs: totalMs, cutoverLatencyMs: 0, disabledMs: 0, totalMs },
  };
}

/** What to run next on a held group (every message about one says it). */
export function nextSteps(cluster: string, serverGroup: string): string {
  return (
    `Promote it: blueGreenPromote (bluegreen promote --cluster ${cluster} --server-group ${serverGroup}); ` +
    `or abort it: blueGreenAbort (bluegreen abort --cluster ${cluster} --server-group ${serverGroup})`
  );
}

/** The cluster's held groups, oldest first. */
export function heldGroupsOf(groups: readonly ServerGroup[]): ServerGroup[] {
  return groups.filter((g) => g.tags[Tag.phase] === Phase.held);
}

/** A held group is never settled silently: a deploy or rollback on its cluster stops (exit 3) naming it and the two steps. */
export function refuseWhenHeld(groups: readonly ServerGroup[], cluster: string): void {
  const [held] = heldGroupsOf(groups);
  if (!held) return;
  const deploymentId = held.tags[Tag.deploymentId] ?? 'unknown';
  throw new ConflictError(
    'DeploymentHeld',
    `${held.name} of ${cluster} is held for a human (deployment ${deploymentId}${held.tags[Tag.version] ? `, version ${held.tags[Tag.version]}` : ''}): nothing else runs on the cluster until it is promoted or aborted`,
    {
      heldServerGroup: held.name,
      deploymentId,
      recovery: nextSteps(cluster, held.name),
    },
  );
}

/** Which held deploy a promote or abort acts on. */
export interface HeldTarget {
  cluster: ClusterName;
  ledger: LedgerRef;
  /** The held group the caller expects (absent: the one held group). */
  serverGroup?: string;
}

/** A held deploy as promote and abort find it, under the lock or before it. */
export interface FoundHeld {
  group: ServerGroup;
  groups: ServerGroup[];
  deploymentId: string;
  /** The held record (absent when the ledger has none: abort still removes the group). */
  record?: LedgerRecord;
  held?: HeldDeploy;
  /** The group that served when it held, as it is now. */
  source?: ServerGroup;
}

/**
 * Finds the held group (read-only) and checks it is as the held deploy left it: the group expected, its
 * deployment's held record, the group that served then still the one serving. Throws `NothingHeld` /
 * `NotAsHeld` (exit 3, nothing changed) otherwise.
 */
export async function findHeld(aws: AwsClients, target: HeldTarget): Promise<FoundHeld> {
  const cluster = target.cluster.name;
  const { groups } = await loadCluster(aws, cluster);
  const held = heldGroupsOf(groups);
  const group = target.serverGroup ? held.find((g) => g.name === target.serverGroup) : held[held.length - 1];
  if (!group) {
    const what = target.serverGroup ? `${target.serverGroup} is not held` : 'no server group is held';
    throw new ConflictError(
      held.length === 0 ? 'NothingHeld' : 'NotAsHeld',
      `${what} on ${cluster}${held.length > 0 ? ` (held: ${held.map((g) => g.name).join(', ')})` : ''}: nothing changed`,
      {
        recovery:
          held.length > 0
            ? `give the held group as serverGroup: ${nextSteps(cluster, held[0]?.name ?? '')}`
            : 'deploymentStatus shows the cluster; deploy with hold: true to hold a new group',
      },
    );
  }
  const deploymentId = group.tags[Tag.deploymentId] ?? 'unknown';
  const record =
    (await findDeployment(ledgerAws(target.ledger, aws), target.ledger, cluster, {
      deploymentId,
      result: 'held',
      kind: 'deploy',
    })) ?? undefined;
  const heldDeploy = record?.held as HeldDeploy | undefined;
  const previous = heldDeploy?.previousServerGroup;
  const source = previous ? groups.find((g) => g.name === previous) : undefined;
  if (previous && (!source || !source.enabled))
    throw new ConflictError(
      'NotAsHeld',
      `${previous}, which served when ${group.name} was held, ${source ? 'no longer serves as it did' : 'is gone'}: the cluster is not as the held deploy left it; nothing changed`,
      { heldServerGroup: group.name, recovery: `abort it (blueGreenAbort) and deploy again` },
    );
  return {
    group,
    groups,
    deploymentId,
    ...(record ? { record } : {}),
    ...(heldDeploy ? { held: heldDeploy } : {}),
    ...(source ? { source } : {}),
  };
}

/** The tags of the test listener a held group stays behind (absent without one). */
export function openTestListenerOf(group: ServerGroup): Record<string, string> | undefined {
  if (!group.tags[TestListenerTag.listener]) return undefined;
  return Object.fromEntries(
    Object.entries(group.tags).filter(
      ([key]) => key.startsWith(TestListenerTag.listener) || key === TestListenerTag.targetGroup,
    ),
  );
}
