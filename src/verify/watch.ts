import type { AwsClients } from '../aws/clients';
import { failpoint } from '../core/failpoint';
import type { Logger } from '../core/log';
import { pollSchedule } from '../core/poll';
import { describeAlarmStates, formatAlarmStates, type AlarmState } from './alarms';
import { evaluateGates, type GateSettings } from './gates';
import { sampleTraffic, type TrafficSample } from './metrics';
import type { CanaryScore } from './canary-analysis';
import type { PreparedVerification } from './prepare';

/**
 * The watch after cutover: the new group serves alone while the previous
 * group is disabled but still at full capacity (its instances running, out of
 * the target groups). Alarms and the built-in gates are polled for `watch`
 * seconds. This module only observes and judges: what a breach changes
 * (the previous group's own instances back into the target groups — seconds,
 * where CodeDeploy and Instance Refresh relaunch — and the new group out) is
 * `deploy/operations/watch-cutover.ts`.
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
  /** A canary step: the analysis (score, each metric's verdict). */
  analysis?: CanaryScore;
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
  /** Another source of breaches, read at every poll (e.g. a failed `afterTraffic` command): its reason, or undefined. */
  breach?: () => string | undefined;
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
    const other = options.breach?.();
    const reason = other
      ? other
      : fired
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

/** A watched cutover's warm window: at least the watch, since a breach needs the previous groups' instances. */
export function warmWindowSeconds(scaleDownDelaySeconds: number, prepared: PreparedVerification | undefined): number {
  return Math.max(scaleDownDelaySeconds, prepared?.watchSeconds ?? 0);
}
