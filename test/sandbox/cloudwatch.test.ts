import test from 'ava';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  PutMetricDataCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { loadBalancerDimension, targetGroupDimension } from '../../src/sandbox/alb-metrics';
import { startProbe } from '../../src/sandbox/probe';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import type { TimelineSnapshot } from '../../src/sandbox/timeline';
import { createAppAsg, makeAppAmi, waitFor } from './fixtures';
import { awsCliV2 } from '../helpers/aws-cli';

const run = promisify(execFile);
let sandbox: Sandbox;

// Scale 0.05: metric windows of 1 s, an alarm period of 60 AWS seconds lasts 3 s, health interval 0.5 s.
test.before(async () => {
  sandbox = await startSandbox({ infra: 'demo', timeScale: 0.05 });
});

test.after.always(async () => {
  await sandbox?.stop();
});

function env(): NodeJS.ProcessEnv {
  return { ...process.env, ...sandbox.env() };
}

async function aws(...args: string[]): Promise<unknown> {
  const { stdout } = await run(awsCliV2(), ['--endpoint-url', sandbox.endpoint, ...args, '--output', 'json'], {
    env: env(),
    timeout: 60_000,
  });
  return stdout.trim() === '' ? undefined : (JSON.parse(stdout) as unknown);
}

async function python(script: string): Promise<unknown> {
  const { stdout } = await run(
    'python3',
    [
      '-c',
      `import boto3, json, datetime\ncw = boto3.client('cloudwatch', endpoint_url='${sandbox.endpoint}')\n${script}`,
    ],
    { env: env(), timeout: 60_000 },
  );
  return JSON.parse(stdout) as unknown;
}

function dimensions(): { lb: string; tg: string } {
  const infra = sandbox.infra!;
  return { lb: loadBalancerDimension(infra.loadBalancerArn), tg: targetGroupDimension(infra.targetGroupArn) };
}

/** Sum of a metric over the last 10 minutes, per GetMetricData through the gateway (exact dimensions, as AWS). */
async function sumOf(metric: string, withTargetGroup: boolean, stat = 'Sum'): Promise<number> {
  const { lb, tg } = dimensions();
  const answer = await sandbox.clients().cloudWatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(Date.now() - 600_000),
      EndTime: new Date(Date.now() + 60_000),
      MetricDataQueries: [
        {
          Id: 'm',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/ApplicationELB',
              MetricName: metric,
              Dimensions: [
                { Name: 'LoadBalancer', Value: lb },
                ...(withTargetGroup ? [{ Name: 'TargetGroup', Value: tg }] : []),
              ],
            },
            Period: 3600,
            Stat: stat,
          },
        },
      ],
    }),
  );
  return (answer.MetricDataResults?.[0]?.Values ?? []).reduce((a, b) => a + b, 0);
}

async function healthyTargets(): Promise<string[]> {
  const answer = await sandbox
    .clients()
    .elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: sandbox.infra?.targetGroupArn }));
  return (answer.TargetHealthDescriptions ?? [])
    .filter((d) => d.TargetHealth?.State === 'healthy')
    .map((d) => d.Target?.Id as string);
}

async function alarm(name: string): Promise<MetricAlarm | undefined> {
  const answer = await sandbox.clients().cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
  return answer.MetricAlarms?.[0];
}

async function timeline(): Promise<TimelineSnapshot> {
  return (await (await fetch(`${sandbox.endpoint}/_sandbox/timeline`)).json()) as TimelineSnapshot;
}

test.serial(
  'a build with sandbox:errors and sandbox:latency fails and slows its real requests (not /health), and the ALB metrics in CloudWatch say so',
  async (t) => {
    const clients = sandbox.clients();
    // No target registered yet: the load balancer answers 503 itself.
    const early = await fetch(sandbox.listenerUrl as string);
    await early.text();
    t.is(early.status, 503);
    const ami = await makeAppAmi(clients, 'v-bad-requests');
    await clients.ec2.send(
      new CreateTagsCommand({
        Resources: [ami],
        Tags: [
          { Key: 'sandbox:errors', Value: '0.5' },
          { Key: 'sandbox:latency', Value: '150' },
        ],
      }),
    );
    await createAppAsg(clients, sandbox.infra!, 'app-errors-v001', ami, 1);
    // Healthy: /health is unaffected by the error share.
    await waitFor('the target healthy', async () => ((await healthyTargets()).length === 1 ? true : undefined), 60_000);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const started = Date.now();
      const response = await fetch(sandbox.listenerUrl as string);
      await response.text();
      statuses.push(response.status);
      t.true(Date.now() - started >= 150, `request ${i} held for the added latency`);
    }
    t.is(statuses.filter((s) => s === 500).length, 10, 'half of the real requests answered 500');
    t.is(statuses.filter((s) => s === 200).length, 10);
    const health = await fetch(`${sandbox.listenerUrl}/health`);
    t.is(health.status, 200);
    await health.text();

    // 21 requests routed; the metrics land once their window closes.
    await waitFor(
      'the requests in CloudWatch',
      async () => ((await sumOf('RequestCount', true)) >= 21 ? true : undefined),
      30_000,
      250,
    );
    t.is(await sumOf('RequestCount', true), 21);
    t.is(await sumOf('RequestCount', false), 21);
    t.is(await sumOf('HTTPCode_Target_5XX_Count', true), 10);
    t.is(await sumOf('HTTPCode_Target_5XX_Count', false), 10);
    t.is(await sumOf('HTTPCode_Target_2XX_Count', false), 11);
    t.is(await sumOf('TargetResponseTime', false, 'SampleCount'), 21);
    t.true(
      (await sumOf('TargetResponseTime', false, 'Maximum')) >= 0.15,
      'TargetResponseTime is in seconds and holds the added latency',
    );
    t.is(await sumOf('HealthyHostCount', true, 'Maximum'), 1);
    t.is(
      await sumOf('HTTPCode_ELB_5XX_Count', false),
      1,
      "the 503 without targets is the load balancer's, not in RequestCount",
    );
    t.is(await sumOf('HTTPCode_ELB_503_Count', false), 1);

    // AWS CLI v2 and boto3 read them through the gateway.
    const { lb, tg } = dimensions();
    const now = Date.now();
    const cli = (await aws(
      'cloudwatch',
      'get-metric-statistics',
      '--namespace',
      'AWS/ApplicationELB',
      '--metric-name',
      'HTTPCode_Target_5XX_Count',
      // Either order finds the datums (CloudWatch dimensions are a set; the gateway sorts them for moto).
      '--dimensions',
      `Name=TargetGroup,Value=${tg}`,
      `Name=LoadBalancer,Value=${lb}`,
      '--start-time',
      new Date(now - 600_000).toISOString(),
      '--end-time',
      new Date(now + 60_000).toISOString(),
      '--period',
      '3600',
      '--statistics',
      'Sum',
    )) as { Datapoints: { Sum: number }[] };
    t.is(
      cli.Datapoints.reduce((a, d) => a + d.Sum, 0),
      10,
    );
    const boto = (await python(`
now = datetime.datetime.now(datetime.timezone.utc)
r = cw.get_metric_data(StartTime=now - datetime.timedelta(minutes=10), EndTime=now + datetime.timedelta(minutes=1), MetricDataQueries=[
  {'Id': 'req', 'MetricStat': {'Metric': {'Namespace': 'AWS/ApplicationELB', 'MetricName': 'RequestCount', 'Dimensions': [{'Name': 'LoadBalancer', 'Value': '${lb}'}]}, 'Period': 3600, 'Stat': 'Sum'}},
  {'Id': 'err', 'MetricStat': {'Metric': {'Namespace': 'AWS/ApplicationELB', 'MetricName': 'HTTPCode_Target_5XX_Count', 'Dimensions': [{'Name': 'LoadBalancer', 'Value': '${lb}'}]}, 'Period': 3600, 'Stat': 'Sum'}}])
print(json.dumps({x['Id']: sum(x['Values']) for x in r['MetricDataResults']}))
`)) as Record<string, number>;
    t.deepEqual(boto, { req: 21, err: 10 });
    // Metric calls are the client's: only the three reads above went through the gateway, none of the sandbox's own puts.
    t.is(sandbox.calls().calls['monitoring:PutMetricData'], undefined);
  },
);

test.serial(
  'an alarm on the target 5XX count goes to ALARM while requests fail and back to OK when they stop, as DescribeAlarms shows through the SDK and AWS CLI v2',
  async (t) => {
    const { lb } = dimensions();
    // Two alarm periods (3 s each) without requests, so the errors of the test before are out of the evaluation range.
    await sleep(7_000);
    await aws(
      'cloudwatch',
      'put-metric-alarm',
      '--alarm-name',
      'web-5xx',
      '--namespace',
      'AWS/ApplicationELB',
      '--metric-name',
      'HTTPCode_Target_5XX_Count',
      '--dimensions',
      `Name=LoadBalancer,Value=${lb}`,
      '--statistic',
      'Sum',
      '--period',
      '60',
      '--evaluation-periods',
      '1',
      '--threshold',
      '2',
      '--comparison-operator',
      'GreaterThanOrEqualToThreshold',
      '--treat-missing-data',
      'notBreaching',
    );
    // A new alarm gets its first state at once (no 5XX in the last period: missing, treated as not breaching).
    const first = await alarm('web-5xx');
    t.is(first?.StateValue, 'OK');
    t.regex(first?.StateReason ?? '', /^Threshold Crossed: /);
    const probe = startProbe({ url: sandbox.listenerUrl as string, concurrency: 2, maxDurationMs: 60_000 });
    try {
      const alarmed = await waitFor(
        'the alarm in ALARM',
        async () => ((await alarm('web-5xx'))?.StateValue === 'ALARM' ? alarm('web-5xx') : undefined),
        45_000,
        200,
      );
      t.regex(
        alarmed?.StateReason ?? '',
        /^Threshold Crossed: 1 out of the last 1 datapoints \[\d+\.0 \(\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d\)\] was greater than or equal to the threshold \(2\.0\) \(minimum 1 datapoint for OK -> ALARM transition\)\.$/,
      );
      t.true(Math.abs((alarmed?.StateUpdatedTimestamp?.getTime() ?? 0) - Date.now()) < 30_000);
      const data = JSON.parse(alarmed?.StateReasonData ?? '{}') as {
        statistic?: string;
        period?: number;
        recentDatapoints?: number[];
      };
      t.like(data, { statistic: 'Sum', period: 60 });
      t.true((data.recentDatapoints?.[0] ?? 0) >= 2);
    } finally {
      await probe.stop();
    }
    // No requests, no 5XX datapoints: missing → not breaching → OK.
    await waitFor(
      'the alarm back to OK',
      async () => ((await alarm('web-5xx'))?.StateValue === 'OK' ? true : undefined),
      45_000,
      200,
    );
    const cli = (await aws('cloudwatch', 'describe-alarms', '--alarm-names', 'web-5xx')) as {
      MetricAlarms: { StateValue: string; StateReason: string; StateUpdatedTimestamp: string }[];
    };
    t.is(cli.MetricAlarms[0]?.StateValue, 'OK');
    t.regex(
      cli.MetricAlarms[0]?.StateReason ?? '',
      /\(minimum 1 datapoint for ALARM -> OK transition\)\.$|treated as \[NonBreaching\]\.$/,
    );
    t.truthy(cli.MetricAlarms[0]?.StateUpdatedTimestamp);
  },
);

test.serial(
  'alarms on any metric are evaluated: M of N on a custom metric put through the gateway, breaching missing data, Average',
  async (t) => {
    const cw = sandbox.clients().cloudWatch;
    await python(`
cw.put_metric_alarm(AlarmName='queue-depth', Namespace='App', MetricName='QueueDepth', Statistic='Average', Period=60, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=10, ComparisonOperator='GreaterThanThreshold')
cw.put_metric_alarm(AlarmName='heartbeat', Namespace='App', MetricName='Heartbeat', Statistic='SampleCount', Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator='LessThanThreshold', TreatMissingData='breaching')
print(json.dumps({a['AlarmName']: a['StateValue'] for a in cw.describe_alarms(AlarmNames=['queue-depth', 'heartbeat'])['MetricAlarms']}))
`).then((states) => t.deepEqual(states, { heartbeat: 'ALARM', 'queue-depth': 'INSUFFICIENT_DATA' }));
    t.is(
      (await alarm('heartbeat'))?.StateReason,
      'Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching].',
    );
    t.is((await alarm('queue-depth'))?.StateReason, 'Insufficient Data: 3 datapoints were unknown.');
    // Averages of 20 and 30 (two datapoints each) in successive periods: 2 of 3 breaching.
    const queue = async (values: number[]) =>
      cw.send(
        new PutMetricDataCommand({
          Namespace: 'App',
          MetricData: values.map((v) => ({ MetricName: 'QueueDepth', Value: v })),
        }),
      );
    await queue([10, 30]);
    const alarmed = await waitFor(
      'queue-depth in ALARM',
      async () => {
        await queue([25, 35]);
        const now = await alarm('queue-depth');
        return now?.StateValue === 'ALARM' ? now : undefined;
      },
      45_000,
      1_000,
    );
    t.regex(
      alarmed.StateReason ?? '',
      /^Threshold Crossed: [23] out of the last 3 datapoints \[[\d.]+ \(\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d\)(, [\d.]+ \([^)]+\))+\] were greater than the threshold \(10\.0\)/,
    );
    t.regex(alarmed.StateReason ?? '', /\(minimum 2 datapoints for (INSUFFICIENT_DATA|OK) -> ALARM transition\)\.$/);
  },
);

test.serial(
  'a large PutMetricData, which boto3 sends gzip-compressed, passes the gateway and is read back with dimensions in any order',
  async (t) => {
    const sums = (await python(`
now = datetime.datetime.now(datetime.timezone.utc)
data = [{'MetricName': 'Jobs', 'Dimensions': [{'Name': 'Queue', 'Value': 'q'}, {'Name': 'Host', 'Value': 'h'}], 'Value': 1.0, 'Timestamp': now} for _ in range(300)]
cw.put_metric_data(Namespace='App', MetricData=data)
def total(dims):
    r = cw.get_metric_data(StartTime=now - datetime.timedelta(minutes=5), EndTime=now + datetime.timedelta(minutes=1), MetricDataQueries=[{'Id': 'j', 'MetricStat': {'Metric': {'Namespace': 'App', 'MetricName': 'Jobs', 'Dimensions': dims}, 'Period': 3600, 'Stat': 'Sum'}}])
    return sum(r['MetricDataResults'][0]['Values'])
print(json.dumps([total([{'Name': 'Queue', 'Value': 'q'}, {'Name': 'Host', 'Value': 'h'}]), total([{'Name': 'Host', 'Value': 'h'}, {'Name': 'Queue', 'Value': 'q'}])]))
`)) as number[];
    t.deepEqual(sums, [300, 300]);
  },
);

test.serial('the timeline records target state changes and AWS calls, and can be reset', async (t) => {
  const before = await timeline();
  const states = before.events.filter((e) => e.kind === 'target-state');
  const target = states.find((e) => e.state === 'healthy');
  t.truthy(target, 'the errors build target turned healthy');
  if (target?.kind !== 'target-state') return;
  const ofTarget = states
    .filter((e) => e.kind === 'target-state' && e.targetId === target.targetId)
    .map((e) => e.state);
  t.deepEqual(ofTarget.slice(0, 2), ['initial', 'healthy']);
  const calls = before.events.filter((e) => e.kind === 'call');
  t.truthy(
    calls.find(
      (e) =>
        e.kind === 'call' &&
        e.service === 'autoscaling' &&
        e.action === 'CreateAutoScalingGroup' &&
        e.autoScalingGroupName === 'app-errors-v001',
    ),
  );
  t.truthy(calls.find((e) => e.kind === 'call' && e.service === 'monitoring' && e.action === 'PutMetricAlarm'));
  const ordered = before.events.map((e) => e.at);
  t.deepEqual(
    ordered,
    [...ordered].sort((a, b) => a - b),
  );

  t.is((await fetch(`${sandbox.endpoint}/_sandbox/timeline`, { method: 'DELETE' })).status, 200);
  const since = Date.now();
  // Deregistering the target: draining, then gone (`unused`) after the scaled 30 s delay.
  await run(
    awsCliV2(),
    [
      '--endpoint-url',
      sandbox.endpoint,
      'elbv2',
      'deregister-targets',
      '--target-group-arn',
      sandbox.infra!.targetGroupArn,
      '--targets',
      `Id=${target.targetId}`,
    ],
    { env: env() },
  );
  const after = await waitFor(
    'the target unused',
    async () => {
      const now = await timeline();
      return now.events.some((e) => e.kind === 'target-state' && e.targetId === target.targetId && e.state === 'unused')
        ? now
        : undefined;
    },
    30_000,
    200,
  );
  t.true(
    after.events.every((e) => e.at >= since - 1000),
    'the reset dropped the older events',
  );
  const deregister = after.events.find((e) => e.kind === 'call' && e.action === 'DeregisterTargets');
  t.like(deregister, {
    service: 'elasticloadbalancing',
    targetGroupArn: sandbox.infra!.targetGroupArn,
    targetIds: [target.targetId],
  });
  const mine = after.events
    .filter((e) => e.kind === 'target-state' && e.targetId === target.targetId)
    .map((e) => (e.kind === 'target-state' ? e.state : ''));
  t.deepEqual(mine.slice(0, 2), ['draining', 'unused']);
  t.true(
    (deregister?.at ?? 0) <= (after.events.find((e) => e.kind === 'target-state' && e.state === 'draining')?.at ?? 0),
  );
});
