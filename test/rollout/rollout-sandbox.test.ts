import test from 'ava';
import { awsClients } from '../../src/aws/clients';
import { Tag } from '../../src/aws/tags';
import { loadCluster } from '../../src/cluster/server-groups';
import { listRecords, readLock } from '../../src/ledger';
import { getClusterStatus } from '../../src/status/cluster-status';
import { startProbe, type ProbeReport } from '../../src/sandbox/probe';
import type { CredentialUse } from '../../src/sandbox/call-credentials';
import { getJson, makeAppAmi } from '../sandbox/fixtures';
import { executeStage } from '../../src/stages/framework';
import { rollbackStage } from '../../src/stages/rollback';
import { startDeploySandbox, TEST_TIME_SCALE, type DeploySandbox } from '../helpers/deploy-sandbox';
import { runStageBundle } from '../helpers/run-stage';

// One release to two regions (issue #24), each region with its own load balancer listener and a probe in it:
// what each region serves is counted, not assumed.
const US = 'us-east-1';
const EU = 'eu-west-1';
const REGIONS = [US, EU];
let env: DeploySandbox;
const amis: Record<string, Record<string, string>> = {};

test.before(async () => {
  env = await startDeploySandbox(US, { regions: REGIONS });
  for (const region of REGIONS) {
    const aws = awsClients(region);
    amis[region] = {};
    for (const version of ['1.0.0', '2.0.0', '3.0.0']) amis[region][version] = await makeAppAmi(aws, version, 'ok');
    amis[region].broken = await makeAppAmi(aws, '2.0.0', 'fail');
  }
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

function infraOf(region: string) {
  const infra = env.sandbox.infraByRegion?.[region];
  if (!infra?.listenerUrl) throw new Error(`no demo infra with a listener in ${region}`);
  return infra;
}

/** The rollout input: every region's own target group and subnets; the ledger in the first region. */
function rolloutInput(version: string, amiOf: Record<string, string>, extra: Record<string, unknown> = {}) {
  const { targetGroups: _tg, subnets: _subnets, amiId: _ami, ...base } = env.baseInput;
  return {
    ...base,
    version,
    ledger: { bucket: infraOf(US).ledgerBucket, prefix: 'bluegreen', region: US },
    amis: amiOf,
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

async function stopAll(running: ReturnType<typeof probes>): Promise<Record<string, ProbeReport>> {
  const reports = await Promise.all(running.map((probe) => probe.stop()));
  return Object.fromEntries(REGIONS.map((region, index) => [region, reports[index]!]));
}

/** The version the last window of a region's probe saw. */
function servingAtEnd(report: ProbeReport): string[] | undefined {
  return report.timeline[report.timeline.length - 1]?.versions;
}

/** The versions each region's enabled groups run, from live AWS. */
async function enabledVersions(): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const region of REGIONS) {
    const { groups } = await loadCluster(awsClients(region), 'web-prod');
    result[region] = groups.filter((g) => g.enabled).map((g) => g.tags[Tag.version] ?? '?');
  }
  return result;
}

function pick(version: string, broken?: string): Record<string, string> {
  return Object.fromEntries(
    REGIONS.map((region) => [region, region === broken ? amis[region]!.broken! : amis[region]![version]!]),
  );
}

test.serial('v1 to two regions: both serve v1', async (t) => {
  const result = await env.deploy(rolloutInput('1.0.0', pick('1.0.0')));
  t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
  const output = result.output as { regions: Array<{ region: string; status: string }>; summary: string };
  t.deepEqual(
    output.regions.map((r) => `${r.region}:${r.status}`),
    [`${US}:succeeded`, `${EU}:succeeded`],
  );
  t.regex(output.summary, /us-east-1 web-prod-v000; eu-west-1 web-prod-v000/);
  t.deepEqual(await enabledVersions(), { [US]: ['1.0.0'], [EU]: ['1.0.0'] });
  const reports = await stopAll(probes());
  for (const region of REGIONS) t.deepEqual(servingAtEnd(reports[region]!), ['1.0.0'], region);
});

test.serial(
  'v2 whose second-region AMI is broken: exit 1, the first region re-enabled on v1 (no launch), 0 failed in both',
  async (t) => {
    const running = probes();
    const result = await env.deploy(rolloutInput('2.0.0', pick('2.0.0', EU), { healthTimeout: '60s' }));
    const reports = await stopAll(running);
    t.is(result.exitCode, 1, env.lines.slice(-30).join('\n'));
    const error = (result.output as { error: Record<string, unknown> }).error;
    t.is(error.code, 'RolloutFailed');
    // The build page's line of a failed rollout: every region's verdict.
    t.regex(String(error.message), /us-east-1 put back on web-prod-v000; eu-west-1 failed \(left serving/);
    const regions = error.regions as Array<{
      region: string;
      status: string;
      rollback?: { mode: string; launchedInstances: string[]; restoredServerGroup: string };
    }>;
    t.deepEqual(
      regions.map((r) => `${r.region}:${r.status}`),
      [`${US}:rolled-back`, `${EU}:failed`],
    );
    const usRollback = regions[0]!.rollback!;
    t.is(usRollback.mode, 'reenable');
    t.deepEqual(usRollback.launchedInstances, [], 'the previous group was still warm: nothing launched');
    t.is(usRollback.restoredServerGroup, 'web-prod-v000');
    for (const region of REGIONS) {
      t.is(reports[region]!.failed, 0, `${region}: ${JSON.stringify(reports[region]!.failures)}`);
      t.deepEqual(servingAtEnd(reports[region]!), ['1.0.0'], region);
    }
    t.deepEqual(await enabledVersions(), { [US]: ['1.0.0'], [EU]: ['1.0.0'] });

    // The ledger records each region's runs with the rollout id.
    const ledger = { bucket: infraOf(US).ledgerBucket, prefix: 'bluegreen', region: US };
    const records = await listRecords(env.aws, ledger, 'web-prod', { limit: 50 });
    const ofRollout = records.filter((r) => r.rolloutId === error.rolloutId);
    t.true(ofRollout.some((r) => r.region === US && r.kind === 'deploy' && r.result === 'succeeded'));
    t.true(ofRollout.some((r) => r.region === US && r.kind === 'rollback' && r.result === 'succeeded'));
    t.true(ofRollout.some((r) => r.region === EU && r.kind === 'deploy' && r.result !== 'succeeded'));
  },
);

test.serial('v2 with onFailure stop: the first region stays on v2, 0 failed in both', async (t) => {
  const running = probes();
  const result = await env.deploy(
    rolloutInput('2.0.0', pick('2.0.0', EU), { healthTimeout: '60s', onFailure: 'stop' }),
  );
  const reports = await stopAll(running);
  t.is(result.exitCode, 1, env.lines.slice(-30).join('\n'));
  for (const region of REGIONS)
    t.is(reports[region]!.failed, 0, `${region}: ${JSON.stringify(reports[region]!.failures)}`);
  t.deepEqual(servingAtEnd(reports[US]!), ['2.0.0']);
  t.deepEqual(servingAtEnd(reports[EU]!), ['1.0.0']);
  const error = (result.output as { error: Record<string, unknown> }).error;
  t.deepEqual(
    (error.regions as Array<{ region: string; status: string }>).map((r) => `${r.region}:${r.status}`),
    [`${US}:succeeded`, `${EU}:failed`],
  );
  t.regex(String(error.recovery), /rollback \(rolloutId: /);
  t.deepEqual(await enabledVersions(), { [US]: ['2.0.0'], [EU]: ['1.0.0'] });
});

test.serial('rollback with the rollout id: every region back on what it served before that rollout', async (t) => {
  const stopped = await env.deploy(
    rolloutInput('3.0.0', pick('3.0.0', EU), { healthTimeout: '60s', onFailure: 'stop' }),
  );
  t.is(stopped.exitCode, 1);
  const rolloutId = (stopped.output as { error: Record<string, unknown> }).error.rolloutId as string;
  t.deepEqual(await enabledVersions(), { [US]: ['3.0.0'], [EU]: ['1.0.0'] });
  const { ledger } = rolloutInput('2.0.0', pick('2.0.0'));
  const { cluster, buildUrl } = env.baseInput;
  const result = await executeStage(
    rollbackStage,
    { region: US, cluster, ledger, buildUrl, to: rolloutId, regions: REGIONS, reason: 'rollout test' },
    env.log,
  );
  t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-20).join('\n')}`);
  const output = result.output as { regions: Array<{ region: string; status: string }>; summary: string };
  t.deepEqual(
    output.regions.map((r) => `${r.region}:${r.status}`),
    [`${US}:rolled-back`, `${EU}:nothing-to-do`],
  );
  t.regex(output.summary, new RegExp(`rollout ${rolloutId} us-east-1 web-prod-v\\d+; eu-west-1 nothing-to-do`));
  t.deepEqual(
    await enabledVersions(),
    { [US]: ['2.0.0'], [EU]: ['1.0.0'] },
    'us-east-1 back on v2, eu-west-1 untouched',
  );
});

test.serial('a good v3: both on v3, the previous groups scaled down at the end', async (t) => {
  const running = probes();
  const result = await env.deploy(rolloutInput('3.0.0', pick('3.0.0')));
  const reports = await stopAll(running);
  t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
  for (const region of REGIONS) {
    t.is(reports[region]!.failed, 0, `${region}: ${JSON.stringify(reports[region]!.failures)}`);
    t.deepEqual(servingAtEnd(reports[region]!), ['3.0.0'], region);
  }
  t.deepEqual(await enabledVersions(), { [US]: ['3.0.0'], [EU]: ['3.0.0'] });
  for (const region of REGIONS) {
    const { groups } = await loadCluster(awsClients(region), 'web-prod');
    const disabled = groups.filter((g) => !g.enabled);
    t.true(
      disabled.every((g) => g.capacity.desired === 0),
      `${region}: ${disabled.map((g) => `${g.name}:${g.capacity.desired}`).join(', ')}\n${env.lines.slice(-40).join('\n')}`,
    );
  }
});

test.serial(
  "a cross-account region: its calls carry the assumed role's key, the other region's the base key",
  async (t) => {
    const credentialsUrl = `${env.sandbox.endpoint}/_sandbox/credentials`;
    await fetch(credentialsUrl, { method: 'DELETE' });
    const input = rolloutInput('1.0.0', pick('1.0.0'));
    const regions = input.regions as Record<string, Record<string, unknown>>;
    regions[EU] = { ...regions[EU], roleArn: 'arn:aws:iam::123456789012:role/deployer', externalId: 'web-team-7f3a' };
    const running = probes();
    const result = await env.deploy(input);
    const reports = await stopAll(running);
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
    for (const region of REGIONS) {
      t.is(reports[region]!.failed, 0, `${region}: ${JSON.stringify(reports[region]!.failures)}`);
      t.deepEqual(servingAtEnd(reports[region]!), ['1.0.0'], region);
    }
    t.deepEqual(await enabledVersions(), { [US]: ['1.0.0'], [EU]: ['1.0.0'] });
    const { body } = await getJson(credentialsUrl);
    const uses = body?.uses as CredentialUse[];
    // The changes a deploy makes (the sandbox's own refresh reads groups and target health with the base key too).
    const keysOf = (region: string, service: string) =>
      new Set(
        uses
          .filter((u) => u.region === region && u.call.startsWith(`${service}:`) && !/:Describe/.test(u.call))
          .map((u) => u.accessKeyId),
      );
    const base = process.env.AWS_ACCESS_KEY_ID;
    t.deepEqual([...keysOf(US, 'autoscaling')], [base], 'us-east-1: the environment credentials');
    const euKeys = [...keysOf(EU, 'autoscaling')];
    t.is(euKeys.length, 1, JSON.stringify(uses.filter((u) => u.region === EU)));
    t.not(euKeys[0], base, "eu-west-1: the assumed role's key");
    t.true(
      uses.some((u) => u.accessKeyId === base && u.call === 'sts:AssumeRole' && u.region === EU),
      'AssumeRole signed with the environment credentials',
    );
    t.false(
      (JSON.stringify(result.output) + env.lines.join('\n')).includes('web-team-7f3a'),
      'the external id is never written',
    );
  },
);

test.serial('one wave: both regions deploy at the same time (each its own lock), 0 failed', async (t) => {
  t.deepEqual(await enabledVersions(), { [US]: ['1.0.0'], [EU]: ['1.0.0'] });
  const running = probes();
  const result = await env.deploy(rolloutInput('3.0.0', pick('3.0.0'), { waves: [[US, EU]] }));
  const reports = await stopAll(running);
  t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
  for (const region of REGIONS) {
    t.is(reports[region]!.failed, 0, `${region}: ${JSON.stringify(reports[region]!.failures)}`);
    t.deepEqual(servingAtEnd(reports[region]!), ['3.0.0'], region);
  }
  // The ledger's times: each region's deploy started before the other's ended (neither waited for the other's lock).
  const { rolloutId } = result.output as { rolloutId: string };
  const records = await listRecords(env.aws, rolloutInput('3.0.0', pick('3.0.0')).ledger, 'web-prod', { limit: 50 });
  const deployOf = (region: string) =>
    records.find((r) => r.rolloutId === rolloutId && r.region === region && r.kind === 'deploy' && r.finishedAt);
  const us = deployOf(US);
  const eu = deployOf(EU);
  t.truthy(us && eu, JSON.stringify(records.filter((r) => r.rolloutId === rolloutId)));
  t.true(Date.parse(us!.startedAt) < Date.parse(eu!.finishedAt!), 'us-east-1 started before eu-west-1 finished');
  t.true(Date.parse(eu!.startedAt) < Date.parse(us!.finishedAt!), 'eu-west-1 started before us-east-1 finished');
  // Back on v1 for the tests that follow.
  const back = await env.deploy(rolloutInput('1.0.0', pick('1.0.0'), { waves: [[US, EU]] }));
  t.is(back.exitCode, 0, JSON.stringify(back.output));
});

/** The environment of a stage bundle run as Jenkins would (a separate process: a failpoint kills it, not the test). */
function bundleEnv(failpoint = ''): Record<string, string> {
  return {
    ...env.sandbox.env(),
    BLUEGREEN_POLL_MIN_MS: String(1000 * TEST_TIME_SCALE),
    BLUEGREEN_POLL_MAX_MS: String(10000 * TEST_TIME_SCALE),
    BLUEGREEN_TIME_SCALE: String(TEST_TIME_SCALE),
    BLUEGREEN_FAILPOINTS: failpoint,
  };
}

/** Waits (bounded) until the killed rollout's lock lease has ended on S3's clock: nobody renews it. */
async function rolloutLockExpired(ledger: { bucket: string; prefix: string; region: string }): Promise<boolean> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const lock = await readLock(env.aws, ledger, 'web-prod');
    if (lock === null || lock.expired) return true;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return false;
}

/** A rollout to both regions killed (kill -9) after its first wave: us-east-1 on `version`, eu-west-1 untouched. */
async function killBetweenWaves(t: import('ava').ExecutionContext, version: string, before: string) {
  const killed = await runStageBundle(
    'deploy',
    // A rollout killed before this one left its (expired) rollout lock: taken over as after any kill -9.
    rolloutInput(version, pick(version), { lockLease: '5s', breakExpiredLock: true }),
    bundleEnv('rollout-between-waves'),
  );
  t.not(killed.exitCode, 0, 'the rollout was killed');
  t.regex(killed.stderr, /failpoint rollout-between-waves/);
  t.deepEqual(await enabledVersions(), { [US]: [version], [EU]: [before] }, 'killed between the waves');
  const status = await getClusterStatus(awsClients(US), 'web-prod');
  t.deepEqual(
    status.unfinished.map((u) => u.nextRunWill),
    ['roll-back'],
    `us-east-1 waits for the rollout's verdict: ${JSON.stringify(status.unfinished)}`,
  );
  t.true(await rolloutLockExpired(rolloutInput(version, pick(version)).ledger), 'the rollout lock lease ended');
}

test.serial(
  'kill -9 between waves, then a cleanup in each region: every region back on what it served before, 0 failed',
  async (t) => {
    t.deepEqual(await enabledVersions(), { [US]: ['1.0.0'], [EU]: ['1.0.0'] });
    const running = probes();
    await killBetweenWaves(t, '2.0.0', '1.0.0');
    const { ledger } = rolloutInput('1.0.0', pick('1.0.0'));
    for (const region of REGIONS) {
      const cleanup = await runStageBundle('cleanup', { cluster: 'web-prod', region, ledger }, bundleEnv());
      t.is(cleanup.exitCode, 0, cleanup.stderr.split('\n').slice(-20).join('\n'));
      if (region === US)
        t.true(
          (cleanup.output?.actions as string[]).some((a) => /rolled back .*re-enabled/.test(a)),
          JSON.stringify(cleanup.output),
        );
      else t.deepEqual(cleanup.output?.actions, [], 'eu-west-1: nothing was left to settle');
    }
    const reports = await stopAll(running);
    t.deepEqual(await enabledVersions(), { [US]: ['1.0.0'], [EU]: ['1.0.0'] }, 'both on what they served before');
    for (const region of REGIONS) {
      t.is(reports[region]!.failed, 0, `${region}: ${JSON.stringify(reports[region]!.failures)}`);
      t.deepEqual(servingAtEnd(reports[region]!), ['1.0.0'], region);
      const status = await getClusterStatus(awsClients(region), 'web-prod');
      t.deepEqual(status.unfinished, [], `${region} settled`);
    }
  },
);

test.serial(
  'kill -9 between waves, then the next rollout: it settles every region and both serve it, 0 failed',
  async (t) => {
    const running = probes();
    await killBetweenWaves(t, '2.0.0', '1.0.0');
    const next = await runStageBundle(
      'deploy',
      rolloutInput('3.0.0', pick('3.0.0'), { breakExpiredLock: true, lockLease: '5s' }),
      bundleEnv(),
    );
    const reports = await stopAll(running);
    t.is(next.exitCode, 0, next.stderr.split('\n').slice(-30).join('\n'));
    const regions = next.output?.regions as Array<{ region: string; deploy: { recovered: string[] } }>;
    t.true(
      regions[0]!.deploy.recovered.some((a) => /rolled back .*re-enabled/.test(a)),
      `us-east-1 was put back first: ${JSON.stringify(regions[0]!.deploy.recovered)}`,
    );
    t.deepEqual(await enabledVersions(), { [US]: ['3.0.0'], [EU]: ['3.0.0'] });
    for (const region of REGIONS) {
      t.is(reports[region]!.failed, 0, `${region}: ${JSON.stringify(reports[region]!.failures)}`);
      t.deepEqual(servingAtEnd(reports[region]!), ['3.0.0'], region);
      const status = await getClusterStatus(awsClients(region), 'web-prod');
      t.deepEqual(status.unfinished, [], `${region} settled`);
    }
  },
);
