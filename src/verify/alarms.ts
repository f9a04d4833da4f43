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

/** Reads the states of the named alarms (metric and composite), in the order given. */
export async function describeAlarmStates(aws: AwsClients, names: readonly string[]): Promise<AlarmState[]> {
  const found = new Map<string, AlarmState>();
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
        found.set(alarm.AlarmName, {
          name: alarm.AlarmName,
          state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
          ...(alarm.StateReason ? { reason: alarm.StateReason } : {}),
          ...(alarm.StateUpdatedTimestamp ? { since: alarm.StateUpdatedTimestamp.toISOString() } : {}),
        });
      }
      nextToken = answer.NextToken;
    } while (nextToken);
  }
  return names.map((name) => found.get(name) ?? { name, state: 'MISSING' });
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
): Promise<AlarmState[]> {
  if (names.length === 0) return [];
  const states = await describeAlarmStates(aws, names);
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
