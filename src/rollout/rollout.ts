import type { AwsClients } from '../aws/clients';
import { BluegreenError, ConflictError, ExitCode, OperationFailedError, describeError } from '../core/errors';
import { failpoint } from '../core/failpoint';
import type { Logger } from '../core/log';
import { clusterRunDeadlineSeconds, withOwnLockGuard } from '../core/run-scope';
import { deploy, prepareDeploy, type DeployOutput } from '../deploy/deploy';
import { whoAmI } from '../deploy/journal';
import { describePlan } from '../deploy/plan';
import { abortHeld, type AbortOutput } from '../deploy/promote';
import { newDeploymentId } from '../ledger/deployment-id';
import { ledgerAws } from '../ledger/ledger';
import { withClusterLock } from '../ledger/lock-renewal';
import { rollbackDeploy, type RollbackOutput } from '../rollback/rollback';
import type { RegionDeploy, RolloutRequest } from './request';
import { releaseFromRollout, settleWarmGroup, watchUntilRolloutEnds } from './settle';

/**
 * One release to several regions (issue #24), above the single-region deploy:
 * every region's input is checked read-only first (a bad AMI or target group
 * in the last region is exit 2 before the first region changes), then wave
 * after wave, the regions of a wave at the same time, each a normal deploy
 * with its own region's lock, guards and watch. The rollout holds the
 * cluster's rollout lock while it runs (one rollout of a cluster at a time).
 * With `onFailure: rollback` the previous group of every region done stays
 * warm until the rollout ends and its new group is under the rollout's watch
 * (src/deploy/rollout-watch.ts), so a later failure puts those regions back
 * by re-enabling it (no launch), and a rollout killed between waves is put
 * back by the next run in each region; at the end each region's warm window
 * becomes its own `scaleDownDelay`.
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

/** A region's error as its outcome records it (code, message, exit code, recovery). */
export function errorSummary(error: unknown): NonNullable<RegionOutcome['error']> {
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

  const first = request.regions[0]!.request;
  const failed = await withClusterLock(
    ledgerAws(first.ledger, clientsFor(request.regions[0]!)),
    first.ledger,
    request.cluster.name,
    {
      owner: whoAmI(first.build.buildUrl),
      deploymentId: rolloutId,
      leaseSeconds: first.lockLeaseSeconds,
      breakExpiredLock: first.breakExpiredLock,
      log,
    },
    (_lock, signal) => runWaves(clientsFor, request, rolloutId, outcomes, signal, log),
  );
  const held = failed.length === 0 && request.regions.every((entry) => outcomes.get(entry.region)?.status === 'held');
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

/** The waves, then the regions done put back or settled; the regions that failed. */
async function runWaves(
  clientsFor: RegionClients,
  request: RolloutRequest,
  rolloutId: string,
  outcomes: Map<string, RegionOutcome>,
  signal: AbortSignal,
  log: Logger,
): Promise<string[]> {
  const byRegion = new Map(request.regions.map((entry) => [entry.region, entry]));
  const rollsBack = request.onFailure === 'rollback';
  // Warm until the rollout ends only when a later region's failure may put this one back (re-enabled, no launch).
  const warmSeconds = rollsBack ? rolloutDeadlineSeconds(request) : 0;
  const done: RegionDeploy[] = [];
  const deployedAt = new Map<string, Date>();
  let failed: string[] = [];
  for (const [index, wave] of request.waves.entries()) {
    if (index > 0) failpoint('rollout-between-waves');
    if (signal.aborted) throw signal.reason;
    log.info(`wave ${index + 1}/${request.waves.length}: ${wave.join(', ')}`);
    const laterWaves = index < request.waves.length - 1;
    // At the same time: each region has its own lock (and its own lock guard in this run).
    const results = await Promise.allSettled(
      wave.map((region) =>
        withOwnLockGuard(async () => {
          const entry = byRegion.get(region)!;
          const regionLog = log.child(region);
          const deployRequest = {
            ...entry.request,
            rolloutId,
            // Warm until the rollout ends: a later region's failure re-enables it without a launch (held: nothing switches).
            scaleDownDelaySeconds: entry.request.hold
              ? entry.request.scaleDownDelaySeconds
              : Math.max(entry.request.scaleDownDelaySeconds, warmSeconds),
          };
          const output = await deploy(clientsFor(entry), deployRequest, regionLog);
          deployedAt.set(region, new Date());
          const held = output.status === 'held';
          if (rollsBack && laterWaves && !held)
            await watchRegion(clientsFor(entry), entry, output, rolloutId, regionLog);
          return output;
        }),
      ),
    );
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

  if (failed.length > 0 && rollsBack) {
    await rollBackDone(clientsFor, done, outcomes, rolloutId, failed, log);
  } else {
    await settleDone(clientsFor, done, outcomes, deployedAt, log);
  }
  return failed;
}

/** Puts a region done under the rollout's watch; if that fails, it keeps its release whatever the rollout's verdict. */
async function watchRegion(
  aws: AwsClients,
  entry: RegionDeploy,
  output: DeployOutput,
  rolloutId: string,
  log: Logger,
): Promise<void> {
  try {
    await watchUntilRolloutEnds(aws, entry.request, output.serverGroup, rolloutId, log);
  } catch (error) {
    log.warn(
      `${output.serverGroup} is not under the rollout's watch (${describeError(error)}): a rollout stopped before its end leaves it serving`,
    );
  }
}

/** Puts every region done back on the group it served before (re-enabled while still warm), the regions at the same time. */
async function rollBackDone(
  clientsFor: RegionClients,
  done: readonly RegionDeploy[],
  outcomes: Map<string, RegionOutcome>,
  rolloutId: string,
  failed: readonly string[],
  log: Logger,
): Promise<void> {
  await Promise.all(
    done.map((entry) =>
      withOwnLockGuard(async () => {
        const outcome = outcomes.get(entry.region)!;
        const previous = outcome.deploy?.previousServerGroup;
        const regionLog = log.child(entry.region);
        const aws = clientsFor(entry);
        const { request } = entry;
        if (outcome.status === 'held') {
          // Nothing switched in a held region: its held group goes.
          await abortHeldRegion(aws, entry, outcome, `rollout ${rolloutId}: ${failed.join(', ')} failed`, regionLog)
            .then((abort) => outcomes.set(entry.region, { ...outcome, status: 'aborted', abort }))
            .catch((error: unknown) => {
              outcomes.set(entry.region, { ...outcome, status: 'rollback-failed', error: errorSummary(error) });
              regionLog.error(`its held group could not be removed: ${describeError(error)}`);
            });
          return;
        }
        if (!previous) {
          regionLog.warn('nothing served before this rollout here: it keeps the new release');
          await releaseQuietly(aws, entry, outcome, regionLog);
          return;
        }
        try {
          const rollback = await rollbackDeploy(
            aws,
            {
              cluster: request.cluster,
              region: entry.region,
              to: { kind: 'serverGroup', name: previous },
              reason: `rollout ${rolloutId}: ${failed.join(', ')} failed`,
              build: request.build.buildUrl ? { buildUrl: request.build.buildUrl } : {},
              healthTimeoutSeconds: request.healthTimeoutSeconds,
              ...(request.drainTimeoutSeconds !== undefined
                ? { drainTimeoutSeconds: request.drainTimeoutSeconds }
                : {}),
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
          await releaseQuietly(aws, entry, outcome, regionLog);
        } catch (error) {
          outcomes.set(entry.region, { ...outcome, status: 'rollback-failed', error: errorSummary(error) });
          regionLog.error(`could not be put back on ${previous}: ${describeError(error)}`);
        }
      }),
    ),
  );
}

/** Ends the rollout's watch of a region's new group; a failure only delays it (the next run in the region clears it). */
async function releaseQuietly(aws: AwsClients, entry: RegionDeploy, outcome: RegionOutcome, log: Logger) {
  const group = outcome.deploy?.serverGroup;
  if (!group) return;
  try {
    await releaseFromRollout(aws, entry.request, group, log);
  } catch (error) {
    log.warn(`${group}: the rollout's mark is left for the next run to clear: ${describeError(error)}`);
  }
}

/** The regions that keep the new release, at the same time: their previous groups' warm window becomes their own scaleDownDelay. */
async function settleDone(
  clientsFor: RegionClients,
  done: readonly RegionDeploy[],
  outcomes: Map<string, RegionOutcome>,
  deployedAt: Map<string, Date>,
  log: Logger,
): Promise<void> {
  await Promise.all(
    done.map((entry) =>
      withOwnLockGuard(async () => {
        const deployed = outcomes.get(entry.region)?.deploy;
        // A held region switched nothing: its previous group serves and is not warm.
        if (!deployed || outcomes.get(entry.region)?.status === 'held') return;
        const regionLog = log.child(entry.region);
        try {
          const settled = await settleWarmGroup(
            clientsFor(entry),
            entry.request,
            deployed.serverGroup,
            deployed.previousServerGroup,
            deployedAt.get(entry.region) ?? new Date(),
            regionLog,
          );
          if (settled.scaledDown.length > 0) regionLog.info(`scaled down ${settled.scaledDown.join(', ')}`);
        } catch (error) {
          // It serves the new release either way; the next deploy, rollback or cleanup in the region settles it.
          regionLog.warn(`not settled: ${describeError(error)}`);
        }
      }),
    ),
  );
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
  // Every region's verdict, in the order given: this message is the build page's line of a failed rollout.
  const state = result.regions.map(regionVerdict).join('; ');
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

/** One region's verdict in a failed rollout's message. */
function regionVerdict(outcome: RegionOutcome): string {
  switch (outcome.status) {
    case 'succeeded':
      return `${outcome.region} keeps the new release${outcome.deploy ? ` (${outcome.deploy.serverGroup})` : ''}`;
    case 'rolled-back':
      return `${outcome.region} put back on ${outcome.rollback?.restoredServerGroup ?? 'its previous group'}`;
    case 'failed':
      return `${outcome.region} failed (left serving what it served before)`;
    case 'rollback-failed':
      return `${outcome.region} could not be put back`;
    default:
      return `${outcome.region} ${outcome.status}`;
  }
}
