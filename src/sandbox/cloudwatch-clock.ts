import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { describeError } from '../core/errors';
import type { Logger } from '../core/log';
import {
  ALB_NAMESPACE,
  albMetricData,
  albResponseTimeSamples,
  type AlbMetricsRecorder,
  type HostCounts,
} from './alb-metrics';
import type { AlarmEvaluator } from './alarm-evaluator';
import { CostMeter } from './cost-meter';
import type { ResponseTimeSamples } from './percentiles';

/**
 * The sandbox's CloudWatch clock: at the end of every metric window it puts
 * the window's ALB metrics into moto (stamped with the window's start, real
 * time) and then evaluates the alarms, so an alarm sees a period's data as
 * soon as the period ends.
 *
 * Time: timestamps are real (wall-clock) time, so any client reads them with
 * ordinary StartTime/EndTime. Periods are scaled: a window is 10 AWS seconds
 * × time scale, rounded to whole seconds, at least 1 s; an alarm period of
 * `P` AWS seconds lasts `P × scale` real seconds, rounded to whole windows.
 */

/** Real milliseconds of one metric window at a time scale. */
export function metricWindowMs(timeScale: number): number {
  return Math.max(1, Math.round(10 * timeScale)) * 1000;
}

/** Real milliseconds of an alarm period of `periodSeconds` AWS seconds: scaled, a whole number of windows, at least one. */
export function scaledPeriodMs(periodSeconds: number, timeScale: number): number {
  const window = metricWindowMs(timeScale);
  return Math.max(1, Math.round((periodSeconds * 1000 * timeScale) / window)) * window;
}

/** A source of more metrics: its namespace, and the datums of the window that starts at `timestamp`. */
export interface MetricSource {
  namespace: string;
  take(timestamp: Date): MetricDatum[];
}

/** Most datums in one PutMetricData call (CloudWatch's limit). */
const DATUMS_PER_CALL = 1000;

export class CloudWatchClock {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly cloudWatch: CloudWatchClient,
    private readonly windowMs: number,
    private readonly recorder: AlbMetricsRecorder,
    private readonly hosts: () => HostCounts[],
    private readonly alarms: AlarmEvaluator,
    private readonly log: Logger,
    /** Where each window's time goes (`cloudwatch:window`). */
    private readonly costs = new CostMeter(),
    /** Where each window's response times are kept for percentiles. */
    private readonly samples?: ResponseTimeSamples,
    /** Other metrics put each window (e.g. `AWS/ELB` of classic load balancers): the window's datums, by namespace. */
    private readonly more: MetricSource[] = [],
  ) {}

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const windowEnd = (Math.floor(Date.now() / this.windowMs) + 1) * this.windowMs;
    this.timer = setTimeout(() => {
      this.running = this.running.then(() => this.tick(windowEnd)).finally(() => this.schedule());
    }, windowEnd - Date.now());
  }

  private async tick(windowEnd: number): Promise<void> {
    if (this.stopped) return;
    const started = performance.now();
    try {
      const window = this.recorder.take();
      const windowStart = windowEnd - this.windowMs;
      for (const { id, values } of albResponseTimeSamples(window)) this.samples?.record(id, windowStart, values);
      const batches = [
        { namespace: ALB_NAMESPACE, data: albMetricData(window, this.hosts(), new Date(windowStart)) },
        ...this.more.map((source) => ({ namespace: source.namespace, data: source.take(new Date(windowStart)) })),
      ];
      for (const { namespace, data } of batches)
        for (let i = 0; i < data.length; i += DATUMS_PER_CALL) {
          await this.cloudWatch.send(
            new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + DATUMS_PER_CALL) }),
          );
        }
      await this.alarms.evaluate(windowEnd);
    } catch (error) {
      this.log.debug(`cloudwatch window: ${describeError(error)}`);
    }
    this.costs.record('cloudwatch:window', performance.now() - started);
  }

  /** Evaluates new alarms now (after PutMetricAlarm: a new alarm shows its first state at once), after any window in progress. */
  evaluateNewAlarms(): Promise<void> {
    this.running = this.running.then(() =>
      this.stopped
        ? undefined
        : this.alarms
            .evaluate(Date.now(), true)
            .catch((error: unknown) => this.log.debug(`alarms: ${describeError(error)}`)),
    );
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running.catch(() => undefined);
  }
}
