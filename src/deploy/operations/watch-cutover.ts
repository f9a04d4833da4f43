// The cluster changes of a watched cutover: the `watching` marks, and after a breach the previous
// groups back (verify/ only observes; this is what acts on its verdict).
import type { AwsClients } from '../../aws/clients';
import { Tag } from '../../aws/tags';
import { OperationFailedError, describeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { Phase } from '../../cluster/phases';
import type { ServerGroup } from '../../cluster/server-groups';
import type { PreparedVerification } from '../../verify/prepare';
import { watchStep, type Verification, type VerificationStep } from '../../verify/watch';
import { removeGroupTags, setGroupTags } from '../server-group-ops';
import { operationPortsOf } from './ports';
import { restorePrevious } from './restore-previous';

/** Options of {@link watchCutover}. */
export interface WatchCutoverOptions {
  prepared: PreparedVerification;
  newServerGroup: string;
  /** The groups just disabled, at full capacity. */
  previous: readonly ServerGroup[];
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  log: Logger;
  check?: () => void;
  /** Steps watched before the cutover (rolling), reported with it. */
  earlierSteps?: readonly VerificationStep[];
  /**
   * A rollback's watch: marked `bluegreen:watched-by=rollback` (an interrupted one is finished, not undone),
   * and a breach's message says the target is bad too.
   */
  rollback?: {
    /** The restored group is an older release re-enabled (kept on a breach), not one the rollback made. */
    reenabled: boolean;
  };
  /** Started with the watch (`afterTraffic`); a rejection is a breach, and the watch lasts until it settled. */
  afterTraffic?: () => Promise<void>;
}

/**
 * finishCutover's `watch` hook for a prepared watch ({@link watchCutover} on
 * the groups it disabled), none without one; `verification()` is what the
 * watch found once it ran (null before, or without a watch).
 */
export function cutoverWatchHook(
  aws: AwsClients,
  prepared: PreparedVerification | undefined,
  options: Omit<WatchCutoverOptions, 'prepared' | 'previous'>,
): { watch?: (previous: ServerGroup[]) => Promise<void>; verification: () => Verification | null } {
  let verification: Verification | null = null;
  return {
    ...(prepared
      ? {
          watch: async (previous: ServerGroup[]) => {
            verification = await watchCutover(aws, { ...options, prepared, previous });
          },
        }
      : {}),
    verification: () => verification,
  };
}

/**
 * The watch hook of a red/black cutover: marks the new group `watching`
 * until the watch ends, watches, and on a breach restores the previous
 * groups and throws `VerificationFailed` (exit 1) with the verification.
 */
export async function watchCutover(aws: AwsClients, options: WatchCutoverOptions): Promise<Verification> {
  const { prepared, log } = options;
  const until = new Date(Date.now() + prepared.watchSeconds * 1000).toISOString();
  await setGroupTags(aws, options.newServerGroup, {
    [Tag.phase]: Phase.watching,
    [Tag.watchUntil]: until,
    ...(options.rollback ? { [Tag.watchedBy]: 'rollback' } : {}),
  });
  log.info(
    `watching ${options.newServerGroup} until ${until}` +
      (options.previous.length > 0
        ? `; ${options.previous.map((g) => g.name).join(', ')} disabled at full capacity meanwhile`
        : ''),
  );
  let afterFailure: string | undefined;
  const after = options.afterTraffic?.().catch((error: unknown) => {
    afterFailure = describeError(error);
  });
  let step = await watchStep(aws, {
    step: 'cutover',
    prepared,
    seconds: prepared.watchSeconds,
    serverGroup: options.newServerGroup,
    log,
    ...(options.check ? { check: options.check } : {}),
    breach: () => afterFailure,
  });
  if (step.verdict === 'passed' && after) {
    // The command outlasted the watch: its verdict still counts.
    await after;
    if (afterFailure) step = { ...step, verdict: 'failed', reason: afterFailure, breachAt: new Date().toISOString() };
  }
  const verification: Verification = {
    watchSeconds: prepared.watchSeconds,
    alarms: prepared.alarms,
    gates: prepared.gates,
    baseline: prepared.baseline,
    steps: [...(options.earlierSteps ?? []), step],
    verdict: step.verdict,
  };
  if (step.verdict === 'passed') {
    await removeGroupTags(aws, options.newServerGroup, [Tag.watchUntil, Tag.watchedBy]);
    log.info(
      `watch of ${options.newServerGroup} passed: ${step.requests} requests, ${step.errors} errors in ${prepared.watchSeconds}s`,
    );
    return verification;
  }
  throw await rollBackAfterBreach(aws, { ...options, verification, step });
}

/** Restores the previous groups after a failed step and builds the `VerificationFailed` error to throw. */
export async function rollBackAfterBreach(
  aws: AwsClients,
  options: Omit<WatchCutoverOptions, 'prepared'> & { verification: Verification; step: VerificationStep },
): Promise<OperationFailedError> {
  const { step, log } = options;
  const breachAt = Date.parse(step.breachAt ?? new Date().toISOString());
  if (options.previous.length === 0) {
    // Nothing to go back to: the group stays as a cut-over one, which the next run finishes (min unpinned).
    await setGroupTags(aws, options.newServerGroup, { [Tag.phase]: Phase.cutover });
    await removeGroupTags(aws, options.newServerGroup, [Tag.watchUntil, Tag.watchedBy]);
    return new OperationFailedError(
      'VerificationFailed',
      `${options.newServerGroup} failed its watch: ${step.reason}. No previous group to go back to: it keeps serving`,
      {
        verification: options.verification,
        recovery: 'deploy a fixed build (it also finishes this cutover); nothing older is left to roll back to',
      },
    );
  }
  const names = options.previous.map((g) => g.name).join(', ');
  log.warn(`rolling back to ${names}: re-enabling its running instances, then taking ${options.newServerGroup} out`);
  // The verdict is known now: should putting back fail midway, the next run undoes this group as a failed deploy's.
  if (options.rollback) await removeGroupTags(aws, options.newServerGroup, [Tag.watchedBy]);
  try {
    const restored = await restorePrevious(operationPortsOf(aws), {
      newServerGroup: options.newServerGroup,
      previous: options.previous,
      healthTimeoutSeconds: options.healthTimeoutSeconds,
      ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
      ...(options.rollback?.reenabled ? { keepNewGroup: true } : {}),
      log,
    });
    step.previousServingMs = restored.servingAt - breachAt;
    step.trafficBackMs = restored.outAt - breachAt;
  } catch (error) {
    return new OperationFailedError(
      'RollbackIncomplete',
      `${options.newServerGroup} failed its watch (${step.reason}); re-enabling ${names} failed: ${describeError(error)}`,
      {
        verification: options.verification,
        recovery: `run a rollback (rollbackDeploy, to: ${options.rollback ? (options.previous[options.previous.length - 1]?.name ?? 'previous') : 'previous'}): it re-enables ${names} and takes ${options.newServerGroup} out of service`,
      },
    );
  }
  log.info(
    `traffic back on ${names} ${(step.trafficBackMs / 1000).toFixed(1)}s after the breach (serving again after ${(step.previousServingMs / 1000).toFixed(1)}s)`,
  );
  const back = `${names} serving again ${(step.trafficBackMs / 1000).toFixed(1)}s later`;
  return new OperationFailedError(
    'VerificationFailed',
    options.rollback
      ? `${options.newServerGroup} (the rollback's target) failed its watch at ${step.breachAt}: ${step.reason}. Put back: ${back}, ${options.newServerGroup} ${options.rollback.reenabled ? 'disabled again' : 'removed'}`
      : `${options.newServerGroup} failed its watch at ${step.breachAt}: ${step.reason}. Rolled back: ${back}, ${options.newServerGroup} removed`,
    {
      verification: options.verification,
      serverGroup: options.newServerGroup,
      previousServerGroup: options.previous[options.previous.length - 1]?.name ?? null,
      autoRolledBack: true,
      recovery: options.rollback
        ? `the cluster serves as before the rollback (${names}), and the release rolled back to is bad too: deploy a fixed build, or roll back further (rollbackDeploy with to: an older release)`
        : 'nothing to do: the cluster serves as before the deploy; fix the build (see the reason) and deploy again',
    },
  );
}
