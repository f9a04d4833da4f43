import test from 'ava';
import { bakeStage } from '../../../src/stages/bake';
import { deployStage, singleRegionRequest, type DeployStageRequest } from '../../../src/stages/deploy';
import { runStage, echoing } from '../helpers/run-stage';

// List-typed inputs at any depth take repeated flags, and a comma list where items cannot hold commas.
const bake = ['--region', 'us-east-1', '--app', 'web', '--version', '1.0.0', '--allowed-cidrs', '10.0.0.0/8'];

test('bake: one nested list flag is a list of one (it used to be "must be a list of strings")', async (t) => {
  const run = await runStage(echoing(bakeStage), [
    ...bake,
    '--source-ami.filter.name',
    'al2023-*',
    '--source-ami.filter.owners',
    'amazon',
  ]);
  t.is(run.exitCode, 0, run.stderr);
  t.deepEqual(run.output.sourceAmi.filters.name, 'al2023-*');
  t.deepEqual(run.output.sourceAmi.owners, ['amazon']);
});

test('bake: repeated nested list flags, account ids kept as text', async (t) => {
  const run = await runStage(echoing(bakeStage), [
    ...bake,
    '--source-ami.filter.name',
    'ubuntu/*',
    '--source-ami.filter.owners',
    '099720109477',
    '--source-ami.filter.owners',
    'self',
  ]);
  t.is(run.exitCode, 0, run.stderr);
  t.deepEqual(run.output.sourceAmi.owners, ['099720109477', 'self']);
});

test('bake: a comma list in a nested list flag, and in a top-level one', async (t) => {
  const run = await runStage(echoing(bakeStage), [
    ...bake,
    '--source-ami.filter.name',
    'x',
    '--source-ami.filter.owners',
    'amazon,self',
    '--copy-regions',
    'eu-west-1,eu-central-1',
    '--copy-regions',
    'us-west-2',
  ]);
  t.is(run.exitCode, 0, run.stderr);
  t.deepEqual(run.output.sourceAmi.owners, ['amazon', 'self']);
  t.deepEqual(run.output.copyRegions, ['eu-west-1', 'eu-central-1', 'us-west-2']);
});

test('bake: nested list flags merge into the input file (flags win key by key)', async (t) => {
  const run = await runStage(echoing(bakeStage), [...bake, '--source-ami.filter.owners', 'self'], {
    input: { sourceAmi: { filter: { name: 'al2023-*', owners: ['amazon'] } } },
  });
  t.is(run.exitCode, 0, run.stderr);
  t.deepEqual(run.output.sourceAmi.filters.name, 'al2023-*');
  t.deepEqual(run.output.sourceAmi.owners, ['self']);
});

test('chef run lists keep their commas: only repeated flags make items', async (t) => {
  const run = await runStage(echoing(bakeStage), [
    ...bake,
    '--source-ami.id',
    'ami-0123456789abcdef0',
    '--chef.cookbooks-path',
    'chef',
    '--chef.run-list',
    'recipe[web::default]',
    '--chef.run-list',
    'role[base]',
  ]);
  t.is(run.exitCode, 0, run.stderr);
  t.deepEqual(run.output.chef.runList, ['recipe[web::default]', 'role[base]']);
});

test('deploy: --subnets a,b and repeated --security-groups are lists', async (t) => {
  const run = await runStage(
    { ...echoing(deployStage), run: async (input: DeployStageRequest) => singleRegionRequest(input) },
    [
      '--region',
      'us-east-1',
      '--cluster',
      'web-prod',
      '--ami-id',
      'ami-0123456789abcdef0',
      '--ledger',
      's3://deploy-ledger',
      '--subnets',
      'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
      '--security-groups',
      'sg-0123456789abcdef0',
      '--security-groups',
      'sg-0123456789abcdef1',
      '--capacity.min',
      '1',
      '--capacity.max',
      '2',
    ],
  );
  t.is(run.exitCode, 0, run.stderr);
  t.deepEqual(run.output.launch.subnets, ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']);
  t.deepEqual(run.output.launch.securityGroups, ['sg-0123456789abcdef0', 'sg-0123456789abcdef1']);
  t.deepEqual(run.output.capacity, { min: 1, max: 2, desired: 1 });
  t.deepEqual(run.output.ledger, { bucket: 'deploy-ledger', prefix: 'bluegreen' });
});
