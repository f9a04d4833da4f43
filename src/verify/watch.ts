// Longer than most files on purpose: the watch loop, its verdict and the rollback after a breach are one
// sequence with shared timings (breach → previous serving → traffic back).
import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { OperationFailedError, describeError } from '../core/errors';
import { failpoint } from '../core/failpoint';
import type { Logger } from '../core/log';
import { pollSchedule } from '../core/poll';
import { Phase } from '../cluster/phases';
import { describeAsgsByName, type ServerGroup } from '../cluster/server-groups';
import { waitForHealthyTargets } from '../deploy/health';
import {
  destroyServerGroup,
  disableServerGroup,
  enableServerGroup,
  removeGroupTags,
  scaleDownServerGroup,
  setCapacity,
  setGroupTags,
} from '../deploy/server-group-ops';
import { describeAlarmStates, formatAlarmStates, type AlarmState } from './alarms';
import { evaluateGates, type GateSettings } from './gates';
import { sampleTraffic, type TrafficSample } from './metrics';
import type { PreparedVerification } from './prepare';

/**
 * The watch after cutover: the new group serves alone while the previous
 * group is disabled but still at full capacity (its instances running, out of
 * the target groups). Alarms and the built-in gates are polled for `watch`
 * seconds; a breach puts the previous group's own instances back into the
 * target groups — seconds, where CodeDeploy and Instance Refresh relaunch —
 * and takes the new group out.
 */

/** The verdict of one watched step (the cutover, or one step of a rolling deploy). */
export interface VerificationStep {
  /** `cutover`, or a rolling step like `25%`. */
  step: string;
  startedAt: string;
  endedAt: string;
  /** Alarm states at the last poll. */
  alarms: AlarmState[];
  requests: number;
  errors: number;
  errorRate: number;
  latencyMs?: number;
  verdict: 'passed' | 'failed';
  /** Which alarm or gate, with the numbers, and when (failed only). */
  reason?: string;
  /** When the breach was seen (failed only). */
  breachAt?: string;
  /** Breach seen → previous group healthy in its target groups again (it takes traffic from then on). */
  previousServingMs?: number;
  /** Breach seen → the new group deregistered from its target groups: from then on every new request goes to the previous group. */
  trafficBackMs?: number;
  polls: number;
}

/** The `verification` output of a deploy. */
export interface Verification {
  watchSeconds: number;
  alarms: string[];
  gates: GateSettings | false;
  /** The target groups' traffic just before the deploy (the previous group alone). */
  baseline: TrafficSample | null;
  steps: VerificationStep[];
  verdict: 'passed' | 'failed';
}

/** Options of {@link watchStep}. */
export interface WatchStepOptions {
  step: string;
  prepared: PreparedVerification;
  /** Seconds to watch. */
  seconds: number;
  /** The new group's name, for log lines. */
  serverGroup: string;
  log: Logger;
  /** Throws when the run may not go on (e.g. the cluster lock was lost). */
  check?: () => void;
}

/**
 * The first alarm that counts as a breach, with why (undefined: none). An alarm
 * not in ALARM at the start counts once in ALARM. One already in ALARM counts
 * once it fires anew (state changed after `since`); in a rollback also once it
 * is still in ALARM `settleMs` after `since` (its data is the restored group's alone by then). Pure.
 */
export function alarmBreach(
  states: readonly AlarmState[],
  atStart: readonly AlarmState[],
  since: number,
  now: number,
  settleMs: Readonly<Record<string, number>> = {},
): { alarm: AlarmState; why: string } | undefined {
  for (const s of states) {
    if (s.state !== 'ALARM') continue;
    const reason = s.reason ?? 'no reason given';
    const before = atStart.find((a) => a.name === s.name);
    if (before?.state !== 'ALARM' || (s.since !== undefined && Date.parse(s.since) > since))
      return { alarm: s, why: `alarm ${s.name} in ALARM since ${s.since ?? new Date(now).toISOString()}: ${reason}` };
    const settle = settleMs[s.name];
    if (settle !== undefined && now - since >= settle) {
      return {
        alarm: s,
        why: `alarm ${s.name} still in ALARM ${Math.round((now - since) / 1000)}s after the cutover (past its evaluation window of ${Math.round(settle / 1000)}s: on the restored group's data alone): ${reason}`,
      };
    }
  }
  return undefined;
}

/** Watches one step: polls alarms and gates until the time is up or something breaches. Changes nothing. */
export async function watchStep(aws: AwsClients, options: WatchStepOptions): Promise<VerificationStep> {
  const { prepared, log } = options;
  const started = Date.now();
  const deadline = started + options.seconds * 1000;
  const schedule = pollSchedule(deadline);
  let polls = 0;
  let alarms: AlarmState[] = [];
  let sample: TrafficSample = { requests: 0, errors: 0, errorRate: 0 };
  for (;;) {
    options.check?.();
    failpoint('watching');
    polls += 1;
    const now = Date.now();
    alarms = prepared.alarms.length > 0 ? await describeAlarmStates(aws, prepared.alarms) : [];
    if (prepared.gates) sample = await sampleTraffic(aws, prepared.dimensions, started, now);
    const gate = prepared.gates
      ? evaluateGates(sample, prepared.gates, prepared.baseline ?? undefined)
      : { judged: false, breaches: [] };
    const left = Math.max(0, Math.round((deadline - Date.now()) / 100) / 10);
    const traffic = prepared.gates
      ? `${sample.requests} requests, ${sample.errors} errors (${(sample.errorRate * 100).toFixed(1)} %)` +
        (sample.latencyMs !== undefined ? `, latency ${Math.round(sample.latencyMs)} ms` : '') +
        (gate.judged ? '' : ` (not judged below ${prepared.gates.minRequests} requests)`)
      : 'no gates';
    log.info(
      `watch ${options.step} of ${options.serverGroup}: ${alarms.length > 0 ? `alarms ${formatAlarmStates(alarms)}; ` : ''}${traffic}; ${left}s left`,
    );
    const fired = alarmBreach(alarms, prepared.alarmsAtStart, started, now, prepared.alarmSettleMs);
    const reason = fired
      ? fired.why
      : gate.breaches.length > 0
        ? `gate: ${gate.breaches.join('; ')} (from ${new Date(started).toISOString()} to ${new Date(now).toISOString()})`
        : undefined;
    const base = {
      step: options.step,
      startedAt: new Date(started).toISOString(),
      alarms,
      requests: sample.requests,
      errors: sample.errors,
      errorRate: sample.errorRate,
      ...(sample.latencyMs !== undefined ? { latencyMs: Math.round(sample.latencyMs * 10) / 10 } : {}),
      polls,
    };
    if (reason) {
      log.error(`watch ${options.step} of ${options.serverGroup}: ${reason}`);
      return {
        ...base,
        endedAt: new Date().toISOString(),
        verdict: 'failed',
        reason,
        breachAt: new Date().toISOString(),
      };
    }
    if (!(await schedule.next())) return { ...base, endedAt: new Date().toISOString(), verdict: 'passed' };
  }
}

/** Options of {@link restorePrevious}. */
export interface RestoreOptions {
  /** The group that failed its watch: taken out of service and deleted. */
  newServerGroup: string;
  /** The disabled groups it replaced, instances still running. */
  previous: readonly ServerGroup[];
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  /** The failed group is an older release a rollback re-enabled: disabled and scaled to 0, kept (not deleted). */
  keepNewGroup?: boolean;
  log: Logger;
}

/**
 * After a breach: the previous groups' running instances back into their
 * target groups (processes resumed), healthy; then the new group drained
 * and deleted (or, `keepNewGroup`, scaled to 0 and kept), the previous groups' pins and warm-window tags removed.
 * Returns when the previous groups were serving again, and when the new one was out.
 */
export async function restorePrevious(
  aws: AwsClients,
  options: RestoreOptions,
): Promise<{ servingAt: number; outAt: number }> {
  const { log } = options;
  const since = new Date();
  for (const group of options.previous) {
    const [asg] = await describeAsgsByName(aws, [group.name]);
    const ids = (asg?.Instances ?? [])
      .filter((i) => i.LifecycleState === 'InService')
      .map((i) => i.InstanceId as string);
    await enableServerGroup(aws, group.name, ids, group.targetGroupArns);
    log.info(
      `${group.name}: ${ids.length} running instance(s) back in ${group.targetGroupArns.length} target group(s)`,
    );
  }
  for (const group of options.previous) {
    await waitForHealthyTargets(aws, {
      groupName: group.name,
      targetGroupArns: group.targetGroupArns,
      targetHealthyPercent: 100,
      deadline: Date.now() + options.healthTimeoutSeconds * 1000,
      since,
      log,
    });
  }
  const servingAt = Date.now();
  let outAt = servingAt;
  const [asg] = await describeAsgsByName(aws, [options.newServerGroup]);
  if (asg) {
    const group = {
      name: options.newServerGroup,
      instances: (asg.Instances ?? []).map((i) => ({ id: i.InstanceId as string })) as ServerGroup['instances'],
      targetGroupArns: asg.TargetGroupARNs ?? [],
    };
    await disableServerGroup(aws, group, {
      log,
      onDeregistered: () => {
        outAt = Date.now();
      },
      ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
    });
  }
  for (const group of options.previous) {
    const pinned = group.tags[Tag.pinnedFrom];
    if (pinned !== undefined)
      await setCapacity(aws, group.name, { min: Math.min(Number(pinned) || 0, group.capacity.desired) });
    await removeGroupTags(aws, group.name, [Tag.pinnedFrom, Tag.scaleDownAfter, Tag.phase]);
  }
  if (asg && options.keepNewGroup) {
    await scaleDownServerGroup(aws, options.newServerGroup, [Tag.phase, Tag.pinnedFrom, Tag.watchUntil, Tag.watchedBy]);
    log.info(`${options.newServerGroup}: drained, disabled and scaled to 0 (kept)`);
  } else if (asg) {
    const template = asg.LaunchTemplate?.LaunchTemplateId
      ? {
          id: asg.LaunchTemplate.LaunchTemplateId,
          name: asg.LaunchTemplate.LaunchTemplateName ?? '',
          version: asg.LaunchTemplate.Version ?? '',
        }
      : undefined;
    // This deploy made the new group and its launch template: both go.
    await destroyServerGroup(aws, {
      name: options.newServerGroup,
      ...(template ? { launchTemplate: template } : {}),
      ownsLaunchTemplate: true,
      targetGroupArns: asg.TargetGroupARNs ?? [],
    });
    log.info(`${options.newServerGroup}: drained and deleted`);
  }
  return { servingAt, outAt };
}

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
}

/** A watched cutover's warm window: at least the watch, since a breach needs the previous groups' instances. */
export function warmWindowSeconds(scaleDownDelaySeconds: number, prepared: PreparedVerification | undefined): number {
  return Math.max(scaleDownDelaySeconds, prepared?.watchSeconds ?? 0);
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
  const step = await watchStep(aws, {
    step: 'cutover',
    prepared,
    seconds: prepared.watchSeconds,
    serverGroup: options.newServerGroup,
    log,
    ...(options.check ? { check: options.check } : {}),
  });
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
    const restored = await restorePrevious(aws, {
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
