import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import { awsCliV2 } from '../helpers/aws-cli';

const run = promisify(execFile);
let sandbox: Sandbox;

test.before(async () => {
  sandbox = await startSandbox({ infra: 'demo', timeScale: 0.05 });
});

test.after.always(async () => {
  await sandbox?.stop();
});

function aws(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(awsCliV2(), ['--endpoint-url', sandbox.endpoint, '--output', 'json', ...args], {
    env: { ...process.env, ...sandbox.env() },
  });
}

async function control(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${sandbox.endpoint}/_sandbox/${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Clients that give up at once, to see the injected error itself. */
function noRetryConfig() {
  return {
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  };
}

test.serial('the JS SDK works for EC2, Auto Scaling, ELBv2 and S3, and every call is counted by action', async (t) => {
  sandbox.resetCalls();
  const clients = sandbox.clients();
  const infra = sandbox.infra!;
  const vpcs = await clients.ec2.send(new DescribeVpcsCommand({ VpcIds: [infra.vpcId] }));
  t.is(vpcs.Vpcs?.[0]?.VpcId, infra.vpcId);
  const groups = await clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
  t.deepEqual(groups.AutoScalingGroups, []);
  const balancers = await clients.elbv2.send(new DescribeLoadBalancersCommand({}));
  t.is(balancers.LoadBalancers?.[0]?.LoadBalancerArn, infra.loadBalancerArn);
  await clients.s3.send(new PutObjectCommand({ Bucket: infra.artifactBucket, Key: 'app/1.0.0/app.zip', Body: 'zip' }));
  const object = await clients.s3.send(
    new GetObjectCommand({ Bucket: infra.artifactBucket, Key: 'app/1.0.0/app.zip' }),
  );
  t.is(await object.Body?.transformToString(), 'zip');
  const listing = await clients.s3.send(new ListObjectsV2Command({ Bucket: infra.artifactBucket }));
  t.deepEqual(
    listing.Contents?.map((o) => o.Key),
    ['app/1.0.0/app.zip'],
  );
  const calls = sandbox.calls();
  t.deepEqual(calls.calls, {
    'autoscaling:DescribeAutoScalingGroups': 1,
    'ec2:DescribeVpcs': 1,
    'elasticloadbalancing:DescribeLoadBalancers': 1,
    's3:GetObject': 1,
    's3:ListObjectsV2': 1,
    's3:PutObject': 1,
  });
  t.is(calls.total, 6);
  t.is(calls.mutating, 1);
});

test.serial('the AWS CLI v2 works against the gateway, presigned URLs included', async (t) => {
  sandbox.resetCalls();
  const infra = sandbox.infra!;
  const vpcs = JSON.parse((await aws('ec2', 'describe-vpcs', '--vpc-ids', infra.vpcId)).stdout);
  t.is(vpcs.Vpcs[0].VpcId, infra.vpcId);
  const groups = JSON.parse((await aws('autoscaling', 'describe-auto-scaling-groups')).stdout);
  t.deepEqual(groups.AutoScalingGroups, []);
  const tgs = JSON.parse((await aws('elbv2', 'describe-target-groups')).stdout);
  t.is(tgs.TargetGroups[0].TargetGroupArn, infra.targetGroupArn);
  t.is(tgs.TargetGroups[0].HealthCheckPath, '/health');
  const file = join(mkdtempSync(join(tmpdir(), 'sandbox-cli-')), 'record.json');
  writeFileSync(file, '{}');
  await aws('s3api', 'put-object', '--bucket', infra.ledgerBucket, '--key', 'deployments/1.json', '--body', file);
  const head = JSON.parse(
    (await aws('s3api', 'head-object', '--bucket', infra.ledgerBucket, '--key', 'deployments/1.json')).stdout,
  );
  t.is(head.ContentLength, 2);
  const presigned = (await aws('s3', 'presign', `s3://${infra.ledgerBucket}/deployments/1.json`)).stdout.trim();
  t.true(presigned.startsWith(`${sandbox.endpoint}/`));
  t.is((await fetch(presigned)).status, 200);
  const calls = sandbox.calls();
  t.is(calls.calls['ec2:DescribeVpcs'], 1);
  t.is(calls.calls['autoscaling:DescribeAutoScalingGroups'], 1);
  t.is(calls.calls['elasticloadbalancing:DescribeTargetGroups'], 1);
  t.is(calls.calls['s3:PutObject'], 1);
  t.is(calls.calls['s3:HeadObject'], 1);
  t.is(calls.calls['s3:GetObject'], 1, 'the presigned GET is counted as S3');
  t.is(calls.mutating, 1);
});

test.serial('the control API reads and resets counters and manages fault rules', async (t) => {
  await sandbox.clients().ec2.send(new DescribeVpcsCommand({}));
  const before = await control('GET', 'calls');
  t.is(before.status, 200);
  t.true((before.json.total as number) >= 1);
  const reset = await control('DELETE', 'calls');
  t.is(reset.json.total, 0);
  t.is(reset.json.mutating, 0);
  const added = await control('POST', 'faults', { kind: 'latency', action: 'DescribeVpcs', ms: 1 });
  t.is(added.status, 201);
  const id = (added.json.rules as { id: string }[])[0]?.id as string;
  t.is(((await control('GET', 'faults')).json.rules as unknown[]).length, 1);
  t.is((await control('DELETE', `faults/${id}`)).status, 200);
  t.deepEqual((await control('GET', 'faults')).json.rules, []);
  const bad = await control('POST', 'faults', { kind: 'throttle', action: 'DescribeVpcs', share: 3 });
  t.is(bad.status, 400);
  t.regex(String(bad.json.error), /fault\.share/);
  const listeners = await control('GET', 'listeners');
  t.is((listeners.json.listeners as { url: string }[])[0]?.url, sandbox.listenerUrl);
  t.is((await control('GET', 'nothing-here')).status, 404);
});

test.serial(
  'with 30 % throttling on DescribeAutoScalingGroups the SDK retries to an answer and the counters show the throttled calls',
  async (t) => {
    sandbox.resetCalls();
    const rule = sandbox.addFault({ kind: 'throttle', action: 'DescribeAutoScalingGroups', share: 0.3 });
    try {
      for (let i = 0; i < 15; i += 1) {
        const answer = await sandbox.clients().autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
        t.deepEqual(answer.AutoScalingGroups, []);
      }
    } finally {
      sandbox.removeFault(rule.id);
    }
    const calls = sandbox.calls();
    const throttled = calls.throttled['autoscaling:DescribeAutoScalingGroups'] ?? 0;
    t.true(throttled > 0, 'some calls were throttled');
    t.is(calls.calls['autoscaling:DescribeAutoScalingGroups'], 15 + throttled, 'every attempt is counted');
    t.is(calls.mutating, 0);
  },
);

test.serial(
  'injected errors have the real AWS shapes: Throttling (ASG), RequestLimitExceeded (EC2), SlowDown (S3)',
  async (t) => {
    const asg = sandbox.addFault({ kind: 'throttle', action: 'DescribeAutoScalingGroups', share: 1 });
    const asgError = await t.throwsAsync(
      new AutoScalingClient(noRetryConfig()).send(new DescribeAutoScalingGroupsCommand({})),
    );
    t.is(asgError?.name, 'Throttling');
    t.is((asgError as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 400);
    sandbox.removeFault(asg.id);

    const ec2 = sandbox.addFault({ kind: 'throttle', action: 'DescribeVpcs', share: 1 });
    const ec2Error = await t.throwsAsync(new EC2Client(noRetryConfig()).send(new DescribeVpcsCommand({})));
    t.is(ec2Error?.name, 'RequestLimitExceeded');
    t.is((ec2Error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 503);
    sandbox.removeFault(ec2.id);

    const s3 = sandbox.addFault({ kind: 'throttle', service: 's3', action: 'PutObject', share: 1 });
    const s3Error = await t.throwsAsync(
      new S3Client({ ...noRetryConfig(), forcePathStyle: true }).send(
        new PutObjectCommand({ Bucket: sandbox.infra!.ledgerBucket, Key: 'x', Body: 'x' }),
      ),
    );
    t.is(s3Error?.name, 'SlowDown');
    sandbox.removeFault(s3.id);

    // Fail-next: the next 2 calls fail, the SDK's retries get through, the third attempt succeeds.
    sandbox.resetCalls();
    sandbox.addFault({ kind: 'fail', action: 'DescribeVpcs', count: 2, code: 'InternalError' });
    const vpcs = await sandbox.clients().ec2.send(new DescribeVpcsCommand({}));
    t.true((vpcs.Vpcs ?? []).length > 0);
    t.is(sandbox.calls().failed['ec2:DescribeVpcs'], 2);
    t.is(sandbox.calls().calls['ec2:DescribeVpcs'], 3);

    // The AWS CLI reads the injected error code as it would AWS's.
    sandbox.addFault({
      kind: 'fail',
      action: 'DescribeVpcs',
      count: 1,
      code: 'UnauthorizedOperation',
      status: 403,
      message: 'You are not authorized',
    });
    const cli = await t.throwsAsync(aws('ec2', 'describe-vpcs'));
    t.regex(String((cli as { stderr?: string }).stderr), /UnauthorizedOperation/);
    sandbox.clearFaults();
  },
);
