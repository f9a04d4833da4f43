import test from 'ava';
import { deployStage } from '../../../src/stages/deploy';
import { DEPLOY_REFUSALS, type DeployRefusal } from '../../helpers/deploy-refusals';
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

const cases: DeployRefusal[] = [
  ...DEPLOY_REFUSALS,
  { title: 'missing config file', change: { config: 'missing.json' }, field: 'config', pattern: /does not exist/ },
  { title: 'malformed config file', change: { config: 'bad.json' }, field: 'config', pattern: /not valid JSON/ },
  {
    title: 'unknown key in the config file',
    change: { config: 'unknown.json' },
    field: 'config.keepPrevios',
    pattern: /not a known key/,
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
