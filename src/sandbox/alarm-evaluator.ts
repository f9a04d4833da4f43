import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  SetAlarmStateCommand,
  type CloudWatchClient,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { describeError } from '../core/errors';
import { percentileOf, statisticOf, type ResponseTimeSamples } from './percentiles';
import type { Logger } from '../core/log';
import {
  COMPARISONS,
  evaluateAlarm,
  type AlarmRule,
  type AlarmState,
  type ComparisonOperator,
  type Datapoint,
} from './alarm-evaluation';

/**
 * Evaluates moto's metric alarms as CloudWatch would (moto stores them but
 * never evaluates them), in scaled time: once per (scaled) period, over
 * complete periods, from the datapoints moto holds, and writes the verdict
 * back with SetAlarmState, so DescribeAlarms shows StateValue, StateReason
 * and StateUpdatedTimestamp. Reads and writes go straight to moto (neither
 * counted nor faulted by the gateway).
 *
 * A state set by someone else (SetAlarmState through the gateway) holds for
 * one period, as until CloudWatch's next evaluation. Percentile alarms
 * (`ExtendedStatistic` `p99`) are evaluated from the response times the
 * sandbox measured (percentiles.ts; moto computes no percentile). Not
 * evaluated (left as moto has them): metric math alarms (`Metrics`) and
 * anomaly-detection comparisons.
 */

/** moto's reason for an alarm it has just stored (it says OK; CloudWatch starts INSUFFICIENT_DATA). */
const UNCHECKED = 'Unchecked: Initial alarm creation';
const STATISTICS = new Set(['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount']);

interface Tracked {
  /** AlarmConfigurationUpdatedTimestamp: a new PutMetricAlarm starts over. */
  configuredAt: number;
  /** End of the last period evaluated. */
  lastEnd?: number;
  /** What this evaluator wrote last. */
  wrote?: { state: string; reason: string };
  /** A state set by someone else holds until then. */
  heldUntil?: number;
}

/** An alarm's rule when the sandbox evaluates it, else undefined. */
export function evaluableRule(alarm: MetricAlarm): AlarmRule | undefined {
  if ((alarm.Metrics ?? []).length > 0 || !alarm.MetricName || !alarm.Namespace) return undefined;
  const statistic = alarm.ExtendedStatistic ?? alarm.Statistic;
  if (!statistic || !(STATISTICS.has(statistic) || percentileOf(statistic) !== undefined)) return undefined;
  if (!alarm.ComparisonOperator || !(alarm.ComparisonOperator in COMPARISONS)) return undefined;
  if (alarm.Threshold === undefined || !alarm.Period || !alarm.EvaluationPeriods) return undefined;
  const treat = alarm.TreatMissingData;
  return {
    comparisonOperator: alarm.ComparisonOperator as ComparisonOperator,
    threshold: alarm.Threshold,
    evaluationPeriods: alarm.EvaluationPeriods,
    ...(alarm.DatapointsToAlarm ? { datapointsToAlarm: alarm.DatapointsToAlarm } : {}),
    ...(treat === 'missing' || treat === 'ignore' || treat === 'breaching' || treat === 'notBreaching'
      ? { treatMissingData: treat }
      : {}),
    statistic,
    periodSeconds: alarm.Period,
  };
}

export class AlarmEvaluator {
  private readonly tracked = new Map<string, Tracked>();

  /**
   * @param cloudWatch a client aimed straight at moto
   * @param periodMs an alarm period (AWS seconds) in real milliseconds: scaled, a whole number of metric windows
   */
  constructor(
    private readonly cloudWatch: CloudWatchClient,
    private readonly periodMs: (periodSeconds: number) => number,
    private readonly log: Logger,
    /** The measured response times, for percentile alarms (none: those stay as moto has them). */
    private readonly samples?: ResponseTimeSamples,
  ) {}

  /**
   * Evaluates every alarm whose period ended since its last evaluation (or
   * that is new), as of `now` (epoch ms); `onlyNew`: just the alarms moto has
   * not seen evaluated yet (their first state, right after PutMetricAlarm).
   */
  async evaluate(now: number, onlyNew = false): Promise<void> {
    const alarms: MetricAlarm[] = [];
    let token: string | undefined;
    do {
      const page = await this.cloudWatch.send(
        new DescribeAlarmsCommand({ AlarmTypes: ['MetricAlarm'], NextToken: token, MaxRecords: 100 }),
      );
      alarms.push(...(page.MetricAlarms ?? []));
      token = page.NextToken;
    } while (token);
    const seen = new Set<string>();
    for (const alarm of alarms) {
      const name = alarm.AlarmName;
      if (!name) continue;
      seen.add(name);
      if (onlyNew && alarm.StateReason !== UNCHECKED) continue;
      try {
        await this.evaluateOne(alarm, name, now);
      } catch (error) {
        this.log.debug(`alarm ${name}: ${describeError(error)}`);
      }
    }
    for (const name of this.tracked.keys()) if (!seen.has(name)) this.tracked.delete(name);
  }

  private async evaluateOne(alarm: MetricAlarm, name: string, now: number): Promise<void> {
    const rule = evaluableRule(alarm);
    if (!rule) return;
    const configuredAt = alarm.AlarmConfigurationUpdatedTimestamp?.getTime() ?? 0;
    let tracked = this.tracked.get(name);
    if (!tracked || tracked.configuredAt !== configuredAt) {
      tracked = { configuredAt };
      this.tracked.set(name, tracked);
    }
    const periodMs = this.periodMs(rule.periodSeconds);
    const unchecked = alarm.StateReason === UNCHECKED;
    if (
      tracked.wrote &&
      !unchecked &&
      (alarm.StateValue !== tracked.wrote.state || alarm.StateReason !== tracked.wrote.reason)
    ) {
      tracked.heldUntil = (alarm.StateUpdatedTimestamp?.getTime() ?? now) + periodMs;
      tracked.wrote = undefined;
    }
    if (tracked.heldUntil !== undefined && now < tracked.heldUntil) return;
    const end = Math.floor(now / periodMs) * periodMs;
    if (!unchecked && tracked.lastEnd === end) return;
    tracked.lastEnd = end;
    const count = 2 * Math.max(1, rule.evaluationPeriods);
    const datapoints = await this.datapoints(alarm, rule, { end, periodMs, count });
    const from: AlarmState = unchecked
      ? 'INSUFFICIENT_DATA'
      : ((alarm.StateValue ?? 'INSUFFICIENT_DATA') as AlarmState);
    const verdict = evaluateAlarm(rule, datapoints, { end, periodMs, count }, from, now);
    if (verdict.state === 'retain' || (verdict.state === alarm.StateValue && !unchecked)) return;
    await this.cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: name,
        StateValue: verdict.state,
        StateReason: verdict.reason,
        StateReasonData: verdict.reasonData,
      }),
    );
    tracked.wrote = { state: verdict.state, reason: verdict.reason };
    this.log.debug(`alarm ${name}: ${from} -> ${verdict.state}: ${verdict.reason}`);
  }

  /** The statistic and sample count per period, from moto (percentiles: from the measured samples). */
  private async datapoints(
    alarm: MetricAlarm,
    rule: AlarmRule,
    range: { end: number; periodMs: number; count: number },
  ): Promise<Datapoint[]> {
    const metric = { Namespace: alarm.Namespace, MetricName: alarm.MetricName, Dimensions: alarm.Dimensions ?? [] };
    if (percentileOf(rule.statistic) !== undefined) {
      const series = {
        namespace: metric.Namespace ?? '',
        metricName: metric.MetricName ?? '',
        dimensions: metric.Dimensions.map((d) => ({ Name: d.Name ?? '', Value: d.Value ?? '' })),
      };
      return (
        this.samples?.periods(series, range.end - range.count * range.periodMs, range.end, range.periodMs) ?? []
      ).map((period) => ({
        timestamp: period.timestamp,
        value: statisticOf(period, rule.statistic) as number,
        sampleCount: period.sampleCount,
      }));
    }
    const period = range.periodMs / 1000;
    const unit = alarm.Unit ? { Unit: alarm.Unit } : {};
    const answer = await this.cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(range.end - range.count * range.periodMs),
        EndTime: new Date(range.end),
        MetricDataQueries: [
          { Id: 'value', MetricStat: { Metric: metric, Period: period, Stat: rule.statistic, ...unit } },
          { Id: 'samples', MetricStat: { Metric: metric, Period: period, Stat: 'SampleCount', ...unit } },
        ],
      }),
    );
    const series = (id: string): Map<number, number> => {
      const result = answer.MetricDataResults?.find((r) => r.Id === id);
      const times = result?.Timestamps ?? [];
      return new Map(times.map((t, i) => [t.getTime(), result?.Values?.[i] ?? Number.NaN]));
    };
    const samples = series('samples');
    return [...series('value')].map(([timestamp, value]) => ({
      timestamp,
      value,
      ...(samples.has(timestamp) ? { sampleCount: samples.get(timestamp) } : {}),
    }));
  }
}
