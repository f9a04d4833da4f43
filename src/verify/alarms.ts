import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { AwsClients } from '../aws/clients';
import { chunk } from '../aws/paginate';
import { ConflictError, InputError } from '../core/errors';

/** DescribeAlarms takes at most 100 names per call. */
const NAMES_PER_CALL = 100;

/** One CloudWatch alarm's state as DescribeAlarms reports it. */
export interface AlarmState {
  name: string;
  /** `OK`, `ALARM`, `INSUFFICIENT_DATA`, or `MISSING` when no alarm has that name. */
  state: string;
  reason?: string;
  /** When the state last changed (ISO time). */
  since?: string;
}

/** An alarm's state with what its evaluation looks back over (metric alarms only). */
export interface AlarmDetails extends AlarmState {
  /** The alarm's period in seconds (of its metric, or the longest of its metric math). */
  periodSeconds?: number;
  evaluationPeriods?: number;
}

/** Reads the states of the named alarms (metric and composite), in the order given. */
export async function describeAlarmStates(aws: AwsClients, names: readonly string[]): Promise<AlarmState[]> {
  return (await describeAlarms(aws, names)).map(({ periodSeconds: _p, evaluationPeriods: _e, ...state }) => state);
}

/** {@link describeAlarmStates} with each metric alarm's period and evaluation periods. */
export async function describeAlarms(aws: AwsClients, names: readonly string[]): Promise<AlarmDetails[]> {
  const found = new Map<string, AlarmDetails>();
  for (const batch of chunk([...new Set(names)], NAMES_PER_CALL)) {
    let nextToken: string | undefined;
    do {
      const answer = await aws.cloudWatch.send(
        new DescribeAlarmsCommand({
          AlarmNames: batch,
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          MaxRecords: NAMES_PER_CALL,
          NextToken: nextToken,
        }),
      );
      for (const alarm of [...(answer.MetricAlarms ?? []), ...(answer.CompositeAlarms ?? [])]) {
        if (!alarm.AlarmName) continue;
        const metric = 'EvaluationPeriods' in alarm ? alarm : undefined;
        const period =
          metric?.Period ?? Math.max(0, ...(metric?.Metrics ?? []).map((m) => m.MetricStat?.Period ?? m.Period ?? 0));
        found.set(alarm.AlarmName, {
          name: alarm.AlarmName,
          state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
          ...(alarm.StateReason ? { reason: alarm.StateReason } : {}),
          ...(alarm.StateUpdatedTimestamp ? { since: alarm.StateUpdatedTimestamp.toISOString() } : {}),
          ...(metric?.EvaluationPeriods && period > 0
            ? { periodSeconds: period, evaluationPeriods: metric.EvaluationPeriods }
            : {}),
        });
      }
      nextToken = answer.NextToken;
    } while (nextToken);
  }
  return names.map((name) => found.get(name) ?? { name, state: 'MISSING' });
}

/**
 * AWS seconds after a moment (a rollback's cutover) from which a metric alarm's
 * state rests on data from after it alone: CloudWatch looks back over up to
 * 2 × EvaluationPeriods periods when datapoints are missing (a 5XX count with
 * no errors is missing data, not 0), plus one period for the period that
 * straddles the moment and one for the metric's delay and the evaluation's
 * tick. Undefined for a composite alarm (no period of its own). Pure.
 */
export function alarmSettleSeconds(
  alarm: Pick<AlarmDetails, 'periodSeconds' | 'evaluationPeriods'>,
): number | undefined {
  if (!alarm.periodSeconds || !alarm.evaluationPeriods) return undefined;
  return alarm.periodSeconds * (2 * alarm.evaluationPeriods + 2);
}

/** `name=STATE` for each alarm, for log lines. */
export function formatAlarmStates(states: readonly AlarmState[]): string {
  return states.map((s) => `${s.name}=${s.state}`).join(', ');
}

/**
 * Before any change: an alarm already in ALARM means the service is unwell
 * now, and a deploy would be judged against (and blamed for) that. Exit 3
 * unless `ignoreAlarmsAtStart`. A name no alarm has is bad input (exit 2): a
 * typo would otherwise watch nothing.
 */
export async function checkAlarmsAtStart(
  aws: AwsClients,
  names: readonly string[],
  ignoreAlarmsAtStart: boolean,
): Promise<AlarmDetails[]> {
  if (names.length === 0) return [];
  const states = await describeAlarms(aws, names);
  const missing = states.filter((s) => s.state === 'MISSING');
  if (missing.length > 0) {
    throw new InputError(
      'alarms',
      `no CloudWatch alarm named ${missing.map((s) => s.name).join(', ')} in this region (create it or correct the name); nothing was changed`,
    );
  }
  const firing = states.filter((s) => s.state === 'ALARM');
  if (firing.length > 0 && !ignoreAlarmsAtStart) {
    throw new ConflictError(
      'AlarmInAlarm',
      `alarm(s) already in ALARM before the deploy started: ${firing.map((s) => `${s.name} (since ${s.since ?? '?'}: ${s.reason ?? 'no reason given'})`).join('; ')}. Nothing was changed`,
      {
        alarms: states,
        recovery:
          'find out why the service is alarming and deploy once the alarm is OK, or set ignoreAlarmsAtStart: true to deploy anyway (a fix for the alarm itself)',
      },
    );
  }
  return states;
}
