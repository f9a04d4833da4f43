// Longer than most files on purpose: how each interrupted phase is settled, side by side, so no phase
// is settled two ways.
import { closeTestListener } from './operations/test-listener';
import { DescribeLaunchTemplatesCommand } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { ConflictError, describeError } from '../core/errors';
import type { Logger } from '../core/log';
import { nextAction, Phase, UNFINISHED_PHASES } from '../cluster/phases';
import { isCanaryGroup, loadCluster, type ServerGroup } from '../cluster/server-groups';
import { deleteTargetGroups } from '../traffic/canary-target-group';
import { hasWarmPool } from './fleet-settings';
import { canaryNamesOf, canaryOut } from './operations/end-canary';
import { waitForHealthyTargets } from './health';
import { deleteLaunchTemplate } from './launch-template';
import { withLedgerStatus, type LedgerStatus } from '../ledger';
import { openClusterSession, type ClusterSession, type SessionOptions } from './journal';
import { finishCutover } from './cutover';
import { cancelScheduledScaleDown } from './scheduled-scale-down';
import { decodeRunSettings } from './run-settings';
import {
  destroyServerGroup,
  disableServerGroup,
  groupToDestroy,
  removeGroupTags,
  scaleDownServerGroup,
  setCapacity,
  setGroupTags,
} from './server-group-ops';
import { settleInterruptedWatch } from './operations/interrupted-watch';
import { removeOrphanTargetGroups } from './operations/orphan-target-groups';
import { endRolloutWatch, isRolloutRunning, watchingRollout } from './rollout-watch';
import { heldGroupsOf, nextSteps, refuseWhenHeld } from './hold';

/**
 * Crash recovery: a deploy killed at any point leaves tags that say how far it
 * got (`bluegreen:phase` on the new group, `bluegreen:pinned-min` where a min
 * was pinned, `bluegreen:scale-down-after` on groups being disabled). The next
 * run under the lock finishes what had cut over and removes what had not —
 * never two enabled groups, never a min left pinned.
 */

/** What recovery did, one line per action. */
export type RecoveryActions = string[];

/** Options of {@link recoverCluster}. */
export interface RecoveryOptions {
  cluster: string;
  region: string;
  session: ClusterSession;
  log: Logger;
  keepPrevious: number;
  scaleDownDelaySeconds: number;
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  /**
   * The run is a rollback: a cut-over group that is not healthy now is left
   * for the rollback to take out of service (instead of exit 3), and its
   * previous group is not scaled down under it.
   */
  rollingBack?: boolean;
  /**
   * What a held group (phase `held`, `deploy/hold.ts`) means to this run: `refuse` (default: deploy, rollback)
   * stops with exit 3 naming it before anything changes; `report` (cleanup) leaves it and says so; `leave`
   * (promote, abort: they act on it) leaves it. Never settled here either way.
   */
  held?: 'refuse' | 'report' | 'leave';
}

/** Server groups a crashed run left mid-way, newest first. */
export function unfinishedGroups(groups: readonly ServerGroup[]): ServerGroup[] {
  return groups.filter((g) => UNFINISHED_PHASES.has(g.tags[Tag.phase] ?? '')).reverse();
}

/** Launch templates tagged for the cluster whose server group does not exist (a crash between the two creations). */
async function orphanLaunchTemplates(
  aws: AwsClients,
  cluster: string,
  groups: readonly ServerGroup[],
): Promise<Array<{ id: string; name: string }>> {
  const response = await aws.ec2.send(
    new DescribeLaunchTemplatesCommand({ Filters: [{ Name: `tag:${Tag.cluster}`, Values: [cluster] }] }),
  );
  const live = new Set(groups.map((g) => g.name));
  const inUse = new Set(groups.map((g) => g.launchTemplate?.id).filter(Boolean));
  return (response.LaunchTemplates ?? [])
    .filter((t) => !live.has(t.LaunchTemplateName ?? '') && !inUse.has(t.LaunchTemplateId))
    .map((t) => ({ id: t.LaunchTemplateId as string, name: t.LaunchTemplateName as string }));
}

/**
 * Brings the cluster to a settled state after a crash, and performs
 * scale-downs whose warm window has passed. Returns what it did.
 */
export async function recoverCluster(aws: AwsClients, options: RecoveryOptions): Promise<RecoveryActions> {
  const { log, cluster } = options;
  const actions: RecoveryActions = [];
  let { groups } = await loadCluster(aws, cluster);
  if ((options.held ?? 'refuse') === 'refuse') refuseWhenHeld(groups, cluster);
  if (options.held === 'report')
    for (const held of heldGroupsOf(groups))
      actions.push(`left ${held.name} held for a human (${nextSteps(cluster, held.name)})`);
  /** Previous groups of cut-over groups left for a rollback: the rollback brings them back, so they keep their instances. */
  const keepRunning = new Set<string>();
  for (const group of unfinishedGroups(groups)) {
    const phase = group.tags[Tag.phase] as string;
    const action = nextAction(phase, group.tags[Tag.watchedBy]);
    const deploymentId = group.tags[Tag.deploymentId] ?? 'unknown';
    const record = {
      kind: 'recovery' as const,
      deploymentId,
      cluster,
      region: options.region,
      startedAt: new Date().toISOString(),
      who: options.session.lock.record.owner,
      serverGroup: group.name,
      ...(group.amiId ? { amiId: group.amiId } : {}),
    };
    if (action === 'disable-again') {
      // A rollback was bringing this older group back and had not cut over: the serving group still serves, so put this one back.
      log.warn(
        `${group.name} was being re-enabled by an interrupted rollback (${deploymentId}) before it took over: disabling it again`,
      );
      await setGroupTags(aws, group.name, {
        [Tag.scaleDownAfter]: group.tags[Tag.scaleDownAfter] ?? new Date().toISOString(),
      });
      await disableServerGroup(aws, group, {
        log,
        ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
      });
      await removeGroupTags(aws, group.name, [Tag.phase]);
      actions.push(`disabled ${group.name} again (rollback interrupted before cutover)`);
      await options.session.record({
        ...record,
        result: 'aborted',
        finishedAt: new Date().toISOString(),
        message: `rollback interrupted in phase ${phase}; ${group.name} disabled again`,
      });
      continue;
    }
    const rolloutId = watchingRollout(group);
    if (rolloutId !== undefined) {
      const { ledger } = options.session.lock;
      if (await isRolloutRunning(aws, ledger, cluster, rolloutId)) {
        log.info(`${group.name}: under the watch of rollout ${rolloutId}, which is running: left to it`);
        continue;
      }
      if (!group.enabled) {
        // The rollout put this region back and was stopped before it cleared its mark.
        await endRolloutWatch(aws, group.name);
        actions.push(`cleared the mark of rollout ${rolloutId} on ${group.name} (out of service)`);
        continue;
      }
      log.warn(`${group.name}: rollout ${rolloutId} ended before its last wave (killed): its verdict is unknown`);
    }
    // An interrupted watch: rolled back, or (a rollback's, or nothing warm to go back to) its marks cleared and finished.
    if (phase === Phase.watching) {
      const settled = await settleInterruptedWatch(aws, {
        watched: group,
        groups,
        healthTimeoutSeconds: options.healthTimeoutSeconds,
        ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
        ...(options.rollingBack ? { rollingBack: true } : {}),
        log,
      });
      if (settled) {
        for (const name of settled.keepRunning) keepRunning.add(name);
        actions.push(settled.action);
        await options.session.record({
          ...record,
          result: options.rollingBack ? 'aborted' : 'rolled-back',
          verdict: 'interrupted',
          finishedAt: new Date().toISOString(),
          message: `interrupted during its watch; ${settled.action}`,
        });
        continue;
      }
    }
    const canaryNames = canaryNamesOf(group.tags);
    if (action === 'end-canary' || (action === 'remove' && canaryNames.length > 0)) {
      // A canary's verdict is unknown: the listeners go back first (seconds), then the group and its target groups go.
      log.warn(
        `${group.name} was left by an interrupted canary (${deploymentId}) in phase ${phase}: putting the listeners back and removing it`,
      );
      const productionArns = groups.filter((g) => !isCanaryGroup(g)).flatMap((g) => g.targetGroupArns);
      const canaryArns = await canaryOut(aws, canaryNames, log, { productionArns });
      await destroyServerGroup(aws, groupToDestroy(group));
      await deleteTargetGroups(aws, canaryArns);
      actions.push(`put the listeners back and removed ${group.name} (canary interrupted in phase ${phase})`);
      await options.session.record({
        ...record,
        result: 'aborted',
        verdict: 'interrupted',
        finishedAt: new Date().toISOString(),
        message: `canary interrupted in phase ${phase}; listeners put back, removed`,
      });
      continue;
    }
    if (action === 'remove') {
      log.warn(`${group.name} was left by an interrupted deploy (${deploymentId}) before it took traffic: removing it`);
      // Interrupted while beforeTraffic ran: the test listener back as it was, its temporary target group gone first.
      const closed = await closeTestListener(aws, group.name, group.tags, log);
      await destroyServerGroup(aws, {
        ...groupToDestroy(group),
        targetGroupArns: group.targetGroupArns.filter((arn) => arn !== closed),
      });
      actions.push(`removed ${group.name} (interrupted before cutover)`);
      await options.session.record({
        ...record,
        result: 'aborted',
        finishedAt: new Date().toISOString(),
        message: `interrupted in phase ${phase}; removed`,
      });
      continue;
    }
    log.warn(`${group.name} was left by an interrupted deploy (${deploymentId}) in phase ${phase}: finishing it`);
    try {
      await waitForHealthyTargets(aws, {
        groupName: group.name,
        targetGroupArns: group.targetGroupArns,
        targetHealthyPercent: 100,
        // A rollback does not wait for a group it is about to take out of service: a short look decides.
        deadline: Date.now() + (options.rollingBack ? ROLLBACK_HEALTH_LOOK_MS : options.healthTimeoutSeconds * 1000),
        since: new Date(),
        log,
      });
    } catch (error) {
      // Never leave a min pinned behind an exit: unpin every group first.
      actions.push(...(await unpinAll(aws, groups, log)));
      const previous = group.tags[Tag.previousServerGroup];
      if (options.rollingBack) {
        log.warn(
          `${group.name} was cut over by an interrupted deploy but is not healthy now: leaving it to this rollback to take out of service`,
        );
        if (previous) keepRunning.add(previous);
        actions.push(`left ${group.name} (cut over, not healthy) for the rollback`);
        continue;
      }
      throw new ConflictError(
        'NeedsOperator',
        `${group.name} was cut over by an interrupted deploy but is not healthy now: ${describeError(error)}`,
        {
          recovery: `run a rollback (rollbackDeploy, to: previous): it re-enables ${previous ?? 'the previous server group'} and takes ${group.name} out of service; or deploy again once the instances are healthy`,
          actions,
        },
      );
    }
    const pinned = Number(group.tags[Tag.pinnedFrom]);
    const settings = decodeRunSettings(group.tags[Tag.runSettings], {
      keepPrevious: options.keepPrevious,
      scaleDownDelaySeconds: options.scaleDownDelaySeconds,
      ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
    });
    const finished = await finishCutover(aws, {
      cluster,
      newServerGroup: group.name,
      newMin: Number.isInteger(pinned) ? pinned : group.capacity.min,
      // The interrupted deploy's own choices, recorded on its group when it was made.
      scaleDownDelaySeconds: settings.scaleDownDelaySeconds,
      keepPrevious: settings.keepPrevious,
      ...(settings.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: settings.drainTimeoutSeconds } : {}),
      log,
    });
    actions.push(`finished ${group.name} (disabled ${finished.disabled.join(', ') || 'nothing'})`);
    await options.session.record({
      ...record,
      result: 'recovered',
      // A rollback's interrupted watch is finished: its verdict stays unknown.
      ...(phase === Phase.watching ? { verdict: 'interrupted' as const } : {}),
      finishedAt: new Date().toISOString(),
      message: `finished from phase ${phase}`,
    });
  }
  // Only what a finished or removed group changed needs a fresh look.
  if (unfinishedGroups(groups).length > 0) ({ groups } = await loadCluster(aws, cluster));
  for (const template of await orphanLaunchTemplates(aws, cluster, groups)) {
    await deleteLaunchTemplate(aws, template);
    actions.push(`deleted orphan launch template ${template.name}`);
    log.info(`deleted launch template ${template.name}: its server group was never created`);
  }
  // A canary's or a test listener's target groups made before a group that never came: listeners back, deleted.
  actions.push(
    ...(await removeOrphanTargetGroups(aws, {
      cluster,
      groups,
      productionArns: groups.filter((g) => !isCanaryGroup(g)).flatMap((g) => g.targetGroupArns),
      log,
    })),
  );
  actions.push(
    ...(await unpinAll(
      aws,
      // A held group keeps its pin: promote goes on from it as the held deploy left it.
      groups.filter((g) => !UNFINISHED_PHASES.has(g.tags[Tag.phase] ?? '') && g.tags[Tag.phase] !== Phase.held),
      log,
    )),
  );
  for (const group of groups) {
    const due = group.tags[Tag.scaleDownAfter];
    if (due && group.enabled && !UNFINISHED_PHASES.has(group.tags[Tag.phase] ?? '')) {
      // Serving, yet marked for scale-down (brought back by hand, or a re-enable cut short): its pending action must not fire.
      await cancelScheduledScaleDown(aws, group.name);
      await removeGroupTags(aws, group.name, [Tag.scaleDownAfter]);
      actions.push(`removed the pending scale-down of ${group.name} (it serves)`);
      log.info(`${group.name}: serves, so its scale-down (${due}) was removed`);
      continue;
    }
    if (
      due &&
      !group.enabled &&
      !keepRunning.has(group.name) &&
      Date.parse(due) <= Date.now() &&
      group.capacity.desired > 0
    ) {
      await scaleDownServerGroup(aws, group.name, [], { warmPool: hasWarmPool(group.asg) });
      actions.push(`scaled ${group.name} to 0 (warm window over)`);
      log.info(`${group.name}: scaled to 0 (its warm window ended ${due})`);
    }
  }
  return actions;
}

/** How long a rollback's recovery looks at a cut-over group's health before leaving it to the rollback. */
const ROLLBACK_HEALTH_LOOK_MS = 2_000;

/** Restores the min of every group an interrupted run left pinned (`bluegreen:pinned-min`). */
async function unpinAll(aws: AwsClients, groups: readonly ServerGroup[], log: Logger): Promise<RecoveryActions> {
  const actions: RecoveryActions = [];
  for (const group of groups) {
    const pinned = group.tags[Tag.pinnedFrom];
    if (pinned === undefined) continue;
    await setCapacity(aws, group.name, { min: Math.min(Number(pinned) || 0, group.capacity.desired) });
    await removeGroupTags(aws, group.name, [Tag.pinnedFrom]);
    actions.push(`restored min of ${group.name} to ${pinned}`);
    log.info(`${group.name}: min restored to ${pinned} (left pinned by an interrupted run)`);
  }
  return actions;
}

/** What a run that changes a cluster needs to take its lock and settle it first. */
export interface LockedRunOptions {
  cluster: string;
  region: string;
  ledger: SessionOptions['ledger'];
  owner: string;
  deploymentId: string;
  lockLeaseSeconds: number;
  breakExpiredLock: boolean;
  lockWaitSeconds: number;
  keepPrevious: number;
  scaleDownDelaySeconds: number;
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  /** See {@link RecoveryOptions.rollingBack}. */
  rollingBack?: boolean;
  /** See {@link RecoveryOptions.held}. */
  held?: RecoveryOptions['held'];
  log: Logger;
}

/**
 * Takes the cluster lock, then settles what an interrupted run left
 * (deploy, rollback and cleanup all start this way). The caller closes the
 * session; if recovery fails, the session is closed here.
 */
export async function lockAndRecover(
  aws: AwsClients,
  options: LockedRunOptions,
): Promise<{ session: ClusterSession; recovered: RecoveryActions }> {
  const session = await openClusterSession(aws, {
    ledger: options.ledger,
    cluster: options.cluster,
    region: options.region,
    owner: options.owner,
    deploymentId: options.deploymentId,
    leaseSeconds: options.lockLeaseSeconds,
    breakExpiredLock: options.breakExpiredLock,
    waitSeconds: options.lockWaitSeconds,
    log: options.log,
  });
  try {
    const recovered = await recoverCluster(aws, {
      cluster: options.cluster,
      region: options.region,
      session,
      log: options.log,
      keepPrevious: options.keepPrevious,
      scaleDownDelaySeconds: options.scaleDownDelaySeconds,
      healthTimeoutSeconds: options.healthTimeoutSeconds,
      ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
      ...(options.rollingBack ? { rollingBack: true } : {}),
      ...(options.held ? { held: options.held } : {}),
    });
    return { session, recovered };
  } catch (error) {
    await session.close();
    throw error;
  }
}

/** A run that changes a cluster, as {@link planThenRunLocked} takes it. */
export interface PlannedRun<Plan, Result> {
  /** How to take the lock and settle the cluster. */
  lock: LockedRunOptions;
  /** Only the plan was asked for (`--plan`): nothing is locked or changed. */
  planOnly: boolean;
  /** Read-only: what the run will do, from live state. Called once before the lock, and again under it. */
  plan(): Promise<Plan>;
  /** The result of a plan-only run. */
  planned(plan: Plan): Promise<Result>;
  /** Does it, under the lock, from the plan made under the lock. */
  run(plan: Plan, session: ClusterSession, recovered: RecoveryActions): Promise<Result>;
}

/**
 * How deploy and rollback go: plan (read-only, so bad input and "nothing to
 * do" change nothing), then — unless only the plan was asked for — take the
 * lock, settle what an interrupted run left, plan again (the cluster may have
 * changed since the first look), act, and release the lock.
 */
export async function planThenRunLocked<Plan, Result extends object>(
  aws: AwsClients,
  run: PlannedRun<Plan, Result>,
): Promise<Result> {
  const firstPlan = await run.plan();
  if (run.planOnly) return run.planned(firstPlan);
  const { session, recovered } = await lockAndRecover(aws, run.lock);
  let result: Result;
  let ledger: LedgerStatus;
  try {
    const plan = await run.plan();
    result = await run.run(plan, session, recovered);
  } finally {
    ledger = await session.close();
  }
  // Whether every ledger record of the run was written (a pending one makes the stage exit 3).
  return withLedgerStatus(result, ledger);
}
