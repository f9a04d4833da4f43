import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import { STAGES as STAGE_LIST } from '../../src/stages/list';
import { ensureBuiltCli, startNpx } from '../helpers/npm-cli';
import { makeAppAmi } from '../sandbox/fixtures';

// Every stage through the npm CLI (`npx bluegreen <stage>`: the package's bin, dist/cli.js), from a build of
// the current source: its --help, then one real run each against the sandbox, bake included (real packer).
const STAGES = [...STAGE_LIST.map((stage) => stage.name), 'sandbox'];
const region = 'us-east-1';
let sandbox: Sandbox;
let dir: string;
let env: Record<string, string>;

test.before(async () => {
  ensureBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'npm-cli-'));
  sandbox = await startSandbox({ timeScale: 0.05, infra: 'demo' });
  env = {
    ...sandbox.env(),
    BLUEGREEN_POLL_MIN_MS: '50',
    BLUEGREEN_POLL_MAX_MS: '500',
    // Packer's and the bake's build folders go to the test's own temp dir.
    TMPDIR: dir,
  };
});

test.after.always(async () => {
  await sandbox?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type CliRun = Awaited<ReturnType<typeof startNpx>['exited']>;

function npx(args: string[], timeoutMs?: number): Promise<CliRun> {
  return startNpx(args, { ...process.env, ...env }, timeoutMs).exited;
}

let runs = 0;
/** Runs a stage with `input` in an --input file (lists and nested objects) plus flags; returns its --output document. */
async function stage(name: string, flags: string[], input: Record<string, unknown> = {}, timeoutMs?: number) {
  runs += 1;
  const inputPath = join(dir, `${runs}-${name}-in.json`);
  const outputPath = join(dir, `${runs}-${name}-out.json`);
  writeFileSync(inputPath, JSON.stringify(input));
  const run = await npx([name, '--input', inputPath, '--output', outputPath, '--region', region, ...flags], timeoutMs);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each step checks its own fields
  const output: any = existsSync(outputPath) ? JSON.parse(readFileSync(outputPath, 'utf8')) : undefined;
  return { ...run, output };
}

test.serial('every stage answers --help through npx bluegreen', async (t) => {
  const helps = await Promise.all(STAGES.map((name) => npx([name, '--help'], 60_000)));
  for (const [index, name] of STAGES.entries()) {
    const help = helps[index] as CliRun;
    t.is(help.code, 0, `${name} --help: ${help.stderr}`);
    t.true(help.stdout.includes(`bluegreen ${name}`), `${name} --help names the command`);
    t.true(help.stdout.includes('--help'), `${name} --help lists the options`);
  }
});

test.serial(
  'every stage runs for real through npx bluegreen against the sandbox, bake with packer and the built-in linux template',
  async (t) => {
    const infra = sandbox.infra;
    if (!infra) throw new Error('no demo infra');
    const ledger = ['--ledger.bucket', infra.ledgerBucket, '--ledger.prefix', 'cli'];

    const artifact = join(dir, 'web-1.0.0.tar.gz');
    writeFileSync(artifact, 'the app, version 1.0.0\n');
    const published = await stage('publish', [
      '--file',
      artifact,
      '--bucket',
      infra.artifactBucket,
      '--keyTemplate',
      '{app}/{version}/{fileName}',
      '--app',
      'web',
      '--version',
      '1.0.0',
    ]);
    t.is(published.code, 0, published.stderr);
    t.regex(published.output?.artifactUrl ?? '', /^s3:\/\//);

    const baked = await stage(
      'bake',
      ['--template', 'linux', '--app', 'web', '--version', '1.0.0', '--artifactUrl', published.output.artifactUrl],
      // moto's stock images; owners is what makes the filter match there.
      { sourceAmi: { filter: { name: 'amzn-ami-hvm-*', owners: ['amazon'] } } },
      600_000,
    );
    t.is(baked.code, 0, baked.stderr);
    t.regex(baked.output?.amiId ?? '', /^ami-/, 'packer baked an AMI from the built-in template');

    const first = await stage(
      'deploy',
      [
        '--app',
        'web',
        '--stack',
        'prod',
        '--amiId',
        baked.output.amiId,
        '--version',
        '1.0.0',
        '--instanceType',
        't3.micro',
        '--healthTimeout',
        '120',
        '--drainTimeout',
        '30',
        ...ledger,
      ],
      {
        targetGroups: [infra.targetGroupName],
        capacity: { min: 1, max: 2, desired: 1 },
        subnets: infra.subnetIds,
        securityGroups: [infra.securityGroupId],
      },
    );
    t.is(first.code, 0, first.stderr);
    t.is(first.output?.serverGroup, 'web-prod-v000');

    const v2 = await makeAppAmi(sandbox.clients(), '2.0.0');
    const second = await stage('deploy', [
      '--cluster',
      'web-prod',
      '--amiId',
      v2,
      '--version',
      '2.0.0',
      '--healthTimeout',
      '120',
      '--drainTimeout',
      '30',
      ...ledger,
    ]);
    t.is(second.code, 0, second.stderr);
    t.is(second.output?.serverGroup, 'web-prod-v001');

    const status = await stage('status', ['--cluster', 'web-prod', ...ledger]);
    t.is(status.code, 0, status.stderr);
    t.true(status.output?.deployments?.length >= 2, JSON.stringify(status.output));

    const rollback = await stage('rollback', [
      '--cluster',
      'web-prod',
      '--reason',
      'cli test',
      '--healthTimeout',
      '120',
      '--drainTimeout',
      '30',
      ...ledger,
    ]);
    t.is(rollback.code, 0, rollback.stderr);
    t.is(rollback.output?.restoredServerGroup, 'web-prod-v000');

    const history = await stage('history', ['--cluster', 'web-prod', ...ledger]);
    t.is(history.code, 0, history.stderr);
    t.true(
      history.output?.records?.some((r: { kind: string }) => r.kind === 'rollback'),
      JSON.stringify(history.output),
    );

    const cleanup = await stage('cleanup', ['--cluster', 'web-prod', ...ledger]);
    t.is(cleanup.code, 0, cleanup.stderr);
    t.true(Array.isArray(cleanup.output?.actions));
  },
);
