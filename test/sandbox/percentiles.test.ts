import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GetMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { loadBalancerDimension, targetGroupDimension } from '../../src/sandbox/alb-metrics';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import {
  createAppAsg,
  createTargetGroup,
  forwardWeighted,
  getJson,
  makeAppAmi,
  waitFor,
  waitForHealthyTarget,
} from './fixtures';

/**
 * ALB metrics of a canary target group next to production (issue #23): RequestCount and
 * HTTPCode_Target_5XX_Count per target group as routed, and TargetResponseTime percentiles
 * (GetMetricData `p99`, GetMetricStatistics ExtendedStatistics) from the requests really routed.
 */

const run = promisify(execFile);
let sandbox: Sandbox;
let canaryArn: string;
/** What the test itself saw: requests per version and 500s per version. */
const seen = { v1: 0, v2: 0, v1Errors: 0, v2Errors: 0 };
const CANARY_LATENCY_MS = 300;

// Scale 0.05: metric windows of 1 s, health interval 0.5 s.
test.before(async () => {
  sandbox = await startSandbox({ infra: 'demo', timeScale: 0.05 });
  const aws = sandbox.clients();
  const infra = sandbox.infra!;
  canaryArn = await createTargetGroup(aws, infra, 'canary-web', 10);
  await createAppAsg(aws, infra, 'prod-v001', await makeAppAmi(aws, 'v1'), 1);
  const canaryAmi = await makeAppAmi(aws, 'v2', 'ok', {
    'sandbox:latency': String(CANARY_LATENCY_MS),
    'sandbox:errors': '0.5',
  });
  await createAppAsg(aws, { ...infra, targetGroupArn: canaryArn }, 'canary-v002', canaryAmi, 1);
  for (const arn of [infra.targetGroupArn, canaryArn]) await waitForHealthyTarget(aws, arn);
  await forwardWeighted(aws, infra.listenerArn, [
    [infra.targetGroupArn, 1],
    [canaryArn, 1],
  ]);
  for (let batch = 0; batch < 6; batch += 1) {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => getJson(`${sandbox.listenerUrl as string}/orders`)),
    );
    for (const { status, body } of answers) {
      // A sandbox:errors 500 names its version too.
      const v = body?.version === 'v1' ? 'v1' : 'v2';
      seen[v] += 1;
      if (status >= 500) seen[`${v}Errors`] += 1;
    }
  }
});

test.after.always(async () => {
  await sandbox?.stop();
});

type Query = { id: string; metric: string; stat: string; targetGroupArn?: string };

async function metricData(queries: Query[]): Promise<Map<string, MetricDataResult>> {
  const infra = sandbox.infra!;
  const answer = await sandbox.clients().cloudWatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(Date.now() - 600_000),
      EndTime: new Date(Date.now() + 60_000),
      MetricDataQueries: queries.map((q) => ({
        Id: q.id,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/ApplicationELB',
            MetricName: q.metric,
            Dimensions: [
              ...(q.targetGroupArn ? [{ Name: 'TargetGroup', Value: targetGroupDimension(q.targetGroupArn) }] : []),
              { Name: 'LoadBalancer', Value: loadBalancerDimension(infra.loadBalancerArn) },
            ],
          },
          Period: 3600,
          Stat: q.stat,
        },
      })),
    }),
  );
  return new Map((answer.MetricDataResults ?? []).map((r) => [r.Id ?? '', r]));
}

const total = (r: MetricDataResult | undefined): number => (r?.Values ?? []).reduce((a, b) => a + b, 0);

test.serial(
  'RequestCount and HTTPCode_Target_5XX_Count are right per target group: canary vs production',
  async (t) => {
    const infra = sandbox.infra!;
    t.true(seen.v1 > 0 && seen.v2 > 0, `both groups got traffic: ${JSON.stringify(seen)}`);
    t.true(seen.v2Errors > 0 && seen.v1Errors === 0);
    const counts = await waitFor('every routed request in the metrics', async () => {
      const results = await metricData([
        { id: 'prod', metric: 'RequestCount', stat: 'Sum', targetGroupArn: infra.targetGroupArn },
        { id: 'canary', metric: 'RequestCount', stat: 'Sum', targetGroupArn: canaryArn },
        { id: 'prod5xx', metric: 'HTTPCode_Target_5XX_Count', stat: 'Sum', targetGroupArn: infra.targetGroupArn },
        { id: 'canary5xx', metric: 'HTTPCode_Target_5XX_Count', stat: 'Sum', targetGroupArn: canaryArn },
      ]);
      return total(results.get('prod')) + total(results.get('canary')) === seen.v1 + seen.v2 ? results : undefined;
    });
    t.is(total(counts.get('prod')), seen.v1);
    t.is(total(counts.get('canary')), seen.v2);
    t.is(total(counts.get('canary5xx')), seen.v2Errors);
    t.deepEqual(counts.get('prod5xx')?.Values, [], 'no 5XX in production: missing data, as on AWS');
  },
);

test.serial(
  'GetMetricData answers TargetResponseTime percentiles per target group and load balancer (JS SDK, JSON protocol)',
  async (t) => {
    const infra = sandbox.infra!;
    const slow = CANARY_LATENCY_MS / 1000;
    const results = await waitFor('percentiles of every routed request', async () => {
      const r = await metricData([
        { id: 'canaryP50', metric: 'TargetResponseTime', stat: 'p50', targetGroupArn: canaryArn },
        { id: 'prodP90', metric: 'TargetResponseTime', stat: 'p90', targetGroupArn: infra.targetGroupArn },
        { id: 'lbP99', metric: 'TargetResponseTime', stat: 'p99' },
        { id: 'lbMin', metric: 'TargetResponseTime', stat: 'Minimum' },
        { id: 'requests', metric: 'RequestCount', stat: 'Sum' },
      ]);
      return total(r.get('requests')) === seen.v1 + seen.v2 ? r : undefined;
    });
    const one = (id: string): number => {
      const values = results.get(id)?.Values ?? [];
      t.is(values.length, 1, `${id}: one period`);
      return values[0] as number;
    };
    t.true(one('canaryP50') >= slow, 'every canary request waited its sandbox:latency');
    t.true(one('prodP90') < slow, 'production is fast');
    t.true(one('lbP99') >= slow, 'the load balancer p99 is the canary tail');
    t.true(one('lbMin') < slow, 'a plain statistic in the same request still comes from moto');
  },
);

test.serial('GetMetricStatistics ExtendedStatistics through the AWS CLI v2 (Query protocol)', async (t) => {
  const infra = sandbox.infra!;
  const { stdout } = await run(
    '/usr/bin/aws',
    [
      '--endpoint-url',
      sandbox.endpoint,
      'cloudwatch',
      'get-metric-statistics',
      '--namespace',
      'AWS/ApplicationELB',
      '--metric-name',
      'TargetResponseTime',
      '--dimensions',
      `Name=LoadBalancer,Value=${loadBalancerDimension(infra.loadBalancerArn)}`,
      `Name=TargetGroup,Value=${targetGroupDimension(canaryArn)}`,
      '--start-time',
      new Date(Date.now() - 600_000).toISOString(),
      '--end-time',
      new Date(Date.now() + 60_000).toISOString(),
      '--period',
      '3600',
      '--statistics',
      'SampleCount',
      '--extended-statistics',
      'p50',
      'p99',
      '--output',
      'json',
    ],
    { env: { ...process.env, ...sandbox.env() }, timeout: 60_000 },
  );
  const answer = JSON.parse(stdout) as {
    Datapoints: { SampleCount: number; ExtendedStatistics: Record<string, number> }[];
  };
  t.is(answer.Datapoints.length, 1);
  t.is(answer.Datapoints[0]?.SampleCount, seen.v2);
  t.true((answer.Datapoints[0]?.ExtendedStatistics.p50 ?? 0) >= CANARY_LATENCY_MS / 1000);
  t.true((answer.Datapoints[0]?.ExtendedStatistics.p99 ?? 0) >= CANARY_LATENCY_MS / 1000);
});
