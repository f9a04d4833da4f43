import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeLaunchTemplatesCommand } from '@aws-sdk/client-ec2';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describeAsgsByName } from '../../src/cluster/server-groups';
import { findDeployment, listRecords } from '../../src/ledger';
import { startProbe } from '../../src/sandbox/probe';
import { executeStage } from '../../src/stages/framework';
import { cleanupStage } from '../../src/stages/cleanup';
import { rollbackStage } from '../../src/stages/rollback';
import { getClusterStatus } from '../../src/status/cluster-status';
import { startDeploySandbox, type DeploySandbox } from '../helpers/deploy-sandbox';

// Safety under faults (issue 15): secrets, a call that never answers, a ledger that cannot be written, a failure after cutover.
let env: DeploySandbox;
const amis: Record<string, string> = {};
const ledgerBucket = () => (env.baseInput.ledger as { bucket: string }).bucket;

test.before(async () => {
  // Fewer SDK attempts, so a failing S3 gives up within seconds here (the default keeps 10).
  process.env.BLUEGREEN_AWS_MAX_ATTEMPTS = '3';
  env = await startDeploySandbox();
  for (const version of ['1.0.0', '2.0.0', '3.0.0']) amis[version] = await env.ami(version);
  // Instances that take ~15 s (real) to boot: a health wait long enough to fault.
  amis.slow = await env.ami('2.0.1-slow', 'slow-boot:300');
  const first = await env.deploy({ ...env.baseInput, amiId: amis['1.0.0'], version: '1.0.0' });
  if (first.exitCode !== 0)
    throw new Error(`first deploy failed: ${JSON.stringify(first.output)}\n${env.lines.join('\n')}`);
});

test.after.always(async () => {
  delete process.env.BLUEGREEN_AWS_MAX_ATTEMPTS;
  delete process.env.BLUEGREEN_AWS_CALL_TIMEOUT_MS;
  await env?.sandbox.stop();
});

function probe() {
  return startProbe({ url: env.listenerUrl, concurrency: 4, maxDurationMs: 240_000, maxRequests: 200_000 });
}

function outputPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'safety-')), 'out.json');
}

/** The server group of the cluster whose phase tag is one of `phases`, or undefined. */
async function groupInPhase(phases: string[]): Promise<string | undefined> {
  const status = await getClusterStatus(env.aws, 'web-prod');
  const asgs = await describeAsgsByName(
    env.aws,
    status.serverGroups.map((g) => g.name),
  );
  return asgs.find((a) => (a.Tags ?? []).some((t) => t.Key === 'bluegreen:phase' && phases.includes(t.Value ?? '')))
    ?.AutoScalingGroupName;
}

/** Waits until a group of the cluster is in one of `phases`; false when `run` ended first or a minute passed. */
async function reachedPhase(phases: string[], run: Promise<unknown>): Promise<boolean> {
  let ended = false;
  void run.finally(() => {
    ended = true;
  });
  for (const deadline = Date.now() + 60_000; !ended && Date.now() < deadline; await sleep(20)) {
    if (await groupInPhase(phases)) return true;
  }
  return false;
}

async function allLedgerText(): Promise<string> {
  const listed = await env.aws.s3.send(new ListObjectsV2Command({ Bucket: ledgerBucket() }));
  let text = '';
  for (const object of listed.Contents ?? []) {
    const body = await env.aws.s3.send(new GetObjectCommand({ Bucket: ledgerBucket(), Key: object.Key }));
    text += `${object.Key}\n${(await body.Body?.transformToString('utf8')) ?? ''}\n`;
  }
  return text;
}

const SECRETS = {
  keyId: 'AKIAIOSFODNN7EXAMPLE',
  signature: '3f1c2b9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170615e4d3',
  sessionToken: 'FwoGZXIvYXdzEXAMPLEsessionTOKEN0123456789abcdefXYZ',
  password: 'hunter2-Pa55word',
};

test.serial(
  'presigned artifactUrl and a buildUrl with user:password@: deployed, recorded redacted, no secret in tags, ledger, output or log',
  async (t) => {
    const artifactUrl =
      `https://artifacts.s3.amazonaws.com/web/2.0.0.tgz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${SECRETS.keyId}%2F20261201%2Fus-east-1%2Fs3%2Faws4_request` +
      `&X-Amz-Date=20261201T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token=${SECRETS.sessionToken}&X-Amz-SignedHeaders=host&X-Amz-Signature=${SECRETS.signature}`;
    const buildUrl = `https://deployer:${SECRETS.password}@ci.example.com/job/web/7/`;
    const output = outputPath();
    env.lines.length = 0;
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis['2.0.0'],
      version: '2.0.0-s',
      artifactUrl,
      buildUrl,
      output,
    });
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-20).join('\n')}`);
    const serverGroup = (result.output as { serverGroup: string }).serverGroup;

    const [asg] = await describeAsgsByName(env.aws, [serverGroup]);
    const templates = await env.aws.ec2.send(
      new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [serverGroup] }),
    );
    const places: Record<string, string> = {
      'ASG tags': JSON.stringify(asg?.Tags ?? []),
      'launch template tags': JSON.stringify(templates.LaunchTemplates?.[0]?.Tags ?? []),
      ledger: await allLedgerText(),
      'output file': readFileSync(output, 'utf8'),
      'log (stderr)': env.lines.join('\n'),
    };
    for (const [where, text] of Object.entries(places)) {
      for (const [what, secret] of Object.entries(SECRETS)) t.false(text.includes(secret), `${what} found in ${where}`);
    }
    t.true(
      (places['ASG tags'] ?? '').includes('ci.example.com/job/web/7/'),
      'the build URL is still tagged, without its credentials',
    );

    const records = await listRecords(env.aws, { bucket: ledgerBucket(), prefix: 'bluegreen' }, 'web-prod', {
      limit: 5,
    });
    const recorded = records.find((r) => r.version === '2.0.0-s' && r.result === 'succeeded');
    t.truthy(recorded, 'the deploy is in the history');
    t.is(recorded?.buildUrl, 'https://ci.example.com/job/web/7/');
    t.regex(recorded?.artifactUrl ?? '', /^https:\/\/artifacts\.s3\.amazonaws\.com\/web\/2\.0\.0\.tgz\?/);

    const moved = await env.deploy({ ...env.baseInput, amiId: amis['3.0.0'], version: '3.0.0' });
    t.is(moved.exitCode, 0, JSON.stringify(moved.output));
    const back = await executeStage(
      rollbackStage,
      { region: 'us-east-1', cluster: 'web-prod', ledger: env.baseInput.ledger, to: '2.0.0-s', plan: true },
      env.log,
    );
    t.is(back.exitCode, 0, JSON.stringify(back.output));
    t.is(
      (back.output as { restoredServerGroup: string }).restoredServerGroup,
      serverGroup,
      'rollback by version finds the redacted record',
    );
  },
);

test.serial(
  'a rejected input value holding a token is not echoed into the log or the output file (exit 2)',
  async (t) => {
    const output = outputPath();
    env.lines.length = 0;
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis['3.0.0'],
      artifactUrl: `ftp://files.example.com/a.tgz?X-Amz-Signature=${SECRETS.signature}&token=${SECRETS.sessionToken}`,
      output,
    });
    t.is(result.exitCode, 2);
    const text = `${readFileSync(output, 'utf8')}\n${env.lines.join('\n')}`;
    t.regex(text, /artifactUrl/, 'the message names the field');
    t.false(text.includes(SECRETS.signature));
    t.false(text.includes(SECRETS.sessionToken));
  },
);

test.serial(
  'DescribeTargetHealth does not answer (100 s latency): the deploy ends in bounded time, exit 1, naming the call; old group serves',
  async (t) => {
    process.env.BLUEGREEN_AWS_CALL_TIMEOUT_MS = '4000';
    const oldGroup = (await getClusterStatus(env.aws, 'web-prod')).serverGroups.find(
      (g) => g.state === 'enabled',
    )?.name;
    const traffic = probe();
    let rule: { id: string } | undefined;
    const started = Date.now();
    const run = env.deploy({ ...env.baseInput, amiId: amis.slow, version: '2.0.1' });
    try {
      t.true(await reachedPhase(['waiting-healthy'], run), 'the deploy reached its health wait');
      // 100 s is far past every bound (here a 4 s call deadline; 90 s by default); the gateway's delay timers cannot be
      // cancelled, so a longer one would only keep this test process alive after the test.
      rule = env.sandbox.addFault({
        kind: 'latency',
        service: 'elasticloadbalancing',
        action: 'DescribeTargetHealth',
        ms: 100_000,
      });
      const bounded = await Promise.race([run, sleep(90_000).then(() => undefined)]);
      if (rule) env.sandbox.removeFault(rule.id);
      rule = undefined;
      if (!bounded) {
        t.fail(`the deploy did not end within 90 s:\n${env.lines.slice(-40).join('\n')}`);
        return;
      }
      t.log(`ended after ${Math.round((Date.now() - started) / 1000)}s`);
      t.is(bounded.exitCode, 1, JSON.stringify(bounded.output));
      const error = (bounded.output as { error: Record<string, unknown> }).error;
      t.regex(String(error.message), /DescribeTargetHealth/);
      t.log(String(error.message));
    } finally {
      if (rule) env.sandbox.removeFault(rule.id);
      delete process.env.BLUEGREEN_AWS_CALL_TIMEOUT_MS;
    }
    await run;
    const report = await traffic.stop();
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.true((report.perVersion['3.0.0'] ?? 0) > 0, 'v3 kept serving');
    // The automatic rollback may itself need DescribeTargetHealth (draining the new group): then it stops, bounded,
    // and says the next run removes the group. The old group serves throughout; the next run settles the cluster.
    const status = await getClusterStatus(env.aws, 'web-prod');
    t.true(
      status.serverGroups.some((g) => g.name === oldGroup && g.state === 'enabled'),
      `${oldGroup} still enabled`,
    );
    const settle = await executeStage(
      cleanupStage,
      { region: 'us-east-1', cluster: 'web-prod', ledger: env.baseInput.ledger },
      env.log,
    );
    t.is(settle.exitCode, 0, JSON.stringify(settle.output));
    const after = await getClusterStatus(env.aws, 'web-prod');
    t.deepEqual(
      after.serverGroups.filter((g) => g.state === 'enabled').map((g) => g.name),
      [oldGroup],
      JSON.stringify(after.serverGroups.map((g) => [g.name, g.state])),
    );
  },
);

test.serial(
  'S3 PutObject failing after cutover: the output says the record is pending (exit 3), the next run writes it, rollback by version finds it',
  async (t) => {
    const traffic = probe();
    let rule: { id: string } | undefined;
    const run = env.deploy({ ...env.baseInput, amiId: amis['2.0.0'], version: '4.0.0' });
    try {
      t.true(await reachedPhase(['cutover', 'finishing'], run), 'the deploy reached cutover');
      rule = env.sandbox.addFault({
        kind: 'fail',
        service: 's3',
        action: 'PutObject',
        count: 1_000_000,
        code: 'InternalError',
        status: 500,
      });
      const result = await run;
      t.is(result.exitCode, 3, JSON.stringify(result.output));
      const output = result.output as {
        status: string;
        ledger: { written: boolean; pending: Array<{ result: string }> };
        failure: { code: string; message: string };
      };
      t.is(output.status, 'succeeded', 'the cluster was deployed');
      t.is(output.failure.code, 'LedgerRecordPending');
      t.regex(output.failure.message, /cleanup/, 'says what to do');
      t.false(output.ledger.written);
      t.true(
        output.ledger.pending.some((r) => r.result === 'succeeded'),
        JSON.stringify(output.ledger),
      );
    } finally {
      if (rule) env.sandbox.removeFault(rule.id);
    }
    const report = await traffic.stop();
    t.is(report.failed, 0, JSON.stringify(report.failures));
    const ledger = { bucket: ledgerBucket(), prefix: 'bluegreen' };
    t.is(await findDeployment(env.aws, ledger, 'web-prod', { version: '4.0.0' }), null, 'not written yet');

    const next = await executeStage(
      cleanupStage,
      { region: 'us-east-1', cluster: 'web-prod', ledger: env.baseInput.ledger },
      env.log,
    );
    t.is(next.exitCode, 0, JSON.stringify(next.output));
    t.truthy(
      await findDeployment(env.aws, ledger, 'web-prod', { version: '4.0.0' }),
      'the next run wrote the pending record',
    );
    await env.deploy({ ...env.baseInput, amiId: amis['3.0.0'], version: '3.0.1' });
    const back = await executeStage(
      rollbackStage,
      { region: 'us-east-1', cluster: 'web-prod', ledger: env.baseInput.ledger, to: '4.0.0', plan: true },
      env.log,
    );
    t.is(back.exitCode, 0, JSON.stringify(back.output));
  },
);

test.serial('a failure after cutover (DrainTimeout) is recorded in the ledger and says how to recover', async (t) => {
  // A run that waits for the drain (a watch does; without one the deploy returns at cutover), bounded by 1 s here.
  const result = await env.deploy({
    ...env.baseInput,
    amiId: amis['2.0.0'],
    version: '5.0.0',
    drainTimeout: '1s',
    watch: '2s',
  });
  t.is(result.exitCode, 1, JSON.stringify(result.output));
  const error = (result.output as { error: Record<string, unknown> }).error;
  t.is(error.code, 'DrainTimeout');
  t.regex(String(error.recovery), /deploy|cleanup|rollback/);
  t.regex(String(error.message), /web-prod-v\d{3}/, 'names the group that serves');
  const ledger = { bucket: ledgerBucket(), prefix: 'bluegreen' };
  const record = await findDeployment(env.aws, ledger, 'web-prod', { version: '5.0.0', result: 'failed' });
  t.truthy(record, 'a failed record for the run');
  const settle = await executeStage(
    cleanupStage,
    { region: 'us-east-1', cluster: 'web-prod', ledger: env.baseInput.ledger },
    env.log,
  );
  t.is(settle.exitCode, 0, JSON.stringify(settle.output));
});
