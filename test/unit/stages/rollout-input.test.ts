import test from 'ava';
import { parseStageInput } from '../../../src/stages/framework';
import { deployStage } from '../../../src/stages/deploy';
import { planWaves } from '../../../src/rollout/waves';
import { roleSessionName } from '../../../src/aws/assume-role';
import { runStage } from '../helpers/run-stage';

// A deploy to several regions (issue #24): every check that needs no AWS. Bad input is exit 2 naming the
// field — `regions.<region>.<field>` for a region's override — and no AWS client was even asked for.
const base: Record<string, unknown> = {
  region: 'us-east-1',
  cluster: 'web-prod',
  capacity: { min: 1, max: 2, desired: 1 },
  instanceType: 't3.micro',
  ledger: { bucket: 'deploy-ledger' },
  amis: { 'us-east-1': 'ami-0123456789abcdef0', 'eu-west-1': 'ami-0123456789abcdef1' },
  regions: {
    'us-east-1': { targetGroups: ['web-us'], subnets: ['subnet-0123456789abcdef0'] },
    'eu-west-1': { targetGroups: ['web-eu'], subnets: ['subnet-0123456789abcdef1'], capacity: { desired: 2 } },
  },
};

test('each region gets the deploy input with its overrides on top; one wave per region by default', (t) => {
  const { input } = parseStageInput(deployStage, base);
  if (input.kind !== 'rollout') return t.fail('not a rollout');
  const { rollout } = input;
  t.deepEqual(
    rollout.regions.map((entry) => entry.region),
    ['us-east-1', 'eu-west-1'],
  );
  t.deepEqual(rollout.waves, [['us-east-1'], ['eu-west-1']]);
  t.is(rollout.onFailure, 'rollback');
  const [us, eu] = rollout.regions;
  t.is(us!.request.amiId, 'ami-0123456789abcdef0');
  t.is(eu!.request.amiId, 'ami-0123456789abcdef1');
  t.is(eu!.request.region, 'eu-west-1');
  t.deepEqual(eu!.request.targetGroups, ['web-eu']);
  t.deepEqual(eu!.request.launch.subnets, ['subnet-0123456789abcdef1']);
  // Objects merge key by key: eu-west-1 changes only desired.
  t.deepEqual(eu!.request.capacity, { min: 1, max: 2, desired: 2 });
  t.deepEqual(us!.request.capacity, { min: 1, max: 2, desired: 1 });
  t.is(us!.role, undefined);
});

test('amis alone deploy to its regions; a region may assume a role with an external id', (t) => {
  const { input } = parseStageInput(deployStage, {
    ...base,
    regions: {
      'us-east-1': {},
      'eu-west-1': { roleArn: 'arn:aws:iam::123456789012:role/deployer', externalId: 'team-web' },
    },
    waves: [['us-east-1', 'eu-west-1']],
    onFailure: 'stop',
  });
  if (input.kind !== 'rollout') return t.fail('not a rollout');
  t.deepEqual(input.rollout.waves, [['us-east-1', 'eu-west-1']]);
  t.is(input.rollout.onFailure, 'stop');
  t.deepEqual(input.rollout.regions[1]!.role, {
    roleArn: 'arn:aws:iam::123456789012:role/deployer',
    externalId: 'team-web',
  });
  const { regions: _regions, ...noRegions } = base;
  const fromAmis = parseStageInput(deployStage, noRegions).input;
  if (fromAmis.kind !== 'rollout') return t.fail('not a rollout');
  t.deepEqual(fromAmis.rollout.waves, [['us-east-1'], ['eu-west-1']]);
});

const cases: Array<{ title: string; change: Record<string, unknown>; field: string; pattern: RegExp }> = [
  {
    title: 'a region without an AMI',
    change: { amis: { 'us-east-1': 'ami-0123456789abcdef0' } },
    field: 'amis.eu-west-1',
    pattern: /is required/,
  },
  {
    title: 'amiId beside amis',
    change: { amiId: 'ami-0123456789abcdef0' },
    field: 'amiId',
    pattern: /not both/,
  },
  {
    title: "a region's bad capacity",
    change: { regions: { 'us-east-1': {}, 'eu-west-1': { capacity: { desired: 9 } } } },
    field: 'regions.eu-west-1.capacity.desired',
    pattern: /between min \(1\) and max \(2\)/,
  },
  {
    title: "a region's bad subnet",
    change: { regions: { 'us-east-1': {}, 'eu-west-1': { subnets: ['sub-1'] } } },
    field: 'regions.eu-west-1.subnets[0]',
    pattern: /must look like subnet-/,
  },
  {
    title: 'a region overriding the ledger',
    change: { regions: { 'us-east-1': { ledger: 's3://other' }, 'eu-west-1': {} } },
    field: 'regions.us-east-1.ledger',
    pattern: /whole rollout/,
  },
  {
    title: 'a region overriding an unknown key',
    change: { regions: { 'us-east-1': { subnet: ['x'] }, 'eu-west-1': {} } },
    field: 'regions.us-east-1.subnet',
    pattern: /not a deploy input/,
  },
  {
    title: 'a region that is not a region',
    change: { regions: { 'moon-1': {} } },
    field: 'regions.moon-1',
    pattern: /must be an AWS region/,
  },
  {
    title: 'a wave naming a region not in regions',
    change: { waves: [['us-east-1'], ['eu-west-1', 'ap-south-1']] },
    field: 'waves[1][1]',
    pattern: /not one of the rollout's regions/,
  },
  {
    title: 'waves leaving a region out',
    change: { waves: [['us-east-1']] },
    field: 'waves',
    pattern: /leaves out eu-west-1/,
  },
  { title: 'onFailure misspelt', change: { onFailure: 'rolback' }, field: 'onFailure', pattern: /rollback or stop/ },
  {
    title: 'a role ARN of the wrong shape',
    change: { roleArn: 'arn:aws:iam::123:role/x' },
    field: 'roleArn',
    pattern: /must look like arn:aws:iam::/,
  },
  {
    title: 'a ledger role ARN of the wrong shape',
    change: { ledger: { bucket: 'deploy-ledger', roleArn: 'deployer' } },
    field: 'ledger.roleArn',
    pattern: /must look like arn:aws:iam::/,
  },
];

for (const c of cases) {
  test(`rollout: ${c.title} → exit 2 naming ${c.field}, no AWS call`, async (t) => {
    const run = await runStage(deployStage, [], { input: { ...base, ...c.change } });
    t.is(run.exitCode, 2, run.stderr);
    t.is(run.output?.error?.field, c.field, JSON.stringify(run.output));
    t.regex(run.output?.error?.message ?? '', c.pattern);
    t.is(run.awsClientRequests, 0, 'no AWS client was even built');
  });
}

test('an external id that is bad is named, never echoed', async (t) => {
  const run = await runStage(deployStage, [], {
    input: { ...base, roleArn: 'arn:aws:iam::123456789012:role/deployer', externalId: 's3cr3t!!' },
  });
  t.is(run.exitCode, 2);
  t.is(run.output?.error?.field, 'externalId');
  t.notRegex(JSON.stringify(run.output) + run.stderr, /s3cr3t/);
});

test('planWaves: one region per wave by default, in order', (t) => {
  t.deepEqual(planWaves(['a-b-1', 'c-d-2']), [['a-b-1'], ['c-d-2']]);
  t.throws(() => planWaves(['us-east-1'], [['us-east-1'], ['us-east-1']]), { message: /more than one wave/ });
});

test('roleSessionName: from the build URL, within STS limits', (t) => {
  t.is(roleSessionName('https://ci.example.com/job/web/job/main/42/'), 'bluegreen-web-main-42');
  t.regex(roleSessionName(undefined, new Date('2026-12-06T20:00:00Z')), /^bluegreen-20261206T200000Z$/);
  t.true(roleSessionName(`https://ci.example.com/job/${'x'.repeat(100)}/1/`).length <= 64);
});
