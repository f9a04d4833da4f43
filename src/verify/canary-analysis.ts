import { mannWhitneyGreater, proportionGreater } from './canary-statistics';

/**
 * The canary judge, pure (what Kayenta's NetflixACAJudge does, on data read
 * from CloudWatch by `canary-metrics.ts`): each metric compares the canary
 * with the baseline over the same window and gets a verdict; the verdicts
 * make a score from 0 to 100, judged against the pass and marginal scores.
 *
 * Per metric: the canary is *worse* when its mean is beyond the baseline's
 * by more than the tolerance (relative) and `minDelta` (absolute) in the bad
 * direction, and the difference is significant. Significance is one-sided:
 * per-period values (latency percentiles, user metrics) by Mann–Whitney U,
 * as Kayenta; the error rate by a two-proportion test on the window's totals
 * instead, which holds up at low traffic (a 10 % canary gets few requests:
 * its per-period rates are few and mostly 0, and Mann–Whitney on 3 periods
 * cannot go below p = 0.05 whatever the errors).
 */

/** Which way a metric gets worse. */
export type BadDirection = 'higher' | 'lower' | 'either';

/** How one metric is judged. */
export interface MetricJudgement {
  /** The name shown in the verdict, the ledger and the JUnit checks. */
  name: string;
  bad: BadDirection;
  /** Weight in the score. */
  weight: number;
  /** A critical metric that fails sets the score to 0 (the canary fails whatever the others). */
  critical: boolean;
  /** Relative change that is tolerated (0.2: up to 20 % worse than the baseline). */
  tolerance: number;
  /** Absolute change that is tolerated (a 2 ms → 5 ms latency is not a regression). */
  minDelta: number;
}

/** The data of one metric over a window: per-period values, or counts for a rate. */
export type MetricData =
  | { kind: 'series'; canary: readonly number[]; baseline: readonly number[] }
  | {
      kind: 'rate';
      canary: { events: number; total: number };
      baseline: { events: number; total: number };
      /** Fewer requests than this on either side: not judged. */
      minTotal: number;
    };

/** The data of one window, by metric name. */
export type WindowData = Map<string, MetricData>;

/** The verdict of one metric at one step. */
export interface MetricVerdict {
  name: string;
  verdict: 'pass' | 'marginal' | 'fail' | 'nodata';
  /** The canary's and the baseline's value (mean of the periods, or the rate). */
  canary?: number;
  baseline?: number;
  /** One-sided p-value of "the canary is worse". */
  pValue?: number;
  test?: 'mann-whitney-exact' | 'mann-whitney-normal' | 'two-proportion';
  critical: boolean;
  weight: number;
  /** Why, with the numbers. */
  reason: string;
}

/** Significance under which a regression fails its metric. */
export const FAIL_P = 0.05;
/** Significance under which a regression makes its metric marginal. */
export const MARGINAL_P = 0.25;

/** Judges one metric (see the module comment). Pure. */
export function judgeMetric(judgement: MetricJudgement, data: MetricData): MetricVerdict {
  const base = { name: judgement.name, critical: judgement.critical, weight: judgement.weight };
  const summary = summarize(data);
  if (!summary) return { ...base, verdict: 'nodata', reason: noDataReason(data) };
  const { canary, baseline } = summary;
  const directions: Array<'higher' | 'lower'> = judgement.bad === 'either' ? ['higher', 'lower'] : [judgement.bad];
  let worst: { pValue: number; direction: 'higher' | 'lower'; test: MetricVerdict['test'] } | undefined;
  for (const direction of directions) {
    const delta = direction === 'higher' ? canary - baseline : baseline - canary;
    if (delta <= Math.max(judgement.minDelta, judgement.tolerance * Math.abs(baseline))) continue;
    const tested = significance(data, direction);
    // Two one-sided looks ('either') count double (Bonferroni).
    const pValue = Math.min(1, tested.pValue * directions.length);
    if (!worst || pValue < worst.pValue) worst = { pValue, direction, test: tested.test };
  }
  const numbers = `canary ${round(canary)} vs baseline ${round(baseline)}`;
  if (!worst) return { ...base, verdict: 'pass', canary, baseline, reason: `${numbers}: within tolerance` };
  const verdict = worst.pValue <= FAIL_P ? 'fail' : worst.pValue <= MARGINAL_P ? 'marginal' : 'pass';
  return {
    ...base,
    verdict,
    canary,
    baseline,
    pValue: worst.pValue,
    ...(worst.test ? { test: worst.test } : {}),
    reason: `${numbers}: ${worst.direction} (p = ${round(worst.pValue)}, ${worst.test})${verdict === 'pass' ? ', not significant' : ''}`,
  };
}

function summarize(data: MetricData): { canary: number; baseline: number } | undefined {
  if (data.kind === 'rate') {
    if (data.canary.total < data.minTotal || data.baseline.total < data.minTotal) return undefined;
    return { canary: data.canary.events / data.canary.total, baseline: data.baseline.events / data.baseline.total };
  }
  if (data.canary.length === 0 || data.baseline.length === 0) return undefined;
  return { canary: mean(data.canary), baseline: mean(data.baseline) };
}

function noDataReason(data: MetricData): string {
  return data.kind === 'rate'
    ? `not judged: ${data.canary.total} canary and ${data.baseline.total} baseline request(s), fewer than ${data.minTotal}`
    : `not judged: ${data.canary.length} canary and ${data.baseline.length} baseline period(s) with data`;
}

function significance(
  data: MetricData,
  direction: 'higher' | 'lower',
): { pValue: number; test: NonNullable<MetricVerdict['test']> } {
  if (data.kind === 'rate') {
    const [worse, better] = direction === 'higher' ? [data.canary, data.baseline] : [data.baseline, data.canary];
    return { pValue: proportionGreater(worse, better), test: 'two-proportion' };
  }
  const [worse, better] = direction === 'higher' ? [data.canary, data.baseline] : [data.baseline, data.canary];
  const test = mannWhitneyGreater(worse, better);
  return { pValue: test.pValue, test: test.method === 'exact' ? 'mann-whitney-exact' : 'mann-whitney-normal' };
}

/** The score thresholds. */
export interface ScoreThresholds {
  /** At or above: the step passes. */
  passScore: number;
  /** Below: the step fails (the canary is removed). Between: marginal. */
  marginalScore: number;
}

/** Spinnaker's defaults. */
export const DEFAULT_THRESHOLDS: ScoreThresholds = { passScore: 95, marginalScore: 75 };

/** The judgement of one step. */
export interface CanaryScore {
  /** 0 to 100; 100 when no metric had data to judge. */
  score: number;
  verdict: 'pass' | 'marginal' | 'fail';
  metrics: MetricVerdict[];
  /** Why, in one line. */
  reason: string;
}

/**
 * The score, as Kayenta: the weighted share of judged metrics that pass
 * (a marginal one counts half; a metric without data is left out); a failed
 * critical metric makes it 0. `last`: the last step before the full
 * rollout, where a marginal score fails (Spinnaker: the last interval must pass).
 */
export function scoreCanary(metrics: MetricVerdict[], thresholds: ScoreThresholds, last: boolean): CanaryScore {
  const judged = metrics.filter((m) => m.verdict !== 'nodata');
  const totalWeight = judged.reduce((sum, m) => sum + m.weight, 0);
  const earned = judged.reduce(
    (sum, m) => sum + m.weight * (m.verdict === 'pass' ? 1 : m.verdict === 'marginal' ? 0.5 : 0),
    0,
  );
  const criticalFailed = judged.find((m) => m.critical && m.verdict === 'fail');
  const score = criticalFailed ? 0 : totalWeight > 0 ? Math.round((earned / totalWeight) * 1000) / 10 : 100;
  const worse = judged.filter((m) => m.verdict === 'fail' || m.verdict === 'marginal');
  let verdict: CanaryScore['verdict'] =
    score >= thresholds.passScore ? 'pass' : score >= thresholds.marginalScore ? 'marginal' : 'fail';
  if (verdict === 'marginal' && last) verdict = 'fail';
  const named = worse.map((m) => `${m.name} ${m.verdict} (${m.reason})`).join('; ');
  const reason =
    judged.length === 0
      ? 'score 100: no metric had enough data to judge'
      : `score ${score} (pass ≥ ${thresholds.passScore}, marginal ≥ ${thresholds.marginalScore})` +
        (criticalFailed ? `: critical metric ${criticalFailed.name} failed` : '') +
        (named ? `; ${named}` : '') +
        (verdict === 'fail' && score >= thresholds.marginalScore ? '; marginal at the last step fails' : '');
  return { score, verdict, metrics, reason };
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function round(value: number): number {
  return Math.abs(value) >= 1 ? Math.round(value * 100) / 100 : Number(value.toPrecision(3));
}
