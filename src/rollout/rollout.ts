import type { AwsClients } from '../aws/clients';
import { BluegreenError, ConflictError, ExitCode, OperationFailedError, describeError } from '../core/errors';
import { failpoint } from '../core/failpoint';
import type { Logger } from '../core/log';
import { clusterRunDeadlineSeconds } from '../core/run-scope';
import { deploy, prepareDeploy, type DeployOutput } from '../deploy/deploy';
import { describePlan } from '../deploy/plan';
import { abortHeld, type AbortOutput } from '../deploy/promote';
import { newDeploymentId } from '../ledger/deployment-id';
import { rollbackDeploy, type RollbackOutput } from '../rollback/rollback';
import type { RegionDeploy, RolloutRequest } from './request';
import { settleWarmGroup } from './settle';

/**
 * One release to several regions (issue #24), above the single-region deploy:
 * every region's input is checked read-only first (a bad AMI or target group
 * in the last region is exit 2 before the first region changes), then wave
 * after wave, the regions of a wave at the same time, each a normal deploy
 * with its own lock, guards and watch. The previous group of every region
 * done stays warm until the rollout ends, so `onFailure: rollback` puts those
 * regions back by re-enabling it (no launch); at the end each region's warm
 * window becomes its own `scaleDownDelay`.
 */

/** How one region of a rollout ended. */
export type RegionStatus =
  'succeeded' | 'held' | 'failed' | 'rolled-back' | 'aborted' | 'rollback-failed' | 'not-started' | 'planned';

/** One region's entry in the rollout's output. */
export interface RegionOutcome {
  region: string;
  /** The wave it belongs to (0-based). */
  wave: number;
  status: RegionStatus;
  /** The deploy's output when it succeeded (also when rolled back afterwards). */
  deploy?: DeployOutput;
  /** Its rollback, when the rollout put it back. */
  rollback?: RollbackOutput;
  /** A held region's abort, when the rollout put it back (`hold`: nothing had switched). */
  abort?: AbortOutput;
  /** Why it failed (its deploy, or its rollback). */
  error?: { code: string; message: string; exitCode: number; recovery?: string };
  /** Its plan (`plan: true`). */
  plan?: string;
}

/** The deploy stage's output for a rollout. */
export interface RolloutOutput {
  cluster: string;
  rolloutId: string;
  /** `held`: every region deployed with `hold` waits for promote or abort (with `regions`, in wave order). */
  status: 'succeeded' | 'planned' | 'held';
  onFailure: RolloutRequest['onFailure'];
  waves: string[][];
  regions: RegionOutcome[];
  durationSeconds: number;
}

/** Exit 3 when a region's deploy or rollback is short of a ledger record (as a single deploy's), else 0. */
export function rolloutLedgerExitCode(output: RolloutOutput): number {
  const short = output.regions.some(
    (outcome) => outcome.deploy?.ledger?.written === false || outcome.rollback?.ledger?.written === false,
  );
  return short ? ExitCode.conflict : ExitCode.ok;
}

/** AWS clients for one region of a rollout (its region, its role). */
export type RegionClients = (region: RegionDeploy) => AwsClients;

/** Slack for the rollout's own work between regions (settling, reading), in seconds. */
const ROLLOUT_MARGIN_SECONDS = 120;

/**
 * The longest a rollout can take: each wave as long as its slowest region's
 * deploy (with its watch), then a rollback of every region and the settling.
 * Also how long a previous group is kept warm: until the rollout ends.
 */
export function rolloutDeadlineSeconds(request: RolloutRequest): number {
  const byRegion = new Map(request.regions.map((entry) => [entry.region, regionDeadlineSeconds(entry)]));
  const waves = request.waves.reduce(
    (total, wave) => total + Math.max(...wave.map((region) => byRegion.get(region) ?? 0)),
    0,
  );
  const rollbacks = Math.max(...byRegion.values());
  return waves + 2 * rollbacks + ROLLOUT_MARGIN_SECONDS;
}

function regionDeadlineSeconds(entry: RegionDeploy): number {
  const request = entry.request;
  const watch = request.verify?.watchSeconds ?? 0;
  return clusterRunDeadlineSeconds(request) + watch;
}

function errorSummary(error: unknown): NonNullable<RegionOutcome['error']> {
  if (error instanceof BluegreenError) {
    const recovery = error.details.recovery;
    return {
      code: error.code,
      message: error.message,
      exitCode: error.exitCode,
      ...(typeof recovery === 'string' ? { recovery } : {}),
    };
  }
  return { code: 'Unexpected', message: describeError(error), exitCode: ExitCode.failed };
}

/** Runs a rollout; a failed region is exit 1 (or 3 when a region could not be put back) with every region's outcome. */
export async function runRollout(
  clientsFor: RegionClients,
  request: RolloutRequest,
  log: Logger,
): Promise<RolloutOutput> {
  const started = Date.now();
  const rolloutId = newDeploymentId();
  const byRegion = new Map(request.regions.map((entry) => [entry.region, entry]));
  const waveOf = new Map(request.waves.flatMap((wave, index) => wave.map((region) => [region, index] as const)));
  const outcomes = new Map<string, RegionOutcome>(
    request.regions.map((entry) => [
      entry.region,
      { region: entry.region, wave: waveOf.get(entry.region) ?? 0, status: 'not-started' },
    ]),
  );
  const output = (status: RolloutOutput['status']): RolloutOutput => ({
    cluster: request.cluster.name,
    rolloutId,
    status,
    onFailure: request.onFailure,
    waves: request.waves,
    regions: request.regions.map((entry) => outcomes.get(entry.region)!),
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
  });
  log.info(
    `rollout ${rolloutId} of ${request.cluster.name}: ${request.waves.map((wave) => wave.join(' + ')).join(' → ')} (onFailure: ${request.onFailure})`,
  );

  // Read-only, every region first: what would fail on bad input fails before anything changes.
  for (const entry of request.regions) {
    const plan = await prepareDeploy(clientsFor(entry), entry.request);
    if (request.plan) {
      const text = describePlan(plan, entry.request.amiId);
      log.child(entry.region).info(text);
      outcomes.set(entry.region, { ...outcomes.get(entry.region)!, status: 'planned', plan: text });
    }
  }
  if (request.plan) return output('planned');

  const warmSeconds = rolloutDeadlineSeconds(request);
  const done: RegionDeploy[] = [];
  const deployedAt = new Map<string, Date>();
  let failed: string[] = [];
  for (const [index, wave] of request.waves.entries()) {
    if (index > 0) failpoint('rollout-between-waves');
    log.info(`wave ${index + 1}/${request.waves.length}: ${wave.join(', ')}`);
    // One after another even within a wave: the cluster lock is the ledger's one per cluster name, shared by
    // every region (docs/architecture.md, "Ledger and lock"), so regions at the same time would only wait on it.
    const results: Array<PromiseSettledResult<DeployOutput>> = [];
    for (const region of wave) {
      const entry = byRegion.get(region)!;
      const deployRequest = {
        ...entry.request,
        rolloutId,
        // Warm until the rollout ends: a later region's failure re-enables it without a launch (held: nothing switches).
        scaleDownDelaySeconds: entry.request.hold
          ? entry.request.scaleDownDelaySeconds
          : Math.max(entry.request.scaleDownDelaySeconds, warmSeconds),
      };
      try {
        results.push({ status: 'fulfilled', value: await deploy(clientsFor(entry), deployRequest, log.child(region)) });
        deployedAt.set(region, new Date());
      } catch (reason) {
        results.push({ status: 'rejected', reason });
      }
    }
    results.forEach((result, position) => {
      const region = wave[position]!;
      const outcome = outcomes.get(region)!;
      if (result.status === 'fulfilled') {
        outcomes.set(region, {
          ...outcome,
          status: result.value.status === 'held' ? 'held' : 'succeeded',
          deploy: result.value,
        });
        done.push(byRegion.get(region)!);
      } else {
        outcomes.set(region, { ...outcome, status: 'failed', error: errorSummary(result.reason) });
        log.child(region).error(`failed: ${describeError(result.reason)}`);
      }
    });
    failed = wave.filter((region) => outcomes.get(region)!.status === 'failed');
    if (failed.length > 0) break;
  }

  if (failed.length > 0 && request.onFailure === 'rollback') {
    await rollBackDone(clientsFor, done, outcomes, rolloutId, failed, log);
  } else {
    await settleDone(clientsFor, done, outcomes, deployedAt, log);
  }
  const held = failed.length === 0 && done.every((entry) => outcomes.get(entry.region)?.status === 'held');
  const result = output(held ? 'held' : 'succeeded');
  if (failed.length === 0) {
    log.info(
      held
        ? `rollout ${rolloutId}: every region holds the new release for a human (promote or abort with regions)`
        : `rollout ${rolloutId}: every region serves the new release`,
    );
    return result;
  }
  return failRollout(result, failed, request.onFailure);
}

/** Puts every region done back on the group it served before (re-enabled while still warm). */
async function rollBackDone(
  clientsFor: RegionClients,
  done: readonly RegionDeploy[],
  outcomes: Map<string, RegionOutcome>,
  rolloutId: string,
  failed: readonly string[],
  log: Logger,
): Promise<void> {
  // One region at a time, newest first: the regions share the cluster lock.
  for (const entry of [...done].reverse()) {
    const outcome = outcomes.get(entry.region)!;
    const previous = outcome.deploy?.previousServerGroup;
    const regionLog = log.child(entry.region);
    if (outcome.status === 'held') {
      // Nothing switched in a held region: its held group goes.
      await abortHeldRegion(
        clientsFor(entry),
        entry,
        outcome,
        `rollout ${rolloutId}: ${failed.join(', ')} failed`,
        regionLog,
      )
        .then((abort) => outcomes.set(entry.region, { ...outcome, status: 'aborted', abort }))
        .catch((error: unknown) => {
          outcomes.set(entry.region, { ...outcome, status: 'rollback-failed', error: errorSummary(error) });
          regionLog.error(`its held group could not be removed: ${describeError(error)}`);
        });
      continue;
    }
    if (!previous) {
      regionLog.warn('nothing served before this rollout here: it keeps the new release');
      continue;
    }
    const { request } = entry;
    try {
      const rollback = await rollbackDeploy(
        clientsFor(entry),
        {
          cluster: request.cluster,
          region: entry.region,
          to: { kind: 'serverGroup', name: previous },
          reason: `rollout ${rolloutId}: ${failed.join(', ')} failed`,
          build: request.build.buildUrl ? { buildUrl: request.build.buildUrl } : {},
          healthTimeoutSeconds: request.healthTimeoutSeconds,
          ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
          keepPrevious: request.keepPrevious,
          scaleDownDelaySeconds: request.scaleDownDelaySeconds,
          ledger: request.ledger,
          plan: false,
          breakExpiredLock: request.breakExpiredLock,
          lockLeaseSeconds: request.lockLeaseSeconds,
          lockWaitSeconds: request.lockWaitSeconds,
          rolloutId,
        },
        regionLog,
      );
      outcomes.set(entry.region, { ...outcome, status: 'rolled-back', rollback });
      regionLog.info(`back on ${rollback.restoredServerGroup} (${rollback.mode})`);
    } catch (error) {
      outcomes.set(entry.region, { ...outcome, status: 'rollback-failed', error: errorSummary(error) });
      regionLog.error(`could not be put back on ${previous}: ${describeError(error)}`);
    }
  }
}

/** The regions that keep the new release: their previous groups' warm window becomes their own scaleDownDelay. */
async function settleDone(
  clientsFor: RegionClients,
  done: readonly RegionDeploy[],
  outcomes: Map<string, RegionOutcome>,
  deployedAt: Map<string, Date>,
  log: Logger,
): Promise<void> {
  // One region at a time: the regions share the cluster lock.
  for (const entry of done) {
    const previous = outcomes.get(entry.region)?.deploy?.previousServerGroup;
    // A held region switched nothing: its previous group serves and is not warm.
    if (previous && outcomes.get(entry.region)?.status !== 'held') {
      const regionLog = log.child(entry.region);
      try {
        const settled = await settleWarmGroup(
          clientsFor(entry),
          entry.request,
          previous,
          deployedAt.get(entry.region) ?? new Date(),
          regionLog,
        );
        if (settled.scaledDown.length > 0) regionLog.info(`scaled down ${settled.scaledDown.join(', ')}`);
      } catch (error) {
        // It serves the new release either way; the next deploy, rollback or cleanup scales it down.
        regionLog.warn(`${previous} left warm: ${describeError(error)}`);
      }
    }
  }
}

/** A held region of a failed rollout: its held group removed (abort), the serving group untouched. */
function abortHeldRegion(
  aws: AwsClients,
  entry: RegionDeploy,
  outcome: RegionOutcome,
  reason: string,
  log: Logger,
): Promise<AbortOutput> {
  const { request } = entry;
  return abortHeld(
    aws,
    {
      cluster: request.cluster,
      region: entry.region,
      ledger: request.ledger,
      ...(outcome.deploy ? { serverGroup: outcome.deploy.serverGroup } : {}),
      reason,
      build: request.build.buildUrl ? { buildUrl: request.build.buildUrl } : {},
      breakExpiredLock: request.breakExpiredLock,
      lockLeaseSeconds: request.lockLeaseSeconds,
      lockWaitSeconds: request.lockWaitSeconds,
    },
    log,
  );
}

function failRollout(result: RolloutOutput, failed: readonly string[], onFailure: string): never {
  const stuck = result.regions.filter((outcome) => outcome.status === 'rollback-failed').map((o) => o.region);
  const kept = result.regions
    .filter((outcome) => outcome.status === 'succeeded' || outcome.status === 'held')
    .map((o) => o.region);
  const state =
    `${failed.join(', ')} failed (left serving what it served before)` +
    (kept.length > 0 ? `; ${kept.join(', ')} ${kept.length > 1 ? 'keep' : 'keeps'} the new release` : '') +
    (stuck.length > 0 ? `; ${stuck.join(', ')} could not be put back` : '');
  const details = { ...result, failedRegions: failed };
  if (stuck.length > 0) {
    throw new ConflictError('RolloutRollbackIncomplete', `rollout ${result.rolloutId}: ${state}`, {
      ...details,
      recovery: `roll back ${stuck.join(', ')} with rollback (rolloutId: ${result.rolloutId}), see each region's error`,
    });
  }
  throw new OperationFailedError('RolloutFailed', `rollout ${result.rolloutId}: ${state}`, {
    ...details,
    recovery:
      onFailure === 'stop' && kept.length > 0
        ? `fix and deploy again, or put every region back with rollback (rolloutId: ${result.rolloutId})`
        : 'fix the failed region and deploy again',
  });
}
