import test from 'ava';
import { awsClients } from '../../src/aws/clients';
import { Tag } from '../../src/aws/tags';
import { loadCluster } from '../../src/cluster/server-groups';
import { startProbe, type ProbeReport } from '../../src/sandbox/probe';
import { executeStage } from '../../src/stages/framework';
import { abortStage, promoteStage } from '../../src/stages/promote';
import { makeAppAmi } from '../sandbox/fixtures';
import { startDeploySandbox, type DeploySandbox } from '../helpers/deploy-sandbox';

// Hold with regions (#23 part 2 with #24): every region deploys and holds, then promote or abort with regions
// acts on each, in wave order — under a probe of each region's production listener.
const US = 'us-east-1';
const EU = 'eu-west-1';
const REGIONS = [US, EU];
let env: DeploySandbox;
const amis: Record<string, Record<string, string>> = {};

test.before(async () => {
  env = await startDeploySandbox(US, { regions: REGIONS });
  for (const region of REGIONS) {
    amis[region] = {};
    for (const version of ['1.0.0', '2.0.0', '3.0.0'])
      amis[region][version] = await makeAppAmi(awsClients(region), version, 'ok');
  }
  const first = await env.deploy(rolloutInput('1.0.0'));
  if (first.exitCode !== 0) throw new Error(`first rollout failed: ${JSON.stringify(first.output)}`);
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

function infraOf(region: string) {
  const infra = env.sandbox.infraByRegion?.[region];
  if (!infra?.listenerUrl) throw new Error(`no demo infra with a listener in ${region}`);
  return infra;
}

const ledger = () => ({ bucket: infraOf(US).ledgerBucket, prefix: 'bluegreen', region: US });

function rolloutInput(version: string, extra: Record<string, unknown> = {}) {
  const { targetGroups: _tg, subnets: _subnets, amiId: _ami, ...base } = env.baseInput;
  return {
    ...base,
    version,
    ledger: ledger(),
    amis: Object.fromEntries(REGIONS.map((region) => [region, amis[region]![version]])),
    regions: Object.fromEntries(
      REGIONS.map((region) => [
        region,
        { targetGroups: [infraOf(region).targetGroupName], subnets: infraOf(region).subnetIds },
      ]),
    ),
    ...extra,
  };
}

function probes() {
  return REGIONS.map((region) =>
    startProbe({ url: infraOf(region).listenerUrl!, concurrency: 2, maxDurationMs: 240_000, maxRequests: 200_000 }),
  );
}

async function stopAll(running: ReturnType<typeof probes>): Promise<ProbeReport[]> {
  return Promise.all(running.map((probe) => probe.stop()));
}

async function heldIn(region: string): Promise<string[]> {
  const { groups } = await loadCluster(awsClients(region), 'web-prod');
  return groups.filter((g) => g.tags[Tag.phase] === 'held').map((g) => g.name);
}

const decision = { region: US, cluster: 'web-prod', regions: REGIONS };

test.serial(
  'a rollout with hold holds in every region (production unchanged, 0 failed); promote with regions: every region serves it, 0 failed',
  async (t) => {
    const watching = probes();
    const held = await env.deploy(rolloutInput('2.0.0', { hold: true }));
    t.is(held.exitCode, 0, `${JSON.stringify(held.output)}\n${env.lines.slice(-20).join('\n')}`);
    const output = held.output as { status: string; regions: Array<{ region: string; status: string }> };
    t.is(output.status, 'held');
    t.deepEqual(
      output.regions.map((r) => [r.region, r.status]),
      REGIONS.map((r) => [r, 'held']),
    );
    for (const region of REGIONS) t.is((await heldIn(region)).length, 1, `${region} holds one group`);
    const whileHeld = await stopAll(watching);
    for (const report of whileHeld) {
      t.is(report.failed, 0, JSON.stringify(report.failures));
      t.deepEqual(Object.keys(report.perVersion), ['1.0.0'], 'production never served 2.0.0 while held');
    }

    const promoting = probes();
    const promoted = await executeStage(promoteStage, { ...decision, ledger: ledger(), approvedBy: 'alice' }, env.log);
    const reports = await stopAll(promoting);
    t.is(promoted.exitCode, 0, `${JSON.stringify(promoted.output)}\n${env.lines.slice(-20).join('\n')}`);
    const result = promoted.output as { regions: Array<{ region: string; status: string }> };
    t.deepEqual(
      result.regions.map((r) => [r.region, r.status]),
      REGIONS.map((r) => [r, 'promoted']),
      'promoted in wave order',
    );
    for (const report of reports) {
      t.is(report.failed, 0, JSON.stringify(report.failures));
      t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['2.0.0']);
    }
    for (const region of REGIONS) t.deepEqual(await heldIn(region), []);
  },
);

test.serial('abort with regions removes the held group of every region; production unchanged, 0 failed', async (t) => {
  const held = await env.deploy(rolloutInput('3.0.0', { hold: true }));
  t.is(held.exitCode, 0, JSON.stringify(held.output));
  const watching = probes();
  const aborted = await executeStage(abortStage, { ...decision, ledger: ledger(), reason: 'rejected' }, env.log);
  const reports = await stopAll(watching);
  t.is(aborted.exitCode, 0, JSON.stringify(aborted.output));
  t.deepEqual(
    (aborted.output as { regions: Array<{ status: string }> }).regions.map((r) => r.status),
    ['aborted', 'aborted'],
  );
  for (const region of REGIONS) {
    t.deepEqual(await heldIn(region), []);
    const { groups } = await loadCluster(awsClients(region), 'web-prod');
    t.false(
      groups.some((g) => g.tags[Tag.version] === '3.0.0'),
      `${region}: the held group is removed`,
    );
  }
  for (const report of reports) {
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(Object.keys(report.perVersion), ['2.0.0']);
  }
});
