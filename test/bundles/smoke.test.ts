import test from 'ava';
import { spawnSync } from 'node:child_process';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { sandboxClients } from '../../src/sandbox/sandbox';
import { createNetwork, type Network } from '../helpers/cluster-fixture';
import { emulatorEnv, startMoto, type MotoServer } from '../helpers/moto';
import { bundlePath, runStageBundle } from '../helpers/run-stage';

// The committed stage bundles as a Jenkins agent runs them, on the Node that runs this test (test/run-all.sh
// runs this file again on Node 22 and 24): each bundle's --help, then deploy (twice), status and history
// against moto. The AWS SDK's Node-version warning shows at most once, as one line.
const BUNDLES = ['abort', 'bake', 'cleanup', 'deploy', 'history', 'promote', 'publish', 'rollback', 'status'];
const region = 'us-east-1';
const ledger = { bucket: 'smoke-ledger', prefix: 'bluegreen' };
let moto: MotoServer;
let network: Network;
let amis: string[];
let env: Record<string, string>;

test.before(async () => {
  moto = await startMoto();
  const aws = sandboxClients(moto.endpoint, region);
  network = await createNetwork(aws);
  amis = ((await aws.ec2.send(new DescribeImagesCommand({}))).Images ?? []).map((image) => image.ImageId as string);
  await aws.s3.send(new CreateBucketCommand({ Bucket: ledger.bucket }));
  env = { ...emulatorEnv(moto.endpoint, region), BLUEGREEN_POLL_MIN_MS: '50', BLUEGREEN_POLL_MAX_MS: '200' };
});

test.after.always(async () => {
  await moto?.stop();
});

/** Lines of a stage's log that carry the SDK's Node-version warning. */
function versionWarnings(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.includes('NodeVersionSupportWarning'));
}

/** The SDK warns below Node 22; from 22 on it must not. */
function checkVersionWarning(t: import('ava').ExecutionContext, stderr: string, what: string): void {
  const lines = versionWarnings(stderr);
  t.true(lines.length <= 1, `${what}: the Node-version warning at most once (${lines.length})`);
  for (const line of lines)
    t.regex(line, / WARN .*NodeVersionSupportWarning: \S.*node/, `${what}: one WARN line that says what it is`);
  if (Number(process.versions.node.split('.')[0]) >= 22)
    t.is(lines.length, 0, `${what}: no Node-version warning on Node ${process.version}`);
}

test(`every bundle answers --help on Node ${process.version}`, (t) => {
  for (const bundle of BUNDLES) {
    const run = spawnSync(process.execPath, [bundlePath(bundle), '--help'], { encoding: 'utf8', timeout: 60_000 });
    t.is(run.status, 0, `${bundle} --help: ${run.stderr}`);
    t.true(run.stdout.includes('--output'), `${bundle} --help lists its options`);
  }
});

test.serial(`deploy, status and history bundles against moto on Node ${process.version}`, async (t) => {
  const first = await runStageBundle(
    'deploy',
    {
      region,
      app: 'smoke',
      stack: 'prod',
      amiId: amis[0],
      version: '1.0.0',
      targetGroups: [network.targetGroupName],
      capacity: { min: 1, max: 2, desired: 1 },
      instanceType: 't3.micro',
      subnets: network.subnetIds,
      ledger,
      healthTimeout: 60,
      drainTimeout: 30,
    },
    env,
  );
  t.is(first.exitCode, 0, first.stderr);
  t.is(first.output?.serverGroup, 'smoke-prod-v000');
  checkVersionWarning(t, first.stderr, 'deploy');

  const second = await runStageBundle(
    'deploy',
    { region, cluster: 'smoke-prod', amiId: amis[1], version: '2.0.0', ledger, healthTimeout: 60, drainTimeout: 30 },
    env,
  );
  t.is(second.exitCode, 0, second.stderr);
  t.is(second.output?.serverGroup, 'smoke-prod-v001');
  t.is(second.output?.previousServerGroup, 'smoke-prod-v000');

  const status = await runStageBundle('status', { region, cluster: 'smoke-prod', ledger }, env);
  t.is(status.exitCode, 0, status.stderr);
  t.deepEqual(
    status.output?.serverGroups?.map((g: { name: string }) => g.name).sort(),
    ['smoke-prod-v000', 'smoke-prod-v001'],
    JSON.stringify(status.output),
  );
  checkVersionWarning(t, status.stderr, 'status');

  const history = await runStageBundle('history', { region, cluster: 'smoke-prod', ledger }, env);
  t.is(history.exitCode, 0, history.stderr);
  t.true(
    history.output?.records?.filter((r: { kind: string }) => r.kind === 'deploy').length >= 2,
    JSON.stringify(history.output),
  );
  checkVersionWarning(t, history.stderr, 'history');
});
