import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import { makeAppAmi } from '../sandbox/fixtures';
import { runStageBundle } from '../helpers/run-stage';

// Every bad input exits 2 naming the field, and the sandbox gateway's counters prove nothing in AWS changed.
let sandbox: Sandbox;
let base: Record<string, unknown>;

test.before(async () => {
  sandbox = await startSandbox({ timeScale: 0.05, infra: 'demo' });
  const infra = sandbox.infra!;
  const amiId = await makeAppAmi(sandbox.clients(), '1.0.0');
  base = {
    region: 'us-east-1',
    cluster: 'web-prod',
    amiId,
    targetGroups: [infra.targetGroupName],
    capacity: { min: 1, max: 2, desired: 1 },
    instanceType: 't3.micro',
    subnets: infra.subnetIds,
    ledger: { bucket: infra.ledgerBucket },
  };
});

test.after.always(async () => {
  await sandbox?.stop();
});

const configDir = mkdtempSync(join(tmpdir(), 'deploy-config-'));
const badConfig = join(configDir, 'bad.json');
writeFileSync(badConfig, '{"keepPrevious": 2,');

const cases: Array<{ title: string; change: Record<string, unknown>; drop?: string[]; field: string; pattern: RegExp }> = [
  { title: 'AMI id of the wrong shape', change: { amiId: 'ami-123' }, field: 'amiId', pattern: /must look like ami-/ },
  { title: 'no AMI id', change: {}, drop: ['amiId'], field: 'amiId', pattern: /is required/ },
  { title: 'an AMI that does not exist', change: { amiId: 'ami-0123456789abcdef0' }, field: 'amiId', pattern: /does not exist in us-east-1/ },
  { title: 'unknown target group', change: { targetGroups: ['no-such-tg'] }, field: 'targetGroups[0]', pattern: /target group no-such-tg does not exist/ },
  { title: 'capacity min > max', change: { capacity: { min: 3, max: 2, desired: 2 } }, field: 'capacity', pattern: /min \(3\) must not exceed max \(2\)/ },
  { title: 'desired above max', change: { capacity: { min: 1, max: 2, desired: 5 } }, field: 'capacity.desired', pattern: /between min \(1\) and max \(2\)/ },
  { title: 'negative health timeout', change: { healthTimeout: -5 }, field: 'healthTimeout', pattern: /0 or more seconds/ },
  { title: 'health timeout that is not a duration', change: { healthTimeout: 'soon' }, field: 'healthTimeout', pattern: /like 90, "90s"/ },
  { title: 'healthy percent over 100', change: { targetHealthyPercent: 150 }, field: 'targetHealthyPercent', pattern: /between 1 and 100/ },
  { title: 'negative keepPrevious', change: { keepPrevious: -1 }, field: 'keepPrevious', pattern: /between 0 and 50/ },
  { title: 'instance type of the wrong shape', change: { instanceType: 'huge' }, field: 'instanceType', pattern: /must look like t3.micro/ },
  { title: 'subnet id of the wrong shape', change: { subnets: ['subnet-zzz'] }, field: 'subnets[0]', pattern: /must look like subnet-/ },
  { title: 'subnet that does not exist', change: { subnets: ['subnet-0123456789abcdef0'] }, field: 'subnets[0]', pattern: /does not exist/ },
  { title: 'security group id of the wrong shape', change: { securityGroups: ['sg-1'] }, field: 'securityGroups[0]', pattern: /must look like sg-/ },
  { title: 'reserved aws: tag', change: { tags: { 'aws:owner': 'me' } }, field: 'tags.aws:owner', pattern: /must not start with "aws:"/ },
  { title: 'bad ledger bucket name', change: { ledger: { bucket: 'Bad_Bucket' } }, field: 'ledger.bucket', pattern: /bucket/ },
  { title: 'no ledger', change: {}, drop: ['ledger'], field: 'ledger.bucket', pattern: /is required/ },
  { title: 'security group that does not exist', change: { securityGroups: ['sg-0123456789abcdef0'] }, field: 'securityGroups[0]', pattern: /does not exist/ },
  { title: 'missing config file', change: { config: join(configDir, 'missing.json') }, field: 'config', pattern: /does not exist/ },
  { title: 'malformed config file', change: { config: badConfig }, field: 'config', pattern: /not valid JSON/ },
  { title: 'misspelt key', change: { amiID: 'ami-0123456789abcdef0' }, field: 'amiID', pattern: /not a known key/ },
  { title: 'first deploy without capacity', change: { cluster: 'api-prod' }, drop: ['capacity'], field: 'capacity', pattern: /required on the first deploy/ },
  { title: 'user data over 16 KB', change: { userData: 'x'.repeat(20_000) }, field: 'userData', pattern: /at most 16384/ },
  { title: 'build URL that is not a URL', change: { buildUrl: 'job 42' }, field: 'buildUrl', pattern: /must look like https?:/ },
  { title: 'scale-down delay in words', change: { scaleDownDelay: '5 minutes' }, field: 'scaleDownDelay', pattern: /like 90, "90s"/ },
  { title: 'region that is not a region', change: { region: 'moon-1' }, field: 'region', pattern: /must be an AWS region/ },
];

for (const c of cases) {
  test.serial(`deploy: ${c.title} → exit 2 naming ${c.field}, no mutating AWS call`, async (t) => {
    const input = { ...base, ...c.change };
    for (const key of c.drop ?? []) delete input[key];
    const before = sandbox.calls().mutating;
    const run = await runStageBundle('deploy', input, sandbox.env());
    t.is(run.exitCode, 2, run.stderr);
    t.is(run.output?.error?.field, c.field, JSON.stringify(run.output));
    t.regex(run.output?.error?.message ?? '', c.pattern);
    t.is(sandbox.calls().mutating, before, 'no mutating call reached AWS');
  });
}
