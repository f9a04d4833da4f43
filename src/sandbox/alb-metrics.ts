import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { Dimension, SeriesId } from './percentiles';

/**
 * The ALB metrics of the requests the sandbox load balancer really routed,
 * tallied per window and turned into CloudWatch datums named as AWS names
 * them: namespace `AWS/ApplicationELB`, dimension `LoadBalancer` =
 * `app/<name>/<id>` and `TargetGroup` = `targetgroup/<name>/<id>`.
 *
 * As on AWS: `RequestCount` counts requests for which a target was chosen
 * (not a 503 for want of targets); count metrics are only published when not
 * zero (no 5XX in a window is missing data, not 0); `HTTPCode_ELB_*` and
 * `HealthyHostCount`/`UnHealthyHostCount` carry the dimensions AWS gives them.
 */

export const ALB_NAMESPACE = 'AWS/ApplicationELB';

/** The `LoadBalancer` dimension of a load balancer ARN: the part after `loadbalancer/`. */
export function loadBalancerDimension(loadBalancerArn: string): string {
  const at = loadBalancerArn.indexOf(':loadbalancer/');
  return at < 0 ? loadBalancerArn : loadBalancerArn.slice(at + ':loadbalancer/'.length);
}

/** The `TargetGroup` dimension of a target group ARN: `targetgroup/<name>/<id>`. */
export function targetGroupDimension(targetGroupArn: string): string {
  const at = targetGroupArn.indexOf(':targetgroup/');
  return at < 0 ? targetGroupArn : targetGroupArn.slice(at + 1);
}

interface ResponseTimes {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Every response time of the window, for percentiles (percentiles.ts). */
  values: number[];
}

/** What one load balancer (or one of its target groups) saw in a window. */
interface Tally {
  requests: number;
  /** HTTPCode_Target_<n>XX_Count by n (2..5). */
  targetCodes: Map<number, number>;
  /** HTTPCode_ELB_<status>_Count and the per-class totals, by metric name (load balancer only). */
  elbCodes: Map<string, number>;
  responseTimes?: ResponseTimes;
}

function emptyTally(): Tally {
  return { requests: 0, targetCodes: new Map(), elbCodes: new Map() };
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function addTime(tally: Tally, seconds: number): void {
  const t = tally.responseTimes;
  if (!t) tally.responseTimes = { count: 1, sum: seconds, min: seconds, max: seconds, values: [seconds] };
  else {
    t.values.push(seconds);
    Object.assign(t, {
      count: t.count + 1,
      sum: t.sum + seconds,
      min: Math.min(t.min, seconds),
      max: Math.max(t.max, seconds),
    });
  }
}

/** The tallies of one window, per load balancer and per (load balancer, target group). */
export interface AlbWindow {
  loadBalancers: Map<string, Tally>;
  /** Keyed `<loadBalancerArn> <targetGroupArn>`. */
  targetGroups: Map<string, Tally>;
}

/** A target group behind a load balancer, with how many of its targets are healthy and unhealthy now. */
export interface HostCounts {
  loadBalancerArn: string;
  targetGroupArn: string;
  healthy: number;
  unhealthy: number;
}

/** Tallies routed requests until {@link AlbMetricsRecorder.take} hands the window over. */
export class AlbMetricsRecorder {
  private window: AlbWindow = { loadBalancers: new Map(), targetGroups: new Map() };

  private tallyOf(map: Map<string, Tally>, key: string): Tally {
    let tally = map.get(key);
    if (!tally) map.set(key, (tally = emptyTally()));
    return tally;
  }

  /** A request a target answered with `status`, its response headers `seconds` after it left the load balancer. */
  targetResponse(loadBalancerArn: string, targetGroupArn: string, status: number, seconds: number): void {
    const codeClass = Math.floor(status / 100);
    for (const tally of [
      this.tallyOf(this.window.loadBalancers, loadBalancerArn),
      this.tallyOf(this.window.targetGroups, `${loadBalancerArn} ${targetGroupArn}`),
    ]) {
      tally.requests += 1;
      if (codeClass >= 2 && codeClass <= 5) bump(tally.targetCodes, codeClass);
      addTime(tally, seconds);
    }
  }

  /**
   * A response the load balancer generated itself (e.g. 503: no target; 502:
   * the target's server is gone). `targetGroupArn` when a target had been
   * chosen: the request then counts in `RequestCount`, as on AWS.
   */
  elbResponse(loadBalancerArn: string, status: number, targetGroupArn?: string): void {
    const lb = this.tallyOf(this.window.loadBalancers, loadBalancerArn);
    bump(lb.elbCodes, `HTTPCode_ELB_${Math.floor(status / 100)}XX_Count`);
    if (status === 502 || status === 503 || status === 504) bump(lb.elbCodes, `HTTPCode_ELB_${status}_Count`);
    if (targetGroupArn) {
      lb.requests += 1;
      this.tallyOf(this.window.targetGroups, `${loadBalancerArn} ${targetGroupArn}`).requests += 1;
    }
  }

  /** Hands over the window tallied so far and starts a new one. */
  take(): AlbWindow {
    const window = this.window;
    this.window = { loadBalancers: new Map(), targetGroups: new Map() };
    return window;
  }
}

function countDatum(
  name: string,
  value: number,
  dimensions: MetricDatum['Dimensions'],
  timestamp: Date,
): MetricDatum[] {
  return value > 0
    ? [
        {
          MetricName: name,
          Dimensions: dimensions,
          Timestamp: timestamp,
          Unit: 'Count',
          Value: value,
          StorageResolution: 1,
        },
      ]
    : [];
}

function tallyData(tally: Tally, dimensions: MetricDatum['Dimensions'], timestamp: Date): MetricDatum[] {
  const data = [...countDatum('RequestCount', tally.requests, dimensions, timestamp)];
  for (const [codeClass, count] of [...tally.targetCodes].sort(([a], [b]) => a - b))
    data.push(...countDatum(`HTTPCode_Target_${codeClass}XX_Count`, count, dimensions, timestamp));
  const times = tally.responseTimes;
  if (times) {
    data.push({
      MetricName: 'TargetResponseTime',
      Dimensions: dimensions,
      Timestamp: timestamp,
      Unit: 'Seconds',
      StatisticValues: { SampleCount: times.count, Sum: times.sum, Minimum: times.min, Maximum: times.max },
      StorageResolution: 1,
    });
  }
  return data;
}

/** The datums of one window, stamped `timestamp` (the window's start), plus host counts of every (load balancer, target group). */
export function albMetricData(window: AlbWindow, hosts: HostCounts[], timestamp: Date): MetricDatum[] {
  const data: MetricDatum[] = [];
  for (const [arn, tally] of window.loadBalancers) {
    const dimensions = [{ Name: 'LoadBalancer', Value: loadBalancerDimension(arn) }];
    data.push(...tallyData(tally, dimensions, timestamp));
    for (const [name, count] of [...tally.elbCodes].sort(([a], [b]) => a.localeCompare(b)))
      data.push(...countDatum(name, count, dimensions, timestamp));
  }
  for (const [key, tally] of window.targetGroups) {
    const [lbArn = '', tgArn = ''] = key.split(' ');
    data.push(...tallyData(tally, pairDimensions(lbArn, tgArn), timestamp));
  }
  for (const host of hosts) {
    const dimensions = pairDimensions(host.loadBalancerArn, host.targetGroupArn);
    // Gauges: published every window, zero included.
    data.push({
      MetricName: 'HealthyHostCount',
      Dimensions: dimensions,
      Timestamp: timestamp,
      Unit: 'Count',
      Value: host.healthy,
      StorageResolution: 1,
    });
    data.push({
      MetricName: 'UnHealthyHostCount',
      Dimensions: dimensions,
      Timestamp: timestamp,
      Unit: 'Count',
      Value: host.unhealthy,
      StorageResolution: 1,
    });
  }
  return data;
}

/** The `TargetResponseTime` samples of a window, per series (load balancer; load balancer + target group). */
export function albResponseTimeSamples(window: AlbWindow): { id: SeriesId; values: number[] }[] {
  const series = (dimensions: Dimension[], tally: Tally) =>
    tally.responseTimes
      ? [
          {
            id: { namespace: ALB_NAMESPACE, metricName: 'TargetResponseTime', dimensions },
            values: tally.responseTimes.values,
          },
        ]
      : [];
  return [
    ...[...window.loadBalancers].flatMap(([arn, tally]) =>
      series([{ Name: 'LoadBalancer', Value: loadBalancerDimension(arn) }], tally),
    ),
    ...[...window.targetGroups].flatMap(([key, tally]) => {
      const [lbArn = '', tgArn = ''] = key.split(' ');
      return series(pairDimensions(lbArn, tgArn), tally);
    }),
  ];
}

/** Sorted by name, as the gateway sorts every client's dimensions (see cloudwatch-dimensions.ts). */
function pairDimensions(loadBalancerArn: string, targetGroupArn: string): { Name: string; Value: string }[] {
  return [
    { Name: 'LoadBalancer', Value: loadBalancerDimension(loadBalancerArn) },
    { Name: 'TargetGroup', Value: targetGroupDimension(targetGroupArn) },
  ];
}
