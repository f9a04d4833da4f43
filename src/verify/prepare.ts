import type { AwsClients } from '../aws/clients';
import type { Logger } from '../core/log';
import { checkAlarmsAtStart, formatAlarmStates, type AlarmState } from './alarms';
import type { GateSettings } from './gates';
import { sampleTraffic, targetGroupDimensions, type TrafficSample } from './metrics';

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
  dimensions: Array<{ targetGroup: string; loadBalancer: string }>;
  baseline: TrafficSample | null;
}

/** The baseline is the target groups' traffic over this window before the deploy. */
export const BASELINE_SECONDS = 300;

/** True when the request asks for any verification (a watch, or alarms). */
export function wantsVerification(settings: VerifySettings | undefined): settings is VerifySettings {
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
  const dimensions = settings.gates ? await targetGroupDimensions(aws, targetGroupArns) : [];
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
