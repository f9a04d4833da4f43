import test, { type ExecutionContext } from 'ava';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { createAwsClients, type AwsClients } from '../src/aws/clients';
import { describeAsgsByName } from '../src/cluster/server-groups';
import { startAwsCallLog, type AwsCallLog, type LoggedCall } from './helpers/aws-call-log';
import { createClassicLoadBalancer, createNetwork, someAmi, type Network } from './helpers/cluster-fixture';
import { ACCOUNT, authorizationRequests, retarget, type AuthorizationRequest } from './helpers/iam-requests';
import {
  accessKeyOf,
  awsIam,
  createUser,
  renderPolicy,
  withoutAction,
  type AccessKeys,
  type PolicyDocument,
} from './helpers/iam-roles';
import { startMoto, type MotoServer } from './helpers/moto';
import { runStageBundle, type StageRun } from './helpers/run-stage';

/**
 * The policies of resources/bluegreen/iam, proven twice:
 *
 * 1. moto's own IAM enforcement (moto_server with INITIAL_NO_AUTH_ACTION_COUNT:
 *    after that many calls every request must be signed by a known user and
 *    allowed by its policies). Each stage runs as a user holding only its
 *    role's policy. What moto 5 checks: the action of every call; for S3 also
 *    the resource (bucket/key ARN); for other services it evaluates every call
 *    against resource "*", and it ignores conditions without request values.
 *    So for moto, non-S3 statements are widened to "*" (their actions stay
 *    exact): the action lists and the S3 scoping are what moto proves.
 * 2. A policy evaluator (@cloud-copilot/iam-simulate: resources, conditions,
 *    tag keys) over every call the stages made in (1), with the resource ARNs
 *    and tag context AWS would evaluate: all allowed by the real policies, and
 *    the same calls on another cluster's groups or another ledger prefix denied.
 */

const region = 'us-east-1';
const cluster = 'web-prod';
const ledger = { bucket: 'deploy-ledger', prefix: 'bluegreen' };
const VALUES: Record<string, string> = {
  REPLACE_CLUSTER: cluster,
  REPLACE_LEDGER_BUCKET: ledger.bucket,
  REPLACE_LEDGER_PREFIX: ledger.prefix,
  REPLACE_ARTIFACT_BUCKET: 'artifacts',
  REPLACE_ARTIFACT_PREFIX: 'web/',
  REPLACE_TARGET_GROUP: 'web-*',
  REPLACE_LOAD_BALANCER: 'bluegreen-demo',
  REPLACE_CLASSIC_LOAD_BALANCER: 'web-elb',
  REPLACE_APP: 'web',
  REPLACE_APP_INSTANCE_ROLE: 'web-instance',
  REPLACE_BAKE_INSTANCE_ROLE: 'bake-instance',
  REPLACE_ASSUMED_ROLE_ARNS: 'arn:aws:iam::123456789012:role/deployer',
};
const ROLES = ['publish', 'bake', 'deploy', 'status-history'] as const;
type Role = (typeof ROLES)[number];

let moto: MotoServer;
let callLog: AwsCallLog;
let admin: AccessKeys;
let aws: AwsClients;
let network: Network;
const classicLoadBalancer = 'web-elb';
let sourceAmi: string;
const users = {} as Record<Role, AccessKeys>;
const policies = {} as Record<Role, PolicyDocument>;
let work: string;

/**
 * moto evaluates non-S3 calls against resource "*": widen those statements' resources, keep their actions.
 * And moto asks for `s3:HeadBucket` where AWS asks for `s3:ListBucket` (no such IAM action exists): a
 * statement that lets AWS answer HeadBucket (s3:ListBucket not bound to an `s3:prefix`) gets it too.
 */
function forMoto(policy: PolicyDocument): PolicyDocument {
  return {
    ...policy,
    Statement: policy.Statement.map((s) => {
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
      if (!actions.every((a) => a.startsWith('s3:'))) return { ...s, Resource: '*' };
      const prefixBound = Object.entries(s.Condition ?? {}).some(
        ([operator, keys]) => operator !== 'Null' && 's3:prefix' in keys,
      );
      return actions.includes('s3:ListBucket') && !prefixBound ? { ...s, Action: [...actions, 's3:HeadBucket'] } : s;
    }),
  };
}

function stage(name: string, keys: AccessKeys, input: Record<string, unknown>): Promise<StageRun> {
  return runStageBundle(
    name,
    { region, ...input },
    {
      ...keys,
      AWS_ENDPOINT_URL: callLog.endpoint,
      AWS_REGION: region,
      AWS_EC2_METADATA_DISABLED: 'true',
      BLUEGREEN_POLL_MIN_MS: '50',
      BLUEGREEN_POLL_MAX_MS: '200',
    },
  );
}

const deployInput = (amiId: string, version: string, extra: Record<string, unknown> = {}) => ({
  app: 'web',
  stack: 'prod',
  amiId,
  version,
  targetGroups: [network.targetGroupName],
  // Beside the target group: the classic ELB actions are proven with the others.
  loadBalancerNames: [classicLoadBalancer],
  capacity: { min: 1, max: 2, desired: 1 },
  instanceType: 't3.micro',
  subnets: network.subnetIds,
  ledger,
  healthTimeout: '60s',
  drainTimeout: 30,
  ...extra,
});

test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'bluegreen-iam-'));
  // moto reads it at start: the first 3 calls need no credentials (they make the admin).
  process.env.INITIAL_NO_AUTH_ACTION_COUNT = '3';
  moto = await startMoto();
  delete process.env.INITIAL_NO_AUTH_ACTION_COUNT;
  const anyone = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
  await awsIam(moto.endpoint, anyone, ['create-user', '--user-name', 'admin']);
  await awsIam(moto.endpoint, anyone, [
    'put-user-policy',
    '--user-name',
    'admin',
    '--policy-name',
    'all',
    '--policy-document',
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
  ]);
  admin = accessKeyOf(await awsIam(moto.endpoint, anyone, ['create-access-key', '--user-name', 'admin']));
  aws = createAwsClients(region, {
    endpoint: moto.endpoint,
    credentials: { accessKeyId: admin.AWS_ACCESS_KEY_ID, secretAccessKey: admin.AWS_SECRET_ACCESS_KEY },
  });
  network = await createNetwork(aws);
  await createClassicLoadBalancer(aws, network, classicLoadBalancer);
  sourceAmi = await someAmi(aws);
  await aws.s3.send(new CreateBucketCommand({ Bucket: ledger.bucket }));
  await aws.s3.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
  for (const role of ROLES) {
    policies[role] = renderPolicy(role, VALUES);
    users[role] = await createUser(moto.endpoint, admin, role, forMoto(policies[role]));
  }
  callLog = await startAwsCallLog(moto.endpoint);
});

test.after.always(async () => {
  await callLog?.close();
  await moto?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const denied = () =>
  callLog.calls
    .filter((c) => c.status === 403)
    .slice(-5)
    .map((c) => `${c.service}:${c.action} ${c.url} ${c.response.slice(0, 300)}`);
const failure = (run: StageRun) =>
  `exit ${run.exitCode}: ${JSON.stringify(run.output)}\ndenied: ${denied().join('\n')}\n${run.stderr.slice(-2000)}`;

async function lockHeld(name: string): Promise<boolean> {
  try {
    await aws.s3.send(
      new GetObjectCommand({ Bucket: ledger.bucket, Key: `${ledger.prefix}/${name}/locks/${region}.json` }),
    );
    return true;
  } catch {
    return false;
  }
}

test.serial('moto IAM: every stage succeeds as a user holding only its role policy', async (t) => {
  const file = join(work, 'web-1.0.0.tgz');
  writeFileSync(file, 'artifact bytes\n');
  const published = await stage('publish', users.publish, {
    file,
    bucket: 'artifacts',
    keyTemplate: '{app}/{version}/{fileName}',
    app: 'web',
    version: '1.0.0',
  });
  t.is(published.exitCode, 0, failure(published));

  const baked = await stage('bake', users.bake, {
    app: 'web',
    version: '1.0.0',
    sourceAmi: { id: sourceAmi },
    artifactUrl: (published.output as { artifactUrl: string }).artifactUrl,
    timeoutMinutes: 10,
  });
  t.is(baked.exitCode, 0, failure(baked));
  const amiId = (baked.output as { amiId: string }).amiId;

  for (const version of ['1.0.0', '2.0.0']) {
    const deployed = await stage('deploy', users.deploy, deployInput(version === '1.0.0' ? amiId : sourceAmi, version));
    t.is(deployed.exitCode, 0, failure(deployed));
  }
  const status = await stage('status', users['status-history'], { cluster });
  t.is(status.exitCode, 0, failure(status));
  // Not `history` nor `rollback` here: they list the ledger, and moto 5 rejects the signature of
  // every S3 list whose prefix holds a "/" (any client: the AWS CLI's
  // `s3api list-objects-v2 --prefix a/b` fails the same way). The evaluator below checks their calls.
  const cleaned = await stage('cleanup', users.deploy, { cluster, ledger });
  t.is(cleaned.exitCode, 0, failure(cleaned));
  t.false(await lockHeld(cluster));
  t.log(`${callLog.calls.length} calls, ${callLog.calls.filter((c) => c.status === 403).length} refused`);
});

test.serial(
  'moto IAM: with one action removed the deploy fails cleanly: exit 1 naming the denial, cluster unchanged, lock released',
  async (t) => {
    const before = (
      await describeAsgsByName(aws, [`${cluster}-v000`, `${cluster}-v001`, `${cluster}-v002`, `${cluster}-v003`])
    )
      .map((g) => g.AutoScalingGroupName)
      .sort();
    const keys = await createUser(
      moto.endpoint,
      admin,
      'deploy-without-create',
      forMoto(withoutAction(policies.deploy, 'autoscaling:CreateAutoScalingGroup')),
    );
    const run = await stage('deploy', keys, deployInput(sourceAmi, '3.0.0'));
    t.is(run.exitCode, 1, failure(run));
    t.regex(JSON.stringify(run.output), /AccessDenied|not authorized/i);
    const after = (
      await describeAsgsByName(aws, [`${cluster}-v000`, `${cluster}-v001`, `${cluster}-v002`, `${cluster}-v003`])
    )
      .map((g) => g.AutoScalingGroupName)
      .sort();
    t.deepEqual(after, before, 'no server group made or removed');
    t.false(await lockHeld(cluster), 'lock released');
  },
);

test.serial(
  'moto IAM: the deploy role of one cluster cannot deploy another (its ledger and lock are out of reach); read-only cannot deploy',
  async (t) => {
    const other = await stage('deploy', users.deploy, deployInput(sourceAmi, '1.0.0', { stack: 'other' }));
    t.not(other.exitCode, 0, failure(other));
    t.regex(JSON.stringify(other.output), /AccessDenied|denied/i);
    t.is((await describeAsgsByName(aws, ['web-other-v000'])).length, 0);
    const reader = await stage('deploy', users['status-history'], deployInput(sourceAmi, '4.0.0'));
    t.not(reader.exitCode, 0, failure(reader));
    t.false(await lockHeld(cluster));
  },
);

async function decision(role: Role, request: AuthorizationRequest): Promise<string> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: role, policy: policies[role] }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:user/${role}`,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context,
      },
    },
    {},
  );
  if (result.resultType === 'error') return `error: ${JSON.stringify(result.errors)}`;
  return result.overallResult;
}

/** Runs every stage on a plain moto (no IAM) through a call log; returns each run's calls by role. */
async function recordStageCalls(
  t: ExecutionContext,
): Promise<Array<{ role: Role; stage: string; calls: LoggedCall[] }>> {
  const plain = await startMoto();
  const log = await startAwsCallLog(plain.endpoint);
  t.teardown(async () => {
    await log.close();
    await plain.stop();
  });
  const keys = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
  const setup = createAwsClients(region, {
    endpoint: plain.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const net = await createNetwork(setup);
  await createClassicLoadBalancer(setup, net, classicLoadBalancer);
  const images = (await setup.ec2.send(new DescribeImagesCommand({}))).Images ?? [];
  const [ami1, ami2] = images.map((i) => i.ImageId as string);
  await setup.s3.send(new CreateBucketCommand({ Bucket: ledger.bucket }));
  await setup.s3.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
  const file = join(work, 'web-2.0.0.tgz');
  writeFileSync(file, 'artifact bytes\n');
  const runs: Array<[Role, string, Record<string, unknown>]> = [
    [
      'publish',
      'publish',
      { file, bucket: 'artifacts', keyTemplate: '{app}/{version}/{fileName}', app: 'web', version: '2.0.0' },
    ],
    [
      'deploy',
      'deploy',
      deployInput(ami1 as string, '1.0.0', { subnets: net.subnetIds, targetGroups: [net.targetGroupName] }),
    ],
    [
      'deploy',
      'deploy',
      deployInput(ami2 as string, '2.0.0', { subnets: net.subnetIds, targetGroups: [net.targetGroupName] }),
    ],
    // Hold for a human, then promote; hold again, then abort: both run with the deploy role.
    [
      'deploy',
      'deploy',
      deployInput(ami1 as string, '3.0.0', { subnets: net.subnetIds, targetGroups: [net.targetGroupName], hold: true }),
    ],
    ['status-history', 'status', { cluster, ledger }],
    ['deploy', 'promote', { cluster, ledger, approvedBy: 'alice' }],
    [
      'deploy',
      'deploy',
      deployInput(ami2 as string, '4.0.0', { subnets: net.subnetIds, targetGroups: [net.targetGroupName], hold: true }),
    ],
    ['deploy', 'abort', { cluster, ledger, reason: 'iam proof' }],
    ['status-history', 'history', { cluster, ledger }],
    ['deploy', 'rollback', { cluster, ledger, reason: 'iam proof', watch: '1s' }],
    ['deploy', 'cleanup', { cluster, ledger }],
  ];
  const out: Array<{ role: Role; stage: string; calls: LoggedCall[] }> = [];
  for (const [role, name, input] of runs) {
    const first = log.calls.length;
    const run = await runStageBundle(
      name,
      { region, ...input },
      {
        ...keys,
        AWS_ENDPOINT_URL: log.endpoint,
        AWS_REGION: region,
        AWS_EC2_METADATA_DISABLED: 'true',
        BLUEGREEN_POLL_MIN_MS: '50',
        BLUEGREEN_POLL_MAX_MS: '200',
      },
    );
    t.is(run.exitCode, 0, `${name}: exit ${run.exitCode} ${JSON.stringify(run.output)} ${run.stderr.slice(-1500)}`);
    out.push({ role, stage: name, calls: log.calls.slice(first) });
  }
  return out;
}

test.serial(
  'iam-simulate: every call the stages make on the cluster is allowed by its role policy; on another cluster or ledger prefix, denied',
  async (t) => {
    const runs = await recordStageCalls(t);
    const all = runs.flatMap((r) => r.calls);
    // Resource tags come from the calls that made the groups and templates: map over all calls in order.
    const requests = authorizationRequests(all, region);
    const byCall = new Map<LoggedCall, Role>();
    for (const run of runs) for (const call of run.calls) byCall.set(call, run.role);
    const notAllowed: string[] = [];
    const notDenied: string[] = [];
    const seen = new Set<string>();
    let scoped = 0;
    for (const request of requests) {
      const role = byCall.get(request.call) as Role;
      const id = `${role} ${request.action} ${request.resource} ${JSON.stringify(request.context)}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const allowed = await decision(role, request);
      if (allowed !== 'Allowed') notAllowed.push(`${id} → ${allowed} (${request.from})`);
      if (request.resource === '*') continue; // Describe calls: IAM has no resource to scope them by
      scoped++;
      const elsewhere = [retarget(request, cluster, 'api-prod')];
      if (request.resource.startsWith(`arn:aws:s3:::${ledger.bucket}/`) || request.context['s3:prefix'] !== undefined) {
        elsewhere.push(retarget(request, `${ledger.prefix}/`, 'audit/'));
      }
      if (request.resource.startsWith('arn:aws:s3:::artifacts/'))
        elsewhere.push(retarget(request, 'artifacts/web/', 'artifacts/other/'));
      for (const other of elsewhere) {
        if (other.resource === request.resource && JSON.stringify(other.context) === JSON.stringify(request.context))
          continue;
        if ((await decision(role, other)) === 'Allowed')
          notDenied.push(`${role} ${other.action} ${other.resource} (${request.from})`);
      }
    }
    t.log(`${all.length} calls → ${seen.size} distinct authorization requests, ${scoped} scoped to a resource`);
    t.true(scoped > 15, `${scoped} scoped requests`);
    t.deepEqual(notAllowed, []);
    t.deepEqual(notDenied, []);
  },
);
