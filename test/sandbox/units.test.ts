import test from 'ava';
import { gzipSync } from 'node:zlib';
import { appBehaviourOf } from '../../src/sandbox/app-server';
import { classifyRequest, decompressedBody, isMutatingAction } from '../../src/sandbox/aws-request';
import { parseFailFlag, parseLatencyFlag, parseThrottleFlag } from '../../src/sandbox/command';
import { awsErrorResponse, FaultInjector, parseFaultRule } from '../../src/sandbox/faults';
import { forwardTargets, type WorldSnapshot } from '../../src/sandbox/moto-world';
import { summarize } from '../../src/sandbox/probe';
import { rewriteAsgInstanceHealth, rewriteTargetHealth } from '../../src/sandbox/response-rewrite';
import { matchesHttpCode } from '../../src/sandbox/target-health';
import { worldScopeOf } from '../../src/sandbox/world-effects';
import { isEmptyScope } from '../../src/sandbox/world-scope';

const auth = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=abc`;
const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

test('Query API calls are classified by credential scope and Action', (t) => {
  const call = classifyRequest({
    method: 'POST',
    url: '/',
    headers: { ...form, authorization: auth('autoscaling') },
    body: Buffer.from('Action=DescribeAutoScalingGroups&Version=2011-01-01'),
  });
  t.is(call.service, 'autoscaling');
  t.is(call.action, 'DescribeAutoScalingGroups');
  t.false(call.mutating);
  const ec2 = classifyRequest({
    method: 'POST',
    url: '/',
    headers: { ...form, authorization: auth('ec2') },
    body: Buffer.from('Action=RunInstances'),
  });
  t.is(ec2.service, 'ec2');
  t.true(ec2.mutating);
});

test('gzip request bodies (AWS request compression) are decompressed, except S3 objects', (t) => {
  const body = gzipSync(Buffer.from('Action=PutMetricData&Namespace=App'));
  const call = {
    method: 'POST',
    url: '/',
    headers: { ...form, 'content-encoding': 'gzip', authorization: auth('monitoring') },
    body,
  };
  t.is(decompressedBody(call)?.toString('utf8'), 'Action=PutMetricData&Namespace=App');
  t.is(decompressedBody({ ...call, headers: { ...call.headers, authorization: auth('s3') } }), undefined);
  t.is(decompressedBody({ ...call, headers: form }), undefined);
});

test('S3 REST calls are named from method and path shape', (t) => {
  const s3 = (method: string, url: string, headers: Record<string, string> = {}) =>
    classifyRequest({ method, url, headers: { authorization: auth('s3'), ...headers }, body: Buffer.alloc(0) }).action;
  t.is(s3('GET', '/'), 'ListBuckets');
  t.is(s3('PUT', '/bucket'), 'CreateBucket');
  t.is(s3('GET', '/bucket?list-type=2&prefix=a'), 'ListObjectsV2');
  t.is(s3('PUT', '/bucket?versioning'), 'PutBucketVersioning');
  t.is(s3('PUT', '/bucket/a/b.zip'), 'PutObject');
  t.is(s3('PUT', '/bucket/a/b.zip', { 'x-amz-copy-source': '/bucket/c' }), 'CopyObject');
  t.is(s3('GET', '/bucket/a/b.zip'), 'GetObject');
  t.is(s3('HEAD', '/bucket/a/b.zip'), 'HeadObject');
  t.is(s3('DELETE', '/bucket/a/b.zip'), 'DeleteObject');
  t.is(s3('POST', '/bucket/a/b.zip?uploads'), 'CreateMultipartUpload');
  t.is(s3('PUT', '/bucket/a/b.zip?partNumber=1&uploadId=x'), 'UploadPart');
  t.is(s3('POST', '/bucket?delete'), 'DeleteObjects');
  // Presigned: the scope is in the query string; unsigned requests are S3.
  const presigned = classifyRequest({
    method: 'GET',
    url: '/bucket/k?X-Amz-Credential=AKID%2F20261126%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=x',
    headers: {},
    body: Buffer.alloc(0),
  });
  t.is(`${presigned.service}:${presigned.action}`, 's3:GetObject');
  t.is(classifyRequest({ method: 'GET', url: '/bucket/k', headers: {}, body: Buffer.alloc(0) }).service, 's3');
});

test('mutating means anything but Describe/List/Get/Head', (t) => {
  t.false(isMutatingAction('DescribeTargetHealth'));
  t.false(isMutatingAction('HeadObject'));
  t.true(isMutatingAction('DeregisterTargets'));
  t.true(isMutatingAction('UpdateAutoScalingGroup'));
});

test('fault rules: validation names the field; fail-next is consumed; throttling is seeded', (t) => {
  t.throws(() => parseFaultRule({ kind: 'throttle', action: 'X', share: 2 }), { message: /fault\.share/ });
  t.throws(() => parseFaultRule({ kind: 'nope', action: 'X' }), { message: /fault\.kind/ });
  const faults = new FaultInjector(7);
  faults.add({ kind: 'fail', action: 'CreateAutoScalingGroup', count: 2, code: 'LimitExceeded' });
  t.is(faults.decide('autoscaling', 'CreateAutoScalingGroup').error?.code, 'LimitExceeded');
  t.is(faults.decide('autoscaling', 'CreateAutoScalingGroup').error?.status, 400);
  t.is(faults.decide('autoscaling', 'CreateAutoScalingGroup').error, undefined);
  t.deepEqual(faults.list(), []);
  const a = new FaultInjector(3);
  const b = new FaultInjector(3);
  a.add({ kind: 'throttle', action: '*', share: 0.5 });
  b.add({ kind: 'throttle', action: '*', share: 0.5 });
  const runA = Array.from({ length: 50 }, () => Boolean(a.decide('ec2', 'DescribeInstances').error));
  const runB = Array.from({ length: 50 }, () => Boolean(b.decide('ec2', 'DescribeInstances').error));
  t.deepEqual(runA, runB);
  t.true(runA.some(Boolean) && !runA.every(Boolean));
});

test("error bodies have each protocol's shape", (t) => {
  const asg = awsErrorResponse('autoscaling', 'query', { code: 'Throttling', status: 400, message: 'Rate exceeded' });
  t.regex(
    asg.body,
    /^<ErrorResponse xmlns="http:\/\/autoscaling\.amazonaws\.com\/doc\/2011-01-01\/"><Error><Type>Sender<\/Type><Code>Throttling<\/Code>/,
  );
  const ec2 = awsErrorResponse('ec2', 'query', {
    code: 'RequestLimitExceeded',
    status: 503,
    message: 'Request limit exceeded.',
  });
  t.regex(ec2.body, /<Response><Errors><Error><Code>RequestLimitExceeded<\/Code>/);
  t.is(ec2.status, 503);
  t.regex(
    awsErrorResponse('s3', 'rest-xml', { code: 'SlowDown', status: 503, message: 'm' }).body,
    /<Error><Code>SlowDown<\/Code>/,
  );
});

test('CLI fault flags', (t) => {
  t.deepEqual(parseThrottleFlag('autoscaling:DescribeAutoScalingGroups=0.3'), {
    kind: 'throttle',
    service: 'autoscaling',
    action: 'DescribeAutoScalingGroups',
    share: 0.3,
  });
  t.deepEqual(parseFailFlag('CreateAutoScalingGroup=2:LimitExceeded:400'), {
    kind: 'fail',
    action: 'CreateAutoScalingGroup',
    count: 2,
    code: 'LimitExceeded',
    status: 400,
  });
  t.deepEqual(parseLatencyFlag('*=50'), { kind: 'latency', action: '*', ms: 50 });
  t.throws(() => parseThrottleFlag('DescribeAutoScalingGroups'), { message: /^throttle: must look like/ });
});

test('AMI tags give the app its version and behaviour', (t) => {
  t.deepEqual(appBehaviourOf('ami-1', {}), { version: 'ami-1', health: { kind: 'ok' } });
  t.deepEqual(appBehaviourOf('ami-1', { 'sandbox:version': '1.2.3', 'sandbox:health': 'fail' }), {
    version: '1.2.3',
    health: { kind: 'fail' },
  });
  t.deepEqual(appBehaviourOf('ami-1', { 'sandbox:health': 'flaky:0.5' }).health, { kind: 'flaky', failShare: 0.5 });
  t.is(appBehaviourOf('ami-1', { 'sandbox:health': 'slow-boot:90' }).bootSeconds, 90);
});

test('matchers and forward actions', (t) => {
  t.true(matchesHttpCode('200', 200));
  t.true(matchesHttpCode('200-299', 204));
  t.true(matchesHttpCode('200,302', 302));
  t.false(matchesHttpCode('200', 500));
  t.deepEqual(forwardTargets([{ Type: 'forward', TargetGroupArn: 'tg-a' }]), [{ targetGroupArn: 'tg-a', weight: 1 }]);
  t.deepEqual(
    forwardTargets([
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: 'tg-a', Weight: 90 },
            { TargetGroupArn: 'tg-b', Weight: 10 },
          ],
        },
      },
    ]),
    [
      { targetGroupArn: 'tg-a', weight: 90 },
      { targetGroupArn: 'tg-b', weight: 10 },
    ],
  );
});

const MOTO_TARGET_HEALTH =
  '<DescribeTargetHealthResponse><DescribeTargetHealthResult><TargetHealthDescriptions>' +
  '<member><Target><Id>i-aaa</Id><Port>80</Port></Target><HealthCheckPort>traffic-port</HealthCheckPort><TargetHealth><State>healthy</State></TargetHealth></member>' +
  '<member><Target><Id>i-bbb</Id><Port>80</Port></Target><HealthCheckPort>traffic-port</HealthCheckPort><TargetHealth><State>healthy</State></TargetHealth></member>' +
  '</TargetHealthDescriptions></DescribeTargetHealthResult></DescribeTargetHealthResponse>';

test('DescribeTargetHealth is rewritten from real checks and keeps draining targets', (t) => {
  const out = rewriteTargetHealth(MOTO_TARGET_HEALTH, 'tg', false, {
    healthOf: (_tg, id) =>
      id === 'i-aaa' ? { state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out' } : undefined,
    drainingTargets: () => [{ instanceId: 'i-ccc', port: 80 }],
  });
  t.regex(out, /<Id>i-aaa<\/Id>.*?<State>unhealthy<\/State><Reason>Target.Timeout<\/Reason>/);
  t.regex(out, /<Id>i-bbb<\/Id>.*?<State>initial<\/State><Reason>Elb.InitialHealthChecking<\/Reason>/);
  t.regex(out, /<Id>i-ccc<\/Id>.*?<State>draining<\/State><Reason>Target.DeregistrationInProgress<\/Reason>/);
});

test('ASG instance HealthStatus follows the given status', (t) => {
  const xml =
    '<Instances><member><InstanceId>i-aaa</InstanceId><LifecycleState>InService</LifecycleState><HealthStatus>Healthy</HealthStatus></member><member><InstanceId>i-bbb</InstanceId><HealthStatus>Healthy</HealthStatus></member></Instances>';
  const out = rewriteAsgInstanceHealth(xml, (id) => (id === 'i-bbb' ? 'Unhealthy' : undefined));
  t.is(
    out,
    xml.replace(
      '<InstanceId>i-bbb</InstanceId><HealthStatus>Healthy',
      '<InstanceId>i-bbb</InstanceId><HealthStatus>Unhealthy',
    ),
  );
});

test('probe report: totals, failures by kind, and version mix changes', (t) => {
  const report = summarize(
    'http://127.0.0.1:1/',
    [
      { atMs: 0, durationMs: 5, status: 200, version: 'v1' },
      { atMs: 60, durationMs: 5, status: 200, version: 'v1' },
      { atMs: 120, durationMs: 5, status: 502 },
      { atMs: 130, durationMs: 5, status: 0, error: 'ECONNRESET' },
      { atMs: 160, durationMs: 5, status: 200, version: 'v2' },
      { atMs: 170, durationMs: 5, status: 200, version: 'v1' },
      { atMs: 260, durationMs: 5, status: 200, version: 'v2' },
    ],
    300,
  );
  t.is(report.total, 7);
  t.is(report.failed, 2);
  t.deepEqual(report.failures, { 'status:502': 1, 'error:ECONNRESET': 1 });
  t.deepEqual(report.perVersion, { v1: 3, v2: 2 });
  t.deepEqual(
    report.timeline.map((c) => c.versions),
    [['v1'], ['v1', 'v2'], ['v2']],
  );
});

test('a mutating call reads again only what it names; unknown effects read everything, neutral ones nothing', (t) => {
  const call = (service: string, action: string, params: Record<string, string> = {}) => ({
    service,
    action,
    mutating: true,
    params: new URLSearchParams({ Action: action, ...params }),
  });
  const world: WorldSnapshot = {
    instances: new Map([['i-1', { id: 'i-1', amiId: 'ami-1', state: 'running', asgName: 'web-v001' }]]),
    imageTags: new Map(),
    targetGroups: new Map(),
    listeners: new Map(),
    asgs: new Map(),
  };
  const update = worldScopeOf(
    call('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'web-v002' }),
    world,
  );
  t.false(update.full);
  t.deepEqual([...update.asgNames], ['web-v002']);
  const deregister = worldScopeOf(
    call('elasticloadbalancing', 'DeregisterTargets', {
      Version: '2015-12-01',
      TargetGroupArn: 'arn:tg',
      'Targets.member.1.Id': 'i-1',
    }),
    world,
  );
  t.deepEqual([...deregister.targetGroupArns], ['arn:tg']);
  const terminate = worldScopeOf(call('ec2', 'TerminateInstances', { 'InstanceId.1': 'i-1' }), world);
  t.deepEqual([...terminate.instanceIds], ['i-1']);
  t.deepEqual([...terminate.asgNames], ['web-v001'], 'the group of a terminated instance is read too');
  t.deepEqual(
    [...worldScopeOf(call('ec2', 'CreateTags', { 'ResourceId.1': 'ami-9', 'Tag.1.Key': 'k' }), world).imageIds],
    ['ami-9'],
  );
  t.true(worldScopeOf(call('ec2', 'RunInstances', { ImageId: 'ami-1' }), world).full, 'unknown effect');
  t.true(worldScopeOf(call('autoscaling', 'UpdateAutoScalingGroup'), world).full, 'no group named');
  t.true(worldScopeOf(call('elasticloadbalancing', 'RegisterInstancesWithLoadBalancer'), world).full, 'Classic ELB');
  t.true(isEmptyScope(worldScopeOf(call('autoscaling', 'CreateOrUpdateTags'), world)));
  t.true(isEmptyScope(worldScopeOf(call('s3', 'PutObject'), world)));
  t.true(worldScopeOf(call('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: 'x' }), undefined).full);
});
