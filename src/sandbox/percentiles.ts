/**
 * The response times the sandbox's load balancers really measured, kept per
 * metric series and per metric window, to answer percentile statistics
 * (`p50`, `p99.9`, …), which moto cannot (it stores PutMetricData's
 * `StatisticValues` but computes no percentile, and fails on a percentile
 * `Stat` in GetMetricData). Bounded: samples older than CloudWatch keeps
 * one-second data (3 hours) go, and so do the oldest once there are
 * {@link MAX_SAMPLES}.
 */

/** A metric dimension as CloudWatch names it. */
export interface Dimension {
  Name: string;
  Value: string;
}

/** What identifies a series: namespace, metric name, dimensions (a set: order does not matter). */
export interface SeriesId {
  namespace: string;
  metricName: string;
  dimensions: Dimension[];
}

/** Most samples kept over all series (≈ 8 bytes each). */
export const MAX_SAMPLES = 500_000;
/** How long samples are kept (CloudWatch keeps one-second data for 3 hours). */
export const RETENTION_MS = 3 * 3600_000;

/** The key of a series: the dimensions sorted by name, so any order finds it. */
export function seriesKey(id: SeriesId): string {
  const dimensions = [...id.dimensions].sort((a, b) => a.Name.localeCompare(b.Name)).map((d) => `${d.Name}=${d.Value}`);
  return [id.namespace, id.metricName, ...dimensions].join('\u0000');
}

/** `p99`, `p99.9`, `p50` → 99, 99.9, 50; undefined when the statistic is not a plain percentile. */
export function percentileOf(stat: string): number | undefined {
  const match = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(stat);
  if (!match) return undefined;
  const p = Number(match[1]);
  return p >= 0 && p <= 100 ? p : undefined;
}

/** The `p`th percentile of `sorted` (ascending, not empty), nearest rank: the least value with at least p% at or below it. */
export function nearestRank(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** The statistics of one period of a series. */
export interface PeriodStatistics {
  /** Period start, epoch ms. */
  timestamp: number;
  sampleCount: number;
  sum: number;
  minimum: number;
  maximum: number;
  average: number;
  /** Sorted samples, for percentiles. */
  sorted: number[];
}

interface Window {
  at: number;
  values: number[];
}

export class ResponseTimeSamples {
  private readonly series = new Map<string, Window[]>();
  private total = 0;

  /** Keeps the samples `values` of one window of a series, stamped `at` (epoch ms, the window's start). */
  record(id: SeriesId, at: number, values: number[]): void {
    if (values.length === 0) return;
    const key = seriesKey(id);
    let windows = this.series.get(key);
    if (!windows) this.series.set(key, (windows = []));
    windows.push({ at, values: [...values] });
    this.total += values.length;
    this.trim(at);
  }

  /** Drops what is older than the retention, then the oldest windows until within {@link MAX_SAMPLES}. */
  private trim(now: number): void {
    for (const [key, windows] of this.series) {
      while (windows.length > 0 && (windows[0] as Window).at < now - RETENTION_MS)
        this.total -= (windows.shift() as Window).values.length;
      if (windows.length === 0) this.series.delete(key);
    }
    while (this.total > MAX_SAMPLES) {
      let oldest: { key: string; at: number } | undefined;
      for (const [key, windows] of this.series) {
        const at = windows[0]?.at ?? Number.POSITIVE_INFINITY;
        if (!oldest || at < oldest.at) oldest = { key, at };
      }
      const windows = oldest ? this.series.get(oldest.key) : undefined;
      if (!windows || windows.length === 0) break;
      this.total -= (windows.shift() as Window).values.length;
      if (windows.length === 0) this.series.delete(oldest?.key as string);
    }
  }

  /** True when the sandbox records this series (then it answers its percentiles, empty or not). */
  has(id: SeriesId): boolean {
    return this.series.has(seriesKey(id));
  }

  /**
   * Statistics per period of `periodMs` (periods aligned to multiples of the
   * period since the epoch, as CloudWatch aligns them), for samples stamped in
   * [startMs, endMs); periods without samples are left out (missing data).
   */
  periods(id: SeriesId, startMs: number, endMs: number, periodMs: number): PeriodStatistics[] {
    const buckets = new Map<number, number[]>();
    for (const window of this.series.get(seriesKey(id)) ?? []) {
      if (window.at < startMs || window.at >= endMs) continue;
      const bucket = Math.floor(window.at / periodMs) * periodMs;
      const values = buckets.get(bucket) ?? [];
      values.push(...window.values);
      buckets.set(bucket, values);
    }
    return [...buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([timestamp, values]) => {
        const sorted = values.sort((a, b) => a - b);
        const sum = sorted.reduce((total, v) => total + v, 0);
        return {
          timestamp,
          sampleCount: sorted.length,
          sum,
          minimum: sorted[0] as number,
          maximum: sorted[sorted.length - 1] as number,
          average: sum / sorted.length,
          sorted,
        };
      });
  }

  /** Samples kept now (for the bound's test). */
  size(): number {
    return this.total;
  }
}

/** One statistic of a period: `SampleCount`, `Average`, `Sum`, `Minimum`, `Maximum` or a percentile `pNN`. */
export function statisticOf(period: PeriodStatistics, stat: string): number | undefined {
  switch (stat) {
    case 'SampleCount':
      return period.sampleCount;
    case 'Average':
      return period.average;
    case 'Sum':
      return period.sum;
    case 'Minimum':
      return period.minimum;
    case 'Maximum':
      return period.maximum;
    default: {
      const p = percentileOf(stat);
      return p === undefined ? undefined : nearestRank(period.sorted, p);
    }
  }
}
