import test from 'ava';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import {
  AlbMetricsRecorder,
  albMetricData,
  loadBalancerDimension,
  targetGroupDimension,
} from '../../../src/sandbox/alb-metrics';
import { sortJsonDimensions, sortQueryDimensions } from '../../../src/sandbox/cloudwatch-dimensions';

const lb = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188';
const tg = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/73e2d6bc24d8a067';
const stamp = new Date(Date.UTC(2026, 11, 1, 10, 0, 0));

function find(data: MetricDatum[], name: string, dimensionNames: string[]): MetricDatum | undefined {
  return data.find(
    (d) =>
      d.MetricName === name &&
      (d.Dimensions ?? [])
        .map((x) => x.Name)
        .sort()
        .join() === [...dimensionNames].sort().join(),
  );
}

test('dimensions are the ARN parts AWS uses', (t) => {
  t.is(loadBalancerDimension(lb), 'app/web/50dc6c495c0c9188');
  t.is(targetGroupDimension(tg), 'targetgroup/web-tg/73e2d6bc24d8a067');
});

test('a window of routed requests becomes AWS/ApplicationELB datums per load balancer and per target group', (t) => {
  const recorder = new AlbMetricsRecorder();
  recorder.targetResponse(lb, tg, 200, 0.01);
  recorder.targetResponse(lb, tg, 200, 0.03);
  recorder.targetResponse(lb, tg, 500, 0.02);
  recorder.elbResponse(lb, 503);
  recorder.elbResponse(lb, 502, tg);
  const data = albMetricData(
    recorder.take(),
    [{ loadBalancerArn: lb, targetGroupArn: tg, healthy: 2, unhealthy: 1 }],
    stamp,
  );
  t.true(data.every((d) => d.Timestamp === stamp));
  // RequestCount: every request with a chosen target (the 502 too), not the 503 for want of one.
  t.is(find(data, 'RequestCount', ['LoadBalancer'])?.Value, 4);
  t.is(find(data, 'RequestCount', ['LoadBalancer', 'TargetGroup'])?.Value, 4);
  t.is(find(data, 'HTTPCode_Target_2XX_Count', ['LoadBalancer', 'TargetGroup'])?.Value, 2);
  t.is(find(data, 'HTTPCode_Target_5XX_Count', ['LoadBalancer'])?.Value, 1);
  t.is(find(data, 'HTTPCode_ELB_5XX_Count', ['LoadBalancer'])?.Value, 2);
  t.is(find(data, 'HTTPCode_ELB_503_Count', ['LoadBalancer'])?.Value, 1);
  t.is(find(data, 'HTTPCode_ELB_502_Count', ['LoadBalancer'])?.Value, 1);
  t.is(
    find(data, 'HTTPCode_ELB_5XX_Count', ['LoadBalancer', 'TargetGroup']),
    undefined,
    'ELB codes have no target group dimension',
  );
  const times = find(data, 'TargetResponseTime', ['LoadBalancer', 'TargetGroup']);
  t.is(times?.Unit, 'Seconds');
  t.is(times?.StatisticValues?.SampleCount, 3);
  t.is(Math.round((times?.StatisticValues?.Sum ?? 0) * 1000), 60);
  t.is(times?.StatisticValues?.Minimum, 0.01);
  t.is(times?.StatisticValues?.Maximum, 0.03);
  t.is(find(data, 'HealthyHostCount', ['LoadBalancer', 'TargetGroup'])?.Value, 2);
  t.is(find(data, 'UnHealthyHostCount', ['LoadBalancer', 'TargetGroup'])?.Value, 1);
  t.is(find(data, 'HealthyHostCount', ['LoadBalancer']), undefined, 'host counts are per target group only');
  t.deepEqual(find(data, 'RequestCount', ['LoadBalancer', 'TargetGroup'])?.Dimensions, [
    { Name: 'LoadBalancer', Value: 'app/web/50dc6c495c0c9188' },
    { Name: 'TargetGroup', Value: 'targetgroup/web-tg/73e2d6bc24d8a067' },
  ]);
});

test('zero counts are missing data, host counts are published every window; take() starts a new window', (t) => {
  const recorder = new AlbMetricsRecorder();
  recorder.targetResponse(lb, tg, 200, 0.01);
  const first = albMetricData(recorder.take(), [], stamp);
  t.is(find(first, 'HTTPCode_Target_5XX_Count', ['LoadBalancer']), undefined);
  t.is(find(first, 'RequestCount', ['LoadBalancer'])?.Value, 1);
  const idle = albMetricData(
    recorder.take(),
    [{ loadBalancerArn: lb, targetGroupArn: tg, healthy: 0, unhealthy: 0 }],
    stamp,
  );
  t.deepEqual(
    idle.map((d) => [d.MetricName, d.Value]),
    [
      ['HealthyHostCount', 0],
      ['UnHealthyHostCount', 0],
    ],
  );
});

test('the gateway puts CloudWatch dimensions in one order (moto compares them as a list)', (t) => {
  const query =
    'Action=GetMetricStatistics&Dimensions.member.1.Name=TargetGroup&Dimensions.member.1.Value=tg&Dimensions.member.2.Name=LoadBalancer&Dimensions.member.2.Value=lb';
  const sorted = new URLSearchParams(sortQueryDimensions(query));
  t.is(sorted.get('Dimensions.member.1.Name'), 'LoadBalancer');
  t.is(sorted.get('Dimensions.member.1.Value'), 'lb');
  t.is(sorted.get('Dimensions.member.2.Value'), 'tg');
  t.is(
    sortQueryDimensions(
      'Action=GetMetricStatistics&Dimensions.member.1.Name=LoadBalancer&Dimensions.member.1.Value=lb',
    ),
    undefined,
  );
  const json = JSON.stringify({
    MetricDataQueries: [
      {
        MetricStat: {
          Metric: {
            Dimensions: [
              { Name: 'TargetGroup', Value: 'tg' },
              { Name: 'LoadBalancer', Value: 'lb' },
            ],
          },
        },
      },
    ],
  });
  const parsed = JSON.parse(sortJsonDimensions(json) ?? '{}') as {
    MetricDataQueries: { MetricStat: { Metric: { Dimensions: { Name: string }[] } } }[];
  };
  t.deepEqual(
    parsed.MetricDataQueries[0]?.MetricStat.Metric.Dimensions.map((d) => d.Name),
    ['LoadBalancer', 'TargetGroup'],
  );
  t.is(sortJsonDimensions('{"Dimensions":[{"Name":"A"},{"Name":"B"}]}'), undefined);
});
