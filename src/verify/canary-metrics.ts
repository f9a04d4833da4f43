import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { AwsClients } from '../aws/clients';
import type { WindowData } from './canary-analysis';
import type { CanaryMetricSpec, DIMENSION_PLACEHOLDERS } from './canary-settings';

/**
 * Reads the canary analysis's data from CloudWatch: for one window, the
 * canary target group and the production (baseline) one side by side, in one
 * GetMetricData call (every query of the window in it; at most 500 queries,
 * far more than a canary asks). Counts (requests, target 5XX) are asked as one
 * period over the whole window; percentiles and user metrics per period, so
 * the judge compares their per-period values.
 */

/** The two sides' dimensions (TargetGroup and LoadBalancer as CloudWatch names them) and names. */
export interface CanarySides {
  loadBalancer: string;
  canaryTargetGroup: string;
  baselineTargetGroup: string;
  canaryServerGroup: string;
  baselineServerGroup: string;
}

/** Every placeholder the input accepts is a side (checked by the compiler). */
type PlaceholdersAreSides = (typeof DIMENSION_PLACEHOLDERS)[number] extends keyof CanarySides ? true : never;
export const PLACEHOLDERS_ARE_SIDES: PlaceholdersAreSides = true;

const ALB = 'AWS/ApplicationELB';

/** `{canaryTargetGroup}` and the other side names in a user metric's dimension values, replaced. */
export function fillDimensions(
  dimensions: Readonly<Record<string, string>>,
  sides: CanarySides,
): Array<{ Name: string; Value: string }> {
  return Object.entries(dimensions).map(([Name, value]) => ({
    Name,
    Value: value.replace(/\{(\w+)\}/g, (whole, key: string) =>
      key in sides ? String(sides[key as keyof CanarySides]) : whole,
    ),
  }));
}

function albQuery(
  id: string,
  metricName: string,
  targetGroup: string,
  sides: CanarySides,
  stat: string,
  period: number,
): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: ALB,
        MetricName: metricName,
        Dimensions: [
          { Name: 'LoadBalancer', Value: sides.loadBalancer },
          { Name: 'TargetGroup', Value: targetGroup },
        ],
      },
      Period: period,
      Stat: stat,
    },
    ReturnData: true,
  };
}

/**
 * One window's data for every metric: the built-in error rate (`errorRate`,
 * counts) and latency percentiles (`latencyP50`, `latencyP99`, in ms), and the
 * user metrics, canary and baseline. `periodSeconds`: the per-period
 * resolution (real seconds; AWS: 60 for ALB metrics).
 */
export async function readCanaryWindow(
  aws: AwsClients,
  options: {
    sides: CanarySides;
    metrics: readonly CanaryMetricSpec[];
    start: number;
    end: number;
    periodSeconds: number;
    minRequests: number;
  },
): Promise<WindowData> {
  const { sides, periodSeconds } = options;
  const startTime = Math.floor(options.start / 1000) * 1000;
  const whole = Math.max(periodSeconds, Math.ceil((options.end - startTime) / 1000 / periodSeconds) * periodSeconds);
  const queries: MetricDataQuery[] = [];
  for (const [side, targetGroup] of [
    ['c', sides.canaryTargetGroup],
    ['b', sides.baselineTargetGroup],
  ] as const) {
    queries.push(albQuery(`req${side}`, 'RequestCount', targetGroup, sides, 'Sum', whole));
    queries.push(albQuery(`err${side}`, 'HTTPCode_Target_5XX_Count', targetGroup, sides, 'Sum', whole));
    queries.push(albQuery(`p50${side}`, 'TargetResponseTime', targetGroup, sides, 'p50', periodSeconds));
    queries.push(albQuery(`p99${side}`, 'TargetResponseTime', targetGroup, sides, 'p99', periodSeconds));
  }
  options.metrics.forEach((metric, index) => {
    for (const [side, dimensions] of [
      ['c', metric.canaryDimensions],
      ['b', metric.baselineDimensions],
    ] as const) {
      queries.push({
        Id: `u${index}${side}`,
        MetricStat: {
          Metric: {
            Namespace: metric.namespace,
            MetricName: metric.metricName,
            Dimensions: fillDimensions(dimensions, sides),
          },
          Period: periodSeconds,
          Stat: metric.stat,
        },
        ReturnData: true,
      });
    }
  });
  const values = new Map<string, number[]>();
  let nextToken: string | undefined;
  do {
    const answer = await aws.cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(startTime),
        EndTime: new Date(startTime + whole * 1000),
        MetricDataQueries: queries,
        NextToken: nextToken,
      }),
    );
    for (const result of answer.MetricDataResults ?? [])
      values.set(result.Id as string, [...(values.get(result.Id as string) ?? []), ...(result.Values ?? [])]);
    nextToken = answer.NextToken;
  } while (nextToken);
  const sum = (id: string) => (values.get(id) ?? []).reduce((a, b) => a + b, 0);
  const ms = (id: string) => (values.get(id) ?? []).map((seconds) => seconds * 1000);
  const data: WindowData = new Map();
  data.set('errorRate', {
    kind: 'rate',
    canary: { events: sum('errc'), total: sum('reqc') },
    baseline: { events: sum('errb'), total: sum('reqb') },
    minTotal: options.minRequests,
  });
  data.set('latencyP50', { kind: 'series', canary: ms('p50c'), baseline: ms('p50b') });
  data.set('latencyP99', { kind: 'series', canary: ms('p99c'), baseline: ms('p99b') });
  options.metrics.forEach((metric, index) => {
    data.set(metric.name, {
      kind: 'series',
      canary: values.get(`u${index}c`) ?? [],
      baseline: values.get(`u${index}b`) ?? [],
    });
  });
  return data;
}
