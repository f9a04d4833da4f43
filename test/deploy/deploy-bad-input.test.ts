import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import { makeAppAmi } from '../sandbox/fixtures';
import { MISSING_RESOURCE_REFUSALS, type DeployRefusal } from '../helpers/deploy-refusals';
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

// What needs AWS to tell (the AMI, target group, subnet, security group exist; a first deploy) runs
// here on the sandbox; the rest of the table runs in-process in test/unit/stages/deploy-bad-input.test.ts,
// with a few spawned-bundle smokes here.
const cases: DeployRefusal[] = [
  { title: 'AMI id of the wrong shape', change: { amiId: 'ami-123' }, field: 'amiId', pattern: /must look like ami-/ },
  ...MISSING_RESOURCE_REFUSALS,
  { title: 'malformed config file', change: { config: badConfig }, field: 'config', pattern: /not valid JSON/ },
  { title: 'misspelt key', change: { amiID: 'ami-0123456789abcdef0' }, field: 'amiID', pattern: /not a known key/ },
  {
    title: 'first deploy without capacity',
    change: { cluster: 'api-prod' },
    drop: ['capacity'],
    field: 'capacity',
    pattern: /required on the first deploy/,
  },
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
