import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { chunk } from '../aws/paginate';
import { splitSources } from '../traffic/sources';

/**
 * Load balancer metrics of a deploy's traffic sources over a window of real
 * time, read with GetMetricData: ALB metrics of target groups (exact
 * dimensions `TargetGroup` + `LoadBalancer`, as AWS matches them) and
 * `AWS/ELB` metrics of classic load balancers (`LoadBalancerName`). The whole window is asked as one period of whole minutes
 * (valid on AWS, where ALB metrics are per 60 s), and every value returned is
 * summed, so the answer is the window's total whatever the buckets.
 */

/** Requests, target (backend) 5XX and latency of some sources over a window. */
export interface TrafficSample {
  requests: number;
  errors: number;
  /** errors ÷ requests (0 without requests). */
  errorRate: number;
  /** Average TargetResponseTime in milliseconds (undefined without requests). */
  latencyMs?: number;
}

/** `targetgroup/<name>/<id>` (of a target group ARN) or `app/<name>/<id>` (of a load balancer ARN), as CloudWatch names the dimensions. */
export function dimensionOf(arn: string, kind: 'targetgroup' | 'loadbalancer'): string {
  const at = arn.indexOf(`:${kind}/`);
  if (at < 0) return arn;
  return kind === 'targetgroup' ? arn.slice(at + 1) : arn.slice(at + ':loadbalancer/'.length);
}

/** The (TargetGroup, LoadBalancer) dimension pairs of target groups: one per load balancer each forwards from. */
export async function targetGroupDimensions(
  aws: AwsClients,
  targetGroupArns: readonly string[],
): Promise<Array<{ targetGroup: string; loadBalancer: string }>> {
  const pairs: Array<{ targetGroup: string; loadBalancer: string }> = [];
  for (const batch of chunk([...targetGroupArns], 20)) {
    const answer = await aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: batch }));
    for (const group of answer.TargetGroups ?? []) {
      for (const lb of group.LoadBalancerArns ?? []) {
        pairs.push({
          targetGroup: dimensionOf(group.TargetGroupArn as string, 'targetgroup'),
          loadBalancer: dimensionOf(lb, 'loadbalancer'),
        });
      }
    }
  }
  return pairs;
}

/** Where a source's metrics are: a target group behind one ALB, or a classic load balancer. */
export type TrafficDimensions = { targetGroup: string; loadBalancer: string } | { classicLoadBalancer: string };

/** The metric dimensions of traffic sources: a target group's per ALB it is behind ({@link targetGroupDimensions}), a CLB's name. */
export async function trafficDimensions(aws: AwsClients, sources: readonly string[]): Promise<TrafficDimensions[]> {
  const { targetGroupArns, loadBalancerNames } = splitSources(sources);
  return [
    ...(targetGroupArns.length > 0 ? await targetGroupDimensions(aws, targetGroupArns) : []),
    ...loadBalancerNames.map((classicLoadBalancer) => ({ classicLoadBalancer })),
  ];
}

type MetricKey = 'requests' | 'errors' | 'latencySum' | 'latencyCount';
/** What is read of an ALB target group: target 5XX, TargetResponseTime in seconds. */
const ALB_METRICS = [
  ['requests', 'RequestCount', 'Sum'],
  ['errors', 'HTTPCode_Target_5XX_Count', 'Sum'],
  ['latencySum', 'TargetResponseTime', 'Sum'],
  ['latencyCount', 'TargetResponseTime', 'SampleCount'],
] as const satisfies ReadonlyArray<readonly [MetricKey, string, string]>;
/** The same of a classic load balancer: backend 5XX, Latency in seconds. */
const CLB_METRICS = [
  ['requests', 'RequestCount', 'Sum'],
  ['errors', 'HTTPCode_Backend_5XX', 'Sum'],
  ['latencySum', 'Latency', 'Sum'],
  ['latencyCount', 'Latency', 'SampleCount'],
] as const satisfies ReadonlyArray<readonly [MetricKey, string, string]>;

/** Namespace, dimensions and metrics of one source. */
function metricsOf(d: TrafficDimensions) {
  return 'classicLoadBalancer' in d
    ? {
        namespace: 'AWS/ELB',
        dimensions: [{ Name: 'LoadBalancerName', Value: d.classicLoadBalancer }],
        metrics: CLB_METRICS,
      }
    : {
        namespace: 'AWS/ApplicationELB',
        dimensions: [
          { Name: 'LoadBalancer', Value: d.loadBalancer },
          { Name: 'TargetGroup', Value: d.targetGroup },
        ],
        metrics: ALB_METRICS,
      };
}

/** Totals of the sources' load balancer metrics from `start` to `end` (epoch ms). */
export async function sampleTraffic(
  aws: AwsClients,
  dimensions: readonly TrafficDimensions[],
  start: number,
  end: number,
): Promise<TrafficSample> {
  const totals = { requests: 0, errors: 0, latencySum: 0, latencyCount: 0 };
  if (dimensions.length === 0 || end <= start) return toSample(totals);
  const startTime = Math.floor(start / 1000) * 1000;
  const period = Math.max(60, Math.ceil((end - startTime) / 60_000) * 60);
  const queries: Array<MetricDataQuery & { key: keyof typeof totals }> = [];
  dimensions.forEach((d, index) => {
    const source = metricsOf(d);
    for (const [key, metric, stat] of source.metrics) {
      queries.push({
        key,
        Id: `${key.toLowerCase()}${index}`,
        MetricStat: {
          Metric: { Namespace: source.namespace, MetricName: metric, Dimensions: source.dimensions },
          Period: period,
          Stat: stat,
        },
        ReturnData: true,
      });
    }
  });
  // GetMetricData takes at most 500 queries per call.
  for (const batch of chunk(queries, 500)) {
    const byId = new Map(batch.map((q) => [q.Id, q.key]));
    let nextToken: string | undefined;
    do {
      const answer = await aws.cloudWatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(startTime),
          EndTime: new Date(startTime + period * 1000),
          MetricDataQueries: batch.map(({ key: _key, ...query }) => query),
          NextToken: nextToken,
        }),
      );
      for (const result of answer.MetricDataResults ?? []) {
        const key = byId.get(result.Id);
        if (key) totals[key] += (result.Values ?? []).reduce((a, b) => a + b, 0);
      }
      nextToken = answer.NextToken;
    } while (nextToken);
  }
  return toSample(totals);
}

function toSample(totals: {
  requests: number;
  errors: number;
  latencySum: number;
  latencyCount: number;
}): TrafficSample {
  return {
    requests: totals.requests,
    errors: totals.errors,
    errorRate: totals.requests > 0 ? totals.errors / totals.requests : 0,
    ...(totals.latencyCount > 0
      ? { latencyMs: Math.round((totals.latencySum / totals.latencyCount) * 10_000) / 10 }
      : {}),
  };
}
