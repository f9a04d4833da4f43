import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { ConflictError } from '../core/errors';
import type { Logger } from '../core/log';
import type { ClusterName } from '../core/naming';
import type { LedgerRef, LedgerReport } from '../ledger';
import { prepareVerification, wantsVerification } from '../verify/prepare';
import { failedAfterCutover, output, type DeployOutput } from './deploy';
import { findHeld, heldAfterTraffic, openTestListenerOf, type FoundHeld, type HeldDeploy } from './hold';
import { whoAmI } from './journal';
import { readLaunchData } from './launch-template';
import { closeTestListener } from './operations/test-listener';
import { operationPortsOf } from './operations/ports';
import { removeNewGroup } from './operations/remove-new-group';
import type { DeployPlan } from './plan';
import { planThenRunLocked, type LockedRunOptions } from './recovery';
import { baseRecord, goLive, pinSource, type RedBlackOptions } from './red-black';
import type { DeployRequest } from './request';

/**
 * Promote and abort of a held deploy (`hold.ts`): both take the cluster lock, find the held group again under
 * it and check it is as the held deploy left it, then promote finishes the deploy as it was asked (its strategy,
 * watch, gates and afterTraffic, read back from the `held` ledger record) and abort removes the group. Neither
 * takes the deploy's inputs again: only who decides and why may be added.
 */

/** A human's decision on a held deploy. */
export interface HeldDecision {
  cluster: ClusterName;
  region: string;
  ledger: LedgerRef;
  /** The held group expected (absent: the cluster's one held group). */
  serverGroup?: string;
  /** Who approved (the pipeline's `input` submitter), recorded as the ledger's `who` as for rollbacks. */
  approvedBy?: string;
  reason?: string;
  /** Promote only: the held deploy's afterTraffic command again (the ledger keeps its SHA-256 alone). */
  afterTraffic?: string;
  build: { buildUrl?: string };
  breakExpiredLock: boolean;
  lockLeaseSeconds: number;
  lockWaitSeconds: number;
}

/** The `abort` output. */
export interface AbortOutput {
  cluster: string;
  region: string;
  deploymentId: string;
  status: 'aborted';
  /** The held group, removed. */
  serverGroup: string;
  /** The group that serves, untouched. */
  previousServerGroup: string | null;
  durationSeconds: number;
  recovered: string[];
  /** Whether every ledger record of this run was written (`written: false`: exit 3). */
  ledger?: LedgerReport['ledger'];
  failure?: LedgerReport['failure'];
}

/** The ledger's `who`: the approver first, then the run (as for rollbacks). */
function ownerOf(decision: HeldDecision): string {
  const run = whoAmI(decision.build.buildUrl);
  return decision.approvedBy ? `${decision.approvedBy} via ${run}` : run;
}

/** How promote and abort take the lock: recovery of other interrupted runs with the held deploy's own settings. */
function lockOptions(decision: HeldDecision, first: FoundHeld, log: Logger): LockedRunOptions {
  const kept = first.held?.request;
  return {
    cluster: decision.cluster.name,
    region: decision.region,
    ledger: decision.ledger,
    owner: ownerOf(decision),
    deploymentId: first.deploymentId,
    lockLeaseSeconds: decision.lockLeaseSeconds,
    breakExpiredLock: decision.breakExpiredLock,
    lockWaitSeconds: decision.lockWaitSeconds,
    keepPrevious: kept?.keepPrevious ?? 2,
    scaleDownDelaySeconds: kept?.scaleDownDelaySeconds ?? 0,
    healthTimeoutSeconds: kept?.healthTimeoutSeconds ?? 600,
    ...(kept?.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: kept.drainTimeoutSeconds } : {}),
    held: 'leave',
    log,
  };
}

/** Under the lock: the same held deploy as on the first look, or exit 3 (it was promoted, aborted or replaced meanwhile). */
function sameAsFirstLook(first: FoundHeld, now: FoundHeld): FoundHeld {
  if (now.deploymentId !== first.deploymentId || now.group.name !== first.group.name)
    throw new ConflictError(
      'NotAsHeld',
      `the held group changed while waiting for the lock (${first.group.name} → ${now.group.name}): nothing changed`,
      { recovery: 'look at deploymentStatus and decide again' },
    );
  return now;
}

/** The held deploy's request, rebuilt from its record and the decision's cluster identity. */
function requestOf(decision: HeldDecision, held: HeldDeploy): DeployRequest {
  const afterTraffic = heldAfterTraffic(held, decision.afterTraffic);
  return {
    ...held.request,
    ...(afterTraffic ? { afterTraffic } : {}),
    cluster: decision.cluster,
    region: decision.region,
    launch: {},
    ledger: decision.ledger,
    tags: {},
    plan: false,
    breakExpiredLock: decision.breakExpiredLock,
    lockLeaseSeconds: decision.lockLeaseSeconds,
    lockWaitSeconds: decision.lockWaitSeconds,
  };
}

/** The held deploy's plan: the held group as the new one, the group that served then as the source. */
function planOf(cluster: string, found: FoundHeld, held: HeldDeploy): DeployPlan {
  return {
    cluster,
    newServerGroup: found.group.name,
    source: found.source,
    capacity: held.capacity,
    targetGroupArns: held.targetGroupArns,
    subnets: [],
    toDisable: found.source ? [found.source.name] : [],
    toDestroy: [],
    foreign: [],
  };
}

/**
 * Promotes a held deploy: under the lock, the group that serves pinned again, the test listener put back and
 * its temporary target group deleted, the held group into the production target groups and healthy there
 * (a failure up to here removes it: exit 1, the cluster serves as before), then the held deploy's strategy,
 * watch and cutover. Output and ledger records as the deploy's own.
 */
export async function promote(aws: AwsClients, decision: HeldDecision, log: Logger): Promise<DeployOutput> {
  const started = Date.now();
  const first = await findHeld(aws, decision);
  if (!first.held)
    throw new ConflictError(
      'HeldRecordMissing',
      `the ledger has no held record of deployment ${first.deploymentId} (${first.group.name}): promote cannot tell how it was asked to finish; nothing changed`,
      {
        heldServerGroup: first.group.name,
        recovery:
          'abort it (blueGreenAbort) and deploy again; look at deploymentHistory for a ledger record left pending',
      },
    );
  // Bad input before the lock: a wrong afterTraffic is exit 2, nothing changed.
  requestOf(decision, first.held);
  return planThenRunLocked(aws, {
    lock: lockOptions(decision, first, log),
    planOnly: false,
    plan: async () => findHeld(aws, decision),
    planned: () => Promise.reject(new Error('promote has no plan-only run')),
    async run(found, session, recovered) {
      const now = sameAsFirstLook(first, found);
      const held = now.held as HeldDeploy;
      const request = requestOf(decision, held);
      const plan = planOf(decision.cluster.name, now, held);
      // Read now, not when it held: alarms already in ALARM stop the promote (exit 3, still held), the gates' baseline is fresh.
      const verification =
        request.verify && (wantsVerification(request.verify) || request.rolling)
          ? await prepareVerification(aws, request.verify, plan.targetGroupArns, Boolean(plan.source), log)
          : undefined;
      const options: RedBlackOptions = {
        request,
        plan,
        deploymentId: now.deploymentId,
        session,
        log,
        kind: 'deploy',
        ...(decision.reason ? { reason: decision.reason } : {}),
        ...(verification ? { verification } : {}),
      };
      const heldStartedAt = new Date(now.record?.startedAt ?? started);
      log.info(
        `promoting ${plan.newServerGroup} (deployment ${now.deploymentId}) for ${session.lock.record.owner}; ` +
          `${plan.source?.name ?? 'nothing'} serves until the cutover`,
      );
      if (plan.source) await pinSource(aws, plan.source);
      const openTestListener = openTestListenerOf(now.group);
      const result = await goLive(aws, options, {
        started: new Date(),
        t0: Date.now(),
        record: baseRecord(options, heldStartedAt),
        template: held.launchTemplate,
        launchData: await readLaunchData(aws, now.group),
        copied: null,
        createdMs: 0,
        healthDeadline: 0,
        inProduction: false,
        ...(openTestListener ? { openTestListener } : {}),
      }).catch((error: unknown) => failedAfterCutover(error, options, heldStartedAt));
      log.info(
        `promoted ${plan.newServerGroup} in ${Math.round((Date.now() - started) / 1000)}s` +
          (result.previousServerGroup ? `; ${result.previousServerGroup} disabled` : ''),
      );
      return output(request, now.deploymentId, plan, result, recovered, started, 'succeeded');
    },
  });
}

/**
 * Aborts a held deploy: under the lock, the test listener put back and its temporary target group deleted,
 * the held group and its launch template removed. The serving group is not touched. Exit 0.
 */
export async function abortHeld(aws: AwsClients, decision: HeldDecision, log: Logger): Promise<AbortOutput> {
  const started = Date.now();
  const first = await findHeld(aws, decision);
  return planThenRunLocked(aws, {
    lock: lockOptions(decision, first, log),
    planOnly: false,
    plan: async () => findHeld(aws, decision),
    planned: () => Promise.reject(new Error('abort has no plan-only run')),
    async run(found, session, recovered) {
      const now = sameAsFirstLook(first, found);
      const { group } = now;
      const previous = now.held?.previousServerGroup ?? null;
      const startedAt = now.record?.startedAt ?? new Date(started).toISOString();
      log.info(`aborting ${group.name} (deployment ${now.deploymentId}) for ${session.lock.record.owner}`);
      await closeTestListener(aws, group.name, group.tags, log);
      const template = group.launchTemplate ?? now.held?.launchTemplate;
      // The serving group was unpinned when the deploy held: nothing of it to restore.
      await removeNewGroup(
        operationPortsOf(aws),
        group.name,
        template,
        undefined,
        log,
        now.held?.request.drainTimeoutSeconds,
      );
      await session.record({
        kind: 'deploy',
        result: 'aborted',
        deploymentId: now.deploymentId,
        cluster: decision.cluster.name,
        region: decision.region,
        startedAt,
        who: session.lock.record.owner,
        serverGroup: group.name,
        ...(previous ? { previousServerGroup: previous } : {}),
        ...(group.amiId ? { amiId: group.amiId } : {}),
        ...(group.tags[Tag.version] ? { version: group.tags[Tag.version] } : {}),
        ...(decision.reason ? { reason: decision.reason } : {}),
        finishedAt: new Date().toISOString(),
        message: `aborted while held: ${group.name} removed`,
      });
      return {
        cluster: decision.cluster.name,
        region: decision.region,
        deploymentId: now.deploymentId,
        status: 'aborted' as const,
        serverGroup: group.name,
        previousServerGroup: previous,
        durationSeconds: Math.round((Date.now() - started) / 100) / 10,
        recovered,
      };
    },
  });
}
