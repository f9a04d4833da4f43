import test from 'ava';
import { deployStage } from '../../../src/stages/deploy';
import { runStage } from '../helpers/run-stage';

// Every bad deploy input that can be told without AWS: exit 2 naming the field, and no AWS client
// was even asked for. The ones that need AWS (an AMI, subnet, … that does not exist) stay on the
// sandbox in test/deploy/deploy-bad-input.test.ts.
const base: Record<string, unknown> = {
  region: 'us-east-1',
  cluster: 'web-prod',
  amiId: 'ami-0123456789abcdef0',
  targetGroups: ['web-tg'],
  capacity: { min: 1, max: 2, desired: 1 },
  instanceType: 't3.micro',
  subnets: ['subnet-0123456789abcdef0'],
  ledger: { bucket: 'deploy-ledger' },
};

const cases: Array<{
  title: string;
  change: Record<string, unknown>;
  drop?: string[];
  field: string;
  pattern: RegExp;
}> = [
  { title: 'AMI id of the wrong shape', change: { amiId: 'ami-123' }, field: 'amiId', pattern: /must look like ami-/ },
  { title: 'no AMI id', change: {}, drop: ['amiId'], field: 'amiId', pattern: /is required/ },
  {
    title: 'capacity min > max',
    change: { capacity: { min: 3, max: 2, desired: 2 } },
    field: 'capacity',
    pattern: /min \(3\) must not exceed max \(2\)/,
  },
  {
    title: 'desired above max',
    change: { capacity: { min: 1, max: 2, desired: 5 } },
    field: 'capacity.desired',
    pattern: /between min \(1\) and max \(2\)/,
  },
  {
    title: 'negative health timeout',
    change: { healthTimeout: -5 },
    field: 'healthTimeout',
    pattern: /0 or more seconds/,
  },
  {
    title: 'zero health timeout',
    change: { healthTimeout: 0 },
    field: 'healthTimeout',
    pattern: /more than 0 seconds/,
  },
  {
    title: 'health timeout that is not a duration',
    change: { healthTimeout: 'soon' },
    field: 'healthTimeout',
    pattern: /like 90, "90s"/,
  },
  {
    title: 'healthy percent over 100',
    change: { targetHealthyPercent: 150 },
    field: 'targetHealthyPercent',
    pattern: /between 1 and 100/,
  },
  { title: 'negative keepPrevious', change: { keepPrevious: -1 }, field: 'keepPrevious', pattern: /between 0 and 50/ },
  {
    title: 'instance type of the wrong shape',
    change: { instanceType: 'huge' },
    field: 'instanceType',
    pattern: /must look like t3.micro/,
  },
  {
    title: 'subnet id of the wrong shape',
    change: { subnets: ['subnet-zzz'] },
    field: 'subnets[0]',
    pattern: /must look like subnet-/,
  },
  { title: 'no subnets', change: { subnets: [] }, field: 'subnets', pattern: /at least one subnet/ },
  {
    title: 'security group id of the wrong shape',
    change: { securityGroups: ['sg-1'] },
    field: 'securityGroups[0]',
    pattern: /must look like sg-/,
  },
  {
    title: 'reserved aws: tag',
    change: { tags: { 'aws:owner': 'me' } },
    field: 'tags.aws:owner',
    pattern: /must not start with "aws:"/,
  },
  {
    title: 'reserved bluegreen: tag',
    change: { tags: { 'bluegreen:cluster': 'x' } },
    field: 'tags.bluegreen:cluster',
    pattern: /reserved/,
  },
  {
    title: 'bad ledger bucket name',
    change: { ledger: { bucket: 'Bad_Bucket' } },
    field: 'ledger.bucket',
    pattern: /bucket/,
  },
  { title: 'no ledger', change: {}, drop: ['ledger'], field: 'ledger.bucket', pattern: /is required/ },
  { title: 'missing config file', change: { config: 'missing.json' }, field: 'config', pattern: /does not exist/ },
  { title: 'malformed config file', change: { config: 'bad.json' }, field: 'config', pattern: /not valid JSON/ },
  {
    title: 'unknown key in the config file',
    change: { config: 'unknown.json' },
    field: 'config.keepPrevios',
    pattern: /not a known key/,
  },
  { title: 'misspelt key', change: { amiID: 'ami-0123456789abcdef0' }, field: 'amiID', pattern: /not a known key/ },
  {
    title: 'user data over 16 KB',
    change: { userData: 'x'.repeat(20_000) },
    field: 'userData',
    pattern: /at most 16384/,
  },
  {
    title: 'build URL that is not a URL',
    change: { buildUrl: 'job 42' },
    field: 'buildUrl',
    pattern: /must look like https?:/,
  },
  {
    title: 'scale-down delay in words',
    change: { scaleDownDelay: '5 minutes' },
    field: 'scaleDownDelay',
    pattern: /like 90, "90s"/,
  },
  {
    title: 'lock lease under 5 seconds',
    change: { lockLease: '2s' },
    field: 'lockLease',
    pattern: /at least 5 seconds/,
  },
  {
    title: 'region that is not a region',
    change: { region: 'moon-1' },
    field: 'region',
    pattern: /must be an AWS region/,
  },
];

const files = { 'bad.json': '{"keepPrevious": 2,', 'unknown.json': { keepPrevios: 2 } };

for (const c of cases) {
  test(`deploy: ${c.title} → exit 2 naming ${c.field}, no AWS call`, async (t) => {
    const input = { ...base, ...c.change };
    for (const key of c.drop ?? []) delete input[key];
    const run = await runStage(deployStage, [], { input, files });
    t.is(run.exitCode, 2, run.stderr);
    t.is(run.output?.error?.field, c.field, JSON.stringify(run.output));
    t.regex(run.output?.error?.message ?? '', c.pattern);
    t.is(run.awsClientRequests, 0, 'no AWS client was even built');
  });
}

test('user data too long: the message gives its size, never its text', async (t) => {
  const run = await runStage(deployStage, [], { input: { ...base, userData: `TOKEN=s3cr3t ${'x'.repeat(20_000)}` } });
  t.is(run.exitCode, 2);
  t.notRegex(JSON.stringify(run.output), /s3cr3t/);
  t.notRegex(run.stderr, /s3cr3t/);
});
