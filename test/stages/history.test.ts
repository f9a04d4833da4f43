import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { awsClients } from '../../src/aws/clients';
import { acquireLock, appendRecord, newDeploymentId, type LedgerRef } from '../../src/ledger';
import { emulatorEnv, startMoto, useEmulator, type MotoServer } from '../helpers/moto';

const execFileAsync = promisify(execFile);
const bundle = join(__dirname, '..', '..', 'resources', 'bluegreen', 'history.js');
const ledger: LedgerRef = { bucket: 'history-ledger', prefix: 'bluegreen' };
let moto: MotoServer;

test.before(async () => {
  moto = await startMoto();
  useEmulator(moto.endpoint);
  const aws = awsClients('us-east-1');
  await aws.s3.send(new CreateBucketCommand({ Bucket: ledger.bucket }));
  const base = {
    cluster: 'web-prod',
    region: 'us-east-1',
    startedAt: '2026-11-26T05:40:12Z',
    who: 'alice',
    buildUrl: 'https://jenkins.example.com/job/web/7/',
  } as const;
  for (let i = 1; i <= 12; i += 1) {
    await appendRecord(aws, ledger, {
      ...base,
      kind: 'deploy',
      result: 'succeeded',
      deploymentId: newDeploymentId(),
      version: `1.0.${i}`,
      amiId: `ami-0000000${i % 10}`,
      serverGroup: `web-prod-v${String(i).padStart(3, '0')}`,
      previousServerGroup: `web-prod-v${String(i - 1).padStart(3, '0')}`,
    });
  }
  await appendRecord(aws, ledger, {
    ...base,
    kind: 'rollback',
    result: 'succeeded',
    deploymentId: newDeploymentId(),
    from: 'web-prod-v012',
    to: 'web-prod-v011',
    reason: 'errors after release',
  });
  await appendRecord(aws, ledger, {
    ...base,
    cluster: 'web-test',
    kind: 'deploy',
    result: 'failed',
    deploymentId: newDeploymentId(),
  });
  // The lock of the region history runs in (each region of a cluster has its own), as a deploy there takes it.
  await acquireLock(aws, ledger, 'web-prod', {
    region: 'us-east-1',
    owner: 'https://jenkins.example.com/job/web/8/',
    deploymentId: 'dep-running',
  });
});

test.after.always(async () => {
  await moto?.stop();
});

/** Runs the bundle; resolves with exit code, stderr and the parsed output file. */
async function runHistory(args: string[], input?: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'history-'));
  const output = join(dir, 'out.json');
  const inputArgs: string[] = [];
  if (input) {
    writeFileSync(join(dir, 'in.json'), JSON.stringify(input));
    inputArgs.push('--input', join(dir, 'in.json'));
  }
  let exitCode = 0;
  let stderr = '';
  try {
    ({ stderr } = await execFileAsync('node', [bundle, ...inputArgs, ...args, '--output', output], {
      env: { ...process.env, ...emulatorEnv(moto.endpoint) },
    }));
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    exitCode = failed.code;
    stderr = failed.stderr;
  }
  return { exitCode, stderr, output: JSON.parse(readFileSync(output, 'utf8')) };
}

test('history prints the last N records as a table and writes them as JSON with the lock', async (t) => {
  const { exitCode, stderr, output } = await runHistory([], { app: 'web', stack: 'prod', ledger, limit: 5 });
  t.is(exitCode, 0);
  t.is(output.cluster, 'web-prod');
  t.deepEqual(output.ledger, ledger);
  t.deepEqual(
    output.records.map((r: { kind: string; version?: string }) => r.version ?? r.kind),
    ['rollback', '1.0.12', '1.0.11', '1.0.10', '1.0.9'],
  );
  t.is(output.lock.deploymentId, 'dep-running');
  t.false(output.lock.expired);
  t.is(output.lock.etag, undefined);
  t.regex(stderr, /TIME\s+KIND\s+RESULT\s+VERSION\s+AMI\s+SERVER GROUP\s+FROM -> TO\s+WHO/);
  t.regex(stderr, /rollback\s+succeeded\s+-\s+-\s+-\s+web-prod-v012 -> web-prod-v011\s+alice/);
  t.regex(stderr, /deploy\s+succeeded\s+1\.0\.12\s+ami-00000002\s+web-prod-v012\s+web-prod-v011 -> web-prod-v012/);
  t.regex(stderr, /lock: held by https:\/\/jenkins\.example\.com\/job\/web\/8\/ \(deployment dep-running\)/);
});

test('flags work too: --ledger.bucket, --ledger.prefix, default limit 10', async (t) => {
  const { exitCode, output } = await runHistory([
    '--cluster',
    'web-prod',
    '--ledger.bucket',
    ledger.bucket,
    '--ledger.prefix',
    'bluegreen/',
  ]);
  t.is(exitCode, 0);
  t.is(output.records.length, 10);
  t.deepEqual(output.ledger, ledger);
});

test('a cluster with no records and no lock is not an error', async (t) => {
  const { exitCode, stderr, output } = await runHistory([
    '--cluster',
    'api-prod',
    '--ledger',
    `s3://${ledger.bucket}/bluegreen`,
  ]);
  t.is(exitCode, 0);
  t.deepEqual(output.records, []);
  t.is(output.lock, null);
  t.regex(stderr, /no deployments recorded for cluster api-prod/);
  t.regex(stderr, /is not locked/);
});

for (const [title, args, field, problem] of [
  [
    'a bad bucket name',
    ['--cluster', 'web-prod', '--ledger.bucket', 'My_Bucket'],
    'ledger.bucket',
    /not a valid S3 bucket name/,
  ],
  [
    'limit 0',
    ['--cluster', 'web-prod', '--ledger.bucket', ledger.bucket, '--limit', '0'],
    'limit',
    /between 1 and 1000/,
  ],
  [
    'limit 1001',
    ['--cluster', 'web-prod', '--ledger.bucket', ledger.bucket, '--limit', '1001'],
    'limit',
    /between 1 and 1000/,
  ],
  [
    'a prefix with a leading slash',
    ['--cluster', 'web-prod', '--ledger.bucket', ledger.bucket, '--ledger.prefix', '/bluegreen'],
    'ledger.prefix',
    /must not start with "\/"/,
  ],
  ['no ledger', ['--cluster', 'web-prod'], 'ledger.bucket', /is required/],
  [
    'a missing bucket',
    ['--cluster', 'web-prod', '--ledger.bucket', 'no-such-bucket-here'],
    'ledger.bucket',
    /does not exist/,
  ],
] as const) {
  test(`${title} is bad input (exit 2) naming ${field}`, async (t) => {
    const { exitCode, stderr, output } = await runHistory([...args]);
    t.is(exitCode, 2);
    t.is(output.error.code, 'BadInput');
    t.is(output.error.field, field);
    t.regex(output.error.message, problem);
    t.regex(stderr, new RegExp(`bad input: ${field.replace('.', '\\.')}`));
  });
}
