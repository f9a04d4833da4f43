/**
 * How CloudWatch decides a metric alarm's state from its datapoints, as a
 * pure function: statistic values per period in, state and AWS's wording of
 * the reason out.
 *
 * The rules (CloudWatch's, as documented for missing data): the evaluation
 * range is the last 2 × `EvaluationPeriods` complete periods. With at least
 * `EvaluationPeriods` real datapoints in it, the most recent
 * `EvaluationPeriods` of them are evaluated and missing data does not matter.
 * With fewer, every real one is evaluated and the rest are filled as
 * `TreatMissingData` says: `breaching` / `notBreaching` fill them as such;
 * `missing` leaves them out (no real datapoint at all → INSUFFICIENT_DATA);
 * `ignore` leaves them out too but keeps the current state when there is no
 * real datapoint. ALARM when at least `DatapointsToAlarm` (default
 * `EvaluationPeriods`) evaluated datapoints breach, else OK.
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** The comparisons a static-threshold alarm can use. */
export const COMPARISONS = {
  GreaterThanThreshold: { words: 'greater than', breaches: (v: number, t: number) => v > t },
  GreaterThanOrEqualToThreshold: { words: 'greater than or equal to', breaches: (v: number, t: number) => v >= t },
  LessThanThreshold: { words: 'less than', breaches: (v: number, t: number) => v < t },
  LessThanOrEqualToThreshold: { words: 'less than or equal to', breaches: (v: number, t: number) => v <= t },
} as const;

export type ComparisonOperator = keyof typeof COMPARISONS;

/** What evaluation needs of a PutMetricAlarm alarm. */
export interface AlarmRule {
  comparisonOperator: ComparisonOperator;
  threshold: number;
  evaluationPeriods: number;
  /** M of "M out of N"; default `evaluationPeriods`. */
  datapointsToAlarm?: number;
  treatMissingData?: 'missing' | 'ignore' | 'breaching' | 'notBreaching';
  statistic: string;
  /** The alarm's period in AWS seconds (as written in StateReasonData). */
  periodSeconds: number;
}

/** One period's statistic. */
export interface Datapoint {
  /** Start of the period, epoch ms. */
  timestamp: number;
  value: number;
  sampleCount?: number;
}

/** The periods evaluated: `count` periods of `periodMs` each, the last ending at `end` (epoch ms). */
export interface EvaluationRange {
  end: number;
  periodMs: number;
  count: number;
}

/** A new state with AWS's reason, or `retain` (TreatMissingData `ignore` with no data). */
export type AlarmVerdict = { state: AlarmState; reason: string; reasonData: string } | { state: 'retain' };

/** Java-style number as CloudWatch prints it: `12.0`, `0.5`. */
export function formatNumber(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

const two = (n: number): string => String(n).padStart(2, '0');

/** `dd/MM/yy HH:mm:ss` in UTC, as in CloudWatch's state reasons. */
export function formatReasonDate(epochMs: number): string {
  const d = new Date(epochMs);
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** `2026-12-01T10:00:00.000+0000`, as in StateReasonData. */
function formatDataDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The evaluation of one slot: a real datapoint (breaching or not) or a fill for missing data. */
interface Slot {
  point?: Datapoint;
  breaching: boolean;
}

function listed(slots: Slot[]): string {
  return slots
    .filter((s) => s.point)
    .map((s) => `${formatNumber(s.point?.value ?? 0)} (${formatReasonDate(s.point?.timestamp ?? 0)})`)
    .join(', ');
}

/**
 * Evaluates an alarm over `range` given the datapoints the metric has there
 * (others are ignored) and the alarm's current state (`from`, for the reason's
 * "OK -> ALARM").
 */
export function evaluateAlarm(
  rule: AlarmRule,
  datapoints: Datapoint[],
  range: EvaluationRange,
  from: AlarmState,
  queryDate: number,
): AlarmVerdict {
  const n = Math.max(1, rule.evaluationPeriods);
  const m = Math.min(n, Math.max(1, rule.datapointsToAlarm ?? n));
  const comparison = COMPARISONS[rule.comparisonOperator];
  const start = range.end - range.count * range.periodMs;
  const real = datapoints
    .filter((d) => d.timestamp >= start && d.timestamp < range.end && Number.isFinite(d.value))
    .sort((a, b) => b.timestamp - a.timestamp);
  const treat = rule.treatMissingData ?? 'missing';
  const slots: Slot[] = real
    .slice(0, n)
    .map((point) => ({ point, breaching: comparison.breaches(point.value, rule.threshold) }));
  const fills = n - slots.length;
  if (slots.length === 0 && treat === 'ignore') return { state: 'retain' };
  if (slots.length === 0 && treat === 'missing') {
    return {
      state: 'INSUFFICIENT_DATA',
      reason: `Insufficient Data: ${plural(n, 'datapoint')} ${n === 1 ? 'was' : 'were'} unknown.`,
      reasonData: reasonData(rule, slots, start, queryDate),
    };
  }
  const filled: Slot[] =
    treat === 'breaching' || treat === 'notBreaching'
      ? Array.from({ length: fills }, () => ({ breaching: treat === 'breaching' }))
      : [];
  const evaluated = [...slots, ...filled];
  const breaching = evaluated.filter((s) => s.breaching);
  const state: AlarmState = breaching.length >= m ? 'ALARM' : 'OK';
  const counted = state === 'ALARM' ? breaching : evaluated.filter((s) => !s.breaching);
  const threshold = formatNumber(rule.threshold);
  const fillCount = counted.filter((s) => !s.point).length;
  let reason: string;
  if (counted.length === fillCount) {
    reason =
      `Threshold Crossed: no datapoints were received for ${plural(fills, 'period')} and ${plural(fillCount, 'missing datapoint')} ` +
      `${fillCount === 1 ? 'was' : 'were'} treated as [${state === 'ALARM' ? 'Breaching' : 'NonBreaching'}].`;
  } else {
    const minimum = state === 'ALARM' ? m : n - m + 1;
    const verb = counted.length === 1 ? 'was' : 'were';
    const not = state === 'ALARM' ? '' : 'not ';
    const treated =
      fillCount > 0
        ? ` (${plural(fillCount, 'missing datapoint')} treated as [${state === 'ALARM' ? 'Breaching' : 'NonBreaching'}])`
        : '';
    reason =
      `Threshold Crossed: ${counted.length} out of the last ${n} datapoints [${listed(counted)}] ${verb} ${not}${comparison.words} the threshold (${threshold})` +
      `${treated} (minimum ${plural(minimum, 'datapoint')} for ${from} -> ${state} transition).`;
  }
  return { state, reason, reasonData: reasonData(rule, slots, start, queryDate) };
}

function reasonData(rule: AlarmRule, slots: Slot[], start: number, queryDate: number): string {
  const points = slots.flatMap((s) => (s.point ? [s.point] : []));
  return JSON.stringify({
    version: '1.0',
    queryDate: formatDataDate(queryDate),
    startDate: formatDataDate(points.length > 0 ? Math.min(...points.map((p) => p.timestamp)) : start),
    statistic: rule.statistic,
    period: rule.periodSeconds,
    recentDatapoints: [...points].reverse().map((p) => p.value),
    threshold: rule.threshold,
    evaluatedDatapoints: points.map((p) => ({
      timestamp: formatDataDate(p.timestamp),
      ...(p.sampleCount !== undefined ? { sampleCount: p.sampleCount } : {}),
      value: p.value,
    })),
  });
}
