import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GetMetricDataCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { loadBalancerDimension } from '../../src/sandbox/alb-metrics';
import type { CredentialUse } from '../../src/sandbox/call-credentials';
import type { ListenerEndpoint } from '../../src/sandbox/load-balancer';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import { alarmState, createAppAsg, getJson, makeAppAmi, waitFor, waitForHealthyTarget } from './fixtures';

/**
 * Several regions (issue #24): the demo infrastructure in each, instances, health checks,
 * routing, metrics and alarms per region, listeners listed with their region, and calls
 * signed with assumed-role credentials (moto's STS) recorded per region.
 */

const run = promisify(execFile);
let sandbox: Sandbox;
const EU = 'eu-west-1';

// Scale 0.05: boot 0.5 s, health interval 0.5 s, metric windows of 1 s, a 60 s alarm period lasts 3 s.
test.before(async () => {
  sandbox = await startSandbox({ infra: 'demo', regions: ['us-east-1', EU], timeScale: 0.05 });
});

test.after.always(async () => {
  await sandbox?.stop();
});

test.serial(
  'the demo infrastructure is made in each region; each ALB listener is listed with its region',
  async (t) => {
    t.deepEqual(sandbox.regions, ['us-east-1', EU]);
    const us = sandbox.infraByRegion?.['us-east-1'];
    const eu = sandbox.infraByRegion?.[EU];
    t.truthy(us && eu);
    t.not(us?.vpcId, eu?.vpcId);
    t.regex(eu?.loadBalancerArn ?? '', /:eu-west-1:/);
    t.is(eu?.artifactBucket, 'bluegreen-demo-artifacts-eu-west-1', 'bucket names are global');
    const listeners = (await getJson(`${sandbox.endpoint}/_sandbox/listeners`)).body?.listeners as ListenerEndpoint[];
    const euListener = listeners.find((l) => l.listenerArn === eu?.listenerArn);
    t.like(euListener, { region: EU, loadBalancerName: 'bluegreen-demo', url: eu?.listenerUrl });
    t.like(
      listeners.find((l) => l.listenerArn === us?.listenerArn),
      { region: 'us-east-1', url: sandbox.listenerUrl },
    );
  },
);

test.serial('instances, health checks, routing, metrics and alarms work in the second region', async (t) => {
  const aws = sandbox.clients(EU);
  const infra = sandbox.infraByRegion?.[EU];
  if (!infra) return t.fail('no eu-west-1 infra');
  const ami = await makeAppAmi(aws, 'v-eu');
  await createAppAsg(aws, infra, 'eu-app-v001', ami, 1);
  const first = await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: infra.targetGroupArn }));
  t.is(
    first.TargetHealthDescriptions?.[0]?.TargetHealth?.State,
    'initial',
    'the sandbox answers eu-west-1 target health',
  );
  await waitForHealthyTarget(aws, infra.targetGroupArn);
  for (let i = 0; i < 4; i += 1) t.is((await getJson(infra.listenerUrl as string)).body?.version, 'v-eu');
  t.is((await fetch(sandbox.listenerUrl as string)).status, 503, 'us-east-1 has no target: its listener is apart');

  await aws.cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'eu-traffic',
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'RequestCount',
      Dimensions: [{ Name: 'LoadBalancer', Value: loadBalancerDimension(infra.loadBalancerArn) }],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    }),
  );
  const requests = await waitFor('eu-west-1 RequestCount in its CloudWatch', async () => {
    const answer = await aws.cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(Date.now() - 600_000),
        EndTime: new Date(Date.now() + 60_000),
        MetricDataQueries: [
          {
            Id: 'requests',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/ApplicationELB',
                MetricName: 'RequestCount',
                Dimensions: [{ Name: 'LoadBalancer', Value: loadBalancerDimension(infra.loadBalancerArn) }],
              },
              Period: 3600,
              Stat: 'Sum',
            },
          },
        ],
      }),
    );
    const sum = (answer.MetricDataResults?.[0]?.Values ?? []).reduce((a, b) => a + b, 0);
    return sum >= 4 ? sum : undefined;
  });
  t.is(requests, 4);
  // Requests keep coming so the alarm's next period breaches too.
  const state = await waitFor('the eu-west-1 alarm evaluated', async () => {
    await getJson(infra.listenerUrl as string);
    const value = await alarmState(aws, 'eu-traffic');
    return value === 'ALARM' ? value : undefined;
  });
  t.is(state, 'ALARM');
  t.is(await alarmState(sandbox.clients('us-east-1'), 'eu-traffic'), undefined, 'the alarm is only in eu-west-1');
});

test.serial(
  "calls signed with an assumed role's credentials work, and the gateway records their key id per region",
  async (t) => {
    const { stdout } = await run(
      'python3',
      [
        '-c',
        [
          'import boto3, json',
          `sts = boto3.client('sts', endpoint_url='${sandbox.endpoint}', region_name='${EU}')`,
          "c = sts.assume_role(RoleArn='arn:aws:iam::123456789012:role/deployer', RoleSessionName='bluegreen')['Credentials']",
          `ec2 = boto3.client('ec2', endpoint_url='${sandbox.endpoint}', region_name='${EU}', aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])`,
          "vpcs = ec2.describe_vpcs()['Vpcs']",
          "print(json.dumps({'key': c['AccessKeyId'], 'vpcs': [v['VpcId'] for v in vpcs]}))",
        ].join('\n'),
      ],
      { env: { ...process.env, ...sandbox.env() }, timeout: 60_000 },
    );
    const { key, vpcs } = JSON.parse(stdout) as { key: string; vpcs: string[] };
    t.not(key, 'sandbox');
    t.true(
      vpcs.includes(sandbox.infraByRegion?.[EU]?.vpcId as string),
      "the assumed credentials read eu-west-1's VPCs",
    );
    const { body } = await getJson(`${sandbox.endpoint}/_sandbox/credentials`);
    const uses = body?.uses as CredentialUse[];
    t.like(
      uses.find((u) => u.accessKeyId === key),
      { region: EU, call: 'ec2:DescribeVpcs', count: 1 },
    );
    t.true(
      uses.some((u) => u.accessKeyId === 'sandbox' && u.call === 'sts:AssumeRole' && u.region === EU),
      'the AssumeRole call itself was signed with the base credentials',
    );
    t.false(JSON.stringify(body).includes('SessionToken'), 'no secret is kept');
  },
);
