import type { AwsClients } from '../aws/clients';
import type { Logger } from '../core/log';
import { awsSecondsToMs } from '../core/poll';
import { alarmSettleSeconds, checkAlarmsAtStart, formatAlarmStates, type AlarmState } from './alarms';
import type { GateSettings } from './gates';
import { sampleTraffic, trafficDimensions, type TrafficDimensions, type TrafficSample } from './metrics';

/** What a deploy is asked to verify after cutover (the `alarms`, `ignoreAlarmsAtStart`, `watch` and `gates` inputs). */
export interface VerifySettings {
  alarms: string[];
  ignoreAlarmsAtStart: boolean;
  /** Seconds to watch after cutover (0: alarms and gates looked at once). */
  watchSeconds: number;
  gates: GateSettings | false;
}

/** Verification settings with what was read before the deploy: alarm states, dimensions, baseline. */
export interface PreparedVerification {
  alarms: string[];
  alarmsAtStart: AlarmState[];
  watchSeconds: number;
  gates: GateSettings | false;
  /** (TargetGroup, LoadBalancer) pairs of the new group's target groups. */
  dimensions: TrafficDimensions[];
  baseline: TrafficSample | null;
  /**
   * A rollback's alarms already in ALARM at its start → real ms after the watch
   * starts from which that ALARM rests on the restored group's data alone (it
   * then counts; before, only if it fires anew). Absent for a deploy.
   */
  alarmSettleMs?: Record<string, number>;
}

/** The baseline is the target groups' traffic over this window before the deploy. */
export const BASELINE_SECONDS = 300;

/** True when the request asks for any verification (a watch, or alarms). */
export function wantsVerification<T extends Pick<VerifySettings, 'alarms' | 'watchSeconds'>>(
  settings: T | undefined,
): settings is T {
  return settings !== undefined && (settings.watchSeconds > 0 || settings.alarms.length > 0);
}

/**
 * Read-only, before any change: alarms in ALARM stop the deploy (exit 3,
 * see {@link checkAlarmsAtStart}); the baseline of the gates is measured on
 * the target groups while only the previous group serves them.
 */
export async function prepareVerification(
  aws: AwsClients,
  settings: VerifySettings,
  targetGroupArns: readonly string[],
  hasPrevious: boolean,
  log: Logger,
): Promise<PreparedVerification> {
  const alarmsAtStart = await checkAlarmsAtStart(aws, settings.alarms, settings.ignoreAlarmsAtStart);
  if (alarmsAtStart.length > 0) log.info(`alarms at the start: ${formatAlarmStates(alarmsAtStart)}`);
  const dimensions = settings.gates ? await trafficDimensions(aws, targetGroupArns) : [];
  let baseline: TrafficSample | null = null;
  if (settings.gates && hasPrevious && dimensions.length > 0) {
    const now = Date.now();
    baseline = await sampleTraffic(aws, dimensions, now - BASELINE_SECONDS * 1000, now);
    log.info(
      `baseline (last ${BASELINE_SECONDS}s): ${baseline.requests} requests, ${(baseline.errorRate * 100).toFixed(1)} % errors` +
        (baseline.latencyMs !== undefined ? `, latency ${Math.round(baseline.latencyMs)} ms` : '') +
        (baseline.requests < settings.gates.minRequests
          ? ` (below ${settings.gates.minRequests} requests: relative limits not applied)`
          : ''),
    );
  }
  return {
    alarms: settings.alarms,
    alarmsAtStart,
    watchSeconds: settings.watchSeconds,
    gates: settings.gates,
    dimensions,
    baseline,
  };
}

/**
 * A rollback's verification, read-only before any change. It runs because
 * something is wrong: an alarm already in ALARM is logged, never blocks
 * (unknown names are still bad input, exit 2). Such an alarm still reflects
 * the build rolled away from for a while after the cutover (CloudWatch looks
 * back over its evaluation periods), so it counts only if it fires anew or is
 * still in ALARM once {@link alarmSettleSeconds} have passed; the watch lasts
 * at least that (a composite alarm, without a period: at the watch's last second).
 * No baseline: the group rolled away from is the suspect, not a reference, so
 * only the gates' absolute limits apply.
 */
export async function prepareRollbackVerification(
  aws: AwsClients,
  settings: Pick<VerifySettings, 'alarms' | 'watchSeconds' | 'gates'>,
  targetGroupArns: readonly string[],
  log: Logger,
): Promise<PreparedVerification> {
  const alarmsAtStart = await checkAlarmsAtStart(aws, settings.alarms, true);
  const firing = alarmsAtStart.filter((a) => a.state === 'ALARM');
  const settleMs = new Map(firing.map((a) => [a.name, alarmSettleSeconds(a)] as const));
  const longest = Math.max(0, ...[...settleMs.values()].map((s) => (s === undefined ? 0 : awsSecondsToMs(s))));
  // One second more than the window, so that a poll falls after it (the last poll comes at the watch's end).
  const watchSeconds = Math.max(settings.watchSeconds, longest > 0 ? Math.ceil(longest / 1000) + 1 : 0);
  if (alarmsAtStart.length > 0) log.info(`alarms at the start: ${formatAlarmStates(alarmsAtStart)}`);
  if (firing.length > 0) {
    log.warn(
      `${firing.map((a) => a.name).join(', ')} in ALARM at the start of the rollback: reported, not blocking; ` +
        'during the watch it counts only if it fires anew or is still in ALARM once its evaluation window has passed on the restored group alone' +
        (watchSeconds > settings.watchSeconds ? ` (the watch lasts ${watchSeconds}s for that)` : ''),
    );
  }
  if (
    settings.gates &&
    (settings.gates.maxErrorRateIncrease !== undefined || settings.gates.maxLatencyRatio !== undefined)
  )
    log.info('gates: absolute limits only in a rollback (the group rolled away from is no baseline)');
  return {
    alarms: settings.alarms,
    alarmsAtStart,
    watchSeconds,
    gates: settings.gates,
    dimensions: settings.gates ? await trafficDimensions(aws, targetGroupArns) : [],
    baseline: null,
    alarmSettleMs: Object.fromEntries(
      [...settleMs].map(([name, seconds]) => [
        name,
        seconds === undefined ? Math.max(0, watchSeconds - 1) * 1000 : awsSecondsToMs(seconds),
      ]),
    ),
  };
}
