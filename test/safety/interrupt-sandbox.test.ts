import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Tag } from '../../src/aws/tags';
import { loadCluster } from '../../src/cluster/server-groups';
import { lockKey, readLock } from '../../src/ledger';
import { startProbe } from '../../src/sandbox/probe';
import { startAwsProxy } from '../helpers/aws-proxy';
import { startDeploySandbox, TEST_TIME_SCALE, type DeploySandbox } from '../helpers/deploy-sandbox';
import { bundlePath } from '../helpers/run-stage';

// Jenkins aborts with SIGTERM; a run that lost its lock must stop touching the cluster. Stage bundles in child processes.
let env: DeploySandbox;
const amis: Record<string, string> = {};
const ledger = () => env.baseInput.ledger as { bucket: string; prefix: string };

test.before(async () => {
  env = await startDeploySandbox();
  for (const version of ['1.0.0', '2.0.0', '3.0.0', '4.0.0']) amis[version] = await env.ami(version);
  // Instances that take ~15 s (real) to boot: a long health wait to interrupt.
  amis.slow = await env.ami('9.0.0-slow', 'slow-boot:300');
  const first = await env.deploy({ ...env.baseInput, amiId: amis['1.0.0'], version: '1.0.0' });
  if (first.exitCode !== 0) throw new Error(`first deploy failed: ${JSON.stringify(first.output)}`);
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

function probe() {
  return startProbe({ url: env.listenerUrl, concurrency: 4, maxDurationMs: 240_000, maxRequests: 200_000 });
}

/** A stage bundle running in a child process, as Jenkins runs it. */
function startStage(stage: string, input: Record<string, unknown>, extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), `${stage}-`));
  const outputPath = join(dir, 'out.json');
  const inputPath = join(dir, 'in.json');
  writeFileSync(inputPath, JSON.stringify(input));
  const child = spawn(process.execPath, [bundlePath(stage), '--input', inputPath, '--output', outputPath], {
    env: {
      ...process.env,
      ...env.sandbox.env(),
      BLUEGREEN_POLL_MIN_MS: String(1000 * TEST_TIME_SCALE),
      BLUEGREEN_POLL_MAX_MS: String(10000 * TEST_TIME_SCALE),
      BLUEGREEN_FAILPOINTS: '',
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<{
    exitCode: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    output: Record<string, unknown> | undefined;
  }>((resolve) =>
    child.on('close', (exitCode, signal) =>
      resolve({
        exitCode,
        signal,
        stderr,
        output: existsSync(outputPath)
          ? (JSON.parse(readFileSync(outputPath, 'utf8')) as Record<string, unknown>)
          : undefined,
      }),
    ),
  );
  return {
    child,
    done,
    stderr: () => stderr,
    async waitForLog(pattern: RegExp, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stderr)) {
        if (Date.now() > deadline) throw new Error(`no log line ${pattern} in time:\n${stderr}`);
        await sleep(50);
      }
    },
  };
}

async function assertSettled(t: import('ava').ExecutionContext): Promise<void> {
  const { groups } = await loadCluster(env.aws, 'web-prod');
  t.is(groups.filter((g) => g.enabled).length, 1, 'exactly one enabled group');
  for (const group of groups) t.is(group.tags[Tag.pinnedFrom], undefined, `${group.name} has no pinned min`);
  t.is(await readLock(env.aws, ledger(), 'web-prod', { region: env.aws.region }), null, 'the lock is released');
}

test.serial(
  'SIGTERM during the health wait of a deploy: new group removed, lock released, exit 1 with the error in the output; next deploy runs',
  async (t) => {
    const traffic = probe();
    const run = startStage('deploy', { ...env.baseInput, amiId: amis.slow, version: '9.0.0-slow' });
    await run.waitForLog(/web-prod-v\d{3}: 0\/2 healthy/);
    run.child.kill('SIGTERM');
    const result = await run.done;
    t.is(result.exitCode, 1, result.stderr.split('\n').slice(-15).join('\n'));
    const error = (result.output as { error: Record<string, unknown> } | undefined)?.error;
    t.is(error?.code, 'Interrupted', JSON.stringify(result.output));
    t.is(error?.autoRolledBack, true);
    const report = await traffic.stop();
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(Object.keys(report.perVersion), ['1.0.0']);
    await assertSettled(t);
    const next = await env.deploy({ ...env.baseInput, amiId: amis['2.0.0'], version: '2.0.0' });
    t.is(next.exitCode, 0, JSON.stringify(next.output));
  },
);

test.serial(
  'SIGTERM while the new group is being created (before any wait): the run still stops at its next wait and rolls back',
  async (t) => {
    const traffic = probe();
    const run = startStage('deploy', { ...env.baseInput, amiId: amis.slow, version: '9.0.3-slow' });
    await run.waitForLog(/launch template web-prod-v\d{3}/);
    run.child.kill('SIGTERM');
    const result = await run.done;
    t.is(result.exitCode, 1, result.stderr.split('\n').slice(-15).join('\n'));
    const error = (result.output as { error: Record<string, unknown> } | undefined)?.error;
    t.is(error?.code, 'Interrupted', JSON.stringify(result.output));
    t.is(error?.autoRolledBack, true);
    const report = await traffic.stop();
    t.is(report.failed, 0, JSON.stringify(report.failures));
    await assertSettled(t);
  },
);

test.serial(
  'SIGTERM during a rollback: the cluster keeps serving, lock released, exit 1; next deploy runs',
  async (t) => {
    // A slow-booting release behind the current one: re-enabling it takes a while.
    const slow = await env.deploy({ ...env.baseInput, amiId: amis.slow, version: '9.0.1-slow' });
    t.is(slow.exitCode, 0, JSON.stringify(slow.output));
    const current = await env.deploy({ ...env.baseInput, amiId: amis['3.0.0'], version: '3.0.0' });
    t.is(current.exitCode, 0, JSON.stringify(current.output));
    const traffic = probe();
    const run = startStage('rollback', { region: 'us-east-1', cluster: 'web-prod', ledger: ledger() });
    await run.waitForLog(/web-prod-v\d{3}: 0\/2 (InService|healthy)/);
    run.child.kill('SIGTERM');
    const result = await run.done;
    t.is(result.exitCode, 1, result.stderr.split('\n').slice(-15).join('\n'));
    t.is(
      (result.output as { error: Record<string, unknown> } | undefined)?.error.code,
      'Interrupted',
      JSON.stringify(result.output),
    );
    const report = await traffic.stop();
    t.is(report.failed, 0, JSON.stringify(report.failures));
    await assertSettled(t);
    const next = await env.deploy({ ...env.baseInput, amiId: amis['4.0.0'], version: '4.0.0' });
    t.is(next.exitCode, 0, JSON.stringify(next.output));
  },
);

test.serial(
  'renewals failing past the lease while a breakExpiredLock run starts: the first run makes 0 cluster changes after its lease ended',
  async (t) => {
    const proxy = await startAwsProxy(env.sandbox.endpoint);
    const traffic = probe();
    let rule: { id: string } | undefined;
    try {
      const first = startStage(
        'deploy',
        { ...env.baseInput, amiId: amis.slow, version: '9.0.2-slow', lockLease: '6s' },
        { AWS_ENDPOINT_URL: proxy.endpoint },
      );
      await first.waitForLog(/web-prod-v\d{3}: 0\/2 healthy/);
      // S3 refuses every write: the first run's renewals fail from now on.
      rule = env.sandbox.addFault({
        kind: 'fail',
        service: 's3',
        action: 'PutObject',
        count: 1_000_000,
        code: 'InternalError',
        status: 500,
      });
      const head = await env.aws.s3.send(
        new HeadObjectCommand({ Bucket: ledger().bucket, Key: lockKey(ledger(), 'web-prod', 'us-east-1') }),
      );
      const leaseEnded = (head.LastModified?.getTime() ?? Date.now()) + 6_000;
      await sleep(Math.max(0, leaseEnded - Date.now()) + 1_000);
      env.sandbox.removeFault(rule.id);
      rule = undefined;
      const second = await env.deploy({
        ...env.baseInput,
        amiId: amis['1.0.0'],
        version: '1.0.1',
        breakExpiredLock: true,
        lockWait: '30s',
      });
      const firstResult = await first.done;
      t.is(second.exitCode, 0, JSON.stringify(second.output));
      t.is(firstResult.exitCode, 1, firstResult.stderr.split('\n').slice(-15).join('\n'));
      t.regex(String((firstResult.output as { error: Record<string, unknown> } | undefined)?.error.message), /lock/i);
      const late = proxy.calls.filter((c) => c.service !== 's3' && c.mutating && c.at > leaseEnded);
      t.deepEqual(
        late.map((c) => `${c.service}:${c.action}`),
        [],
        'no cluster change by the first run after its lease ended',
      );
      t.true(
        proxy.calls.some((c) => c.service !== 's3' && c.mutating && c.at < leaseEnded),
        'the first run did change the cluster while it held the lock',
      );
    } finally {
      if (rule) env.sandbox.removeFault(rule.id);
      await proxy.close();
    }
    const report = await traffic.stop();
    t.is(report.failed, 0, JSON.stringify(report.failures));
    await assertSettled(t);
  },
);
