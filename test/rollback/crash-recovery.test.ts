import test from 'ava';
import { Tag } from '../../src/aws/tags';
import { UNFINISHED_PHASES } from '../../src/cluster/phases';
import { loadCluster } from '../../src/cluster/server-groups';
import { readLock } from '../../src/ledger';
import { startProbe } from '../../src/sandbox/probe';
import { getClusterStatus } from '../../src/status/cluster-status';
import { desiredOnceDrained, startDeploySandbox, TEST_TIME_SCALE, type DeploySandbox } from '../helpers/deploy-sandbox';
import { runStageBundle } from '../helpers/run-stage';

// kill -9 of a rollback (the bundle, as Jenkins runs it) before and after its cutover; the next
// run's crash recovery understands what it left, and no request fails meanwhile.
let env: DeploySandbox;
const amis = { v1: '', v2: '' };

test.before(async () => {
  env = await startDeploySandbox();
  amis.v1 = await env.ami('v1');
  amis.v2 = await env.ami('v2');
  for (const version of ['v1', 'v2'] as const) {
    const result = await env.deploy({ ...env.baseInput, amiId: amis[version], version, drainTimeout: 30 });
    if (result.exitCode !== 0) throw new Error(`deploy of ${version} failed: ${JSON.stringify(result.output)}`);
  }
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

function bundleEnv(failpoint = ''): Record<string, string> {
  return {
    ...env.sandbox.env(),
    BLUEGREEN_POLL_MIN_MS: String(1000 * TEST_TIME_SCALE),
    BLUEGREEN_POLL_MAX_MS: String(10000 * TEST_TIME_SCALE),
    BLUEGREEN_FAILPOINTS: failpoint,
  };
}

const rollbackInput = (extra: Record<string, unknown>) => ({
  region: 'us-east-1',
  cluster: 'web-prod',
  ledger: env.baseInput.ledger,
  healthTimeout: 60,
  drainTimeout: 30,
  lockLease: '5s',
  ...extra,
});

async function assertSettled(t: import('ava').ExecutionContext, expectedVersion: string): Promise<void> {
  const { groups } = await loadCluster(env.aws, 'web-prod');
  const enabled = groups.filter((g) => g.enabled);
  t.deepEqual(
    enabled.map((g) => g.tags[Tag.version]),
    [expectedVersion],
    'exactly one enabled group',
  );
  for (const group of groups) {
    t.false(
      UNFINISHED_PHASES.has(group.tags[Tag.phase] ?? ''),
      `${group.name} is not mid-run (${group.tags[Tag.phase]})`,
    );
    if (group.enabled) t.is(group.tags[Tag.pinnedFrom], undefined, `${group.name} has no pinned min`);
    else t.is(await desiredOnceDrained(env.aws, group.name), 0, `${group.name} is disabled, at 0 once its drain ended`);
  }
  t.is(
    await readLock(env.aws, env.baseInput.ledger as { bucket: string; prefix: string }, 'web-prod', {
      region: env.aws.region,
    }),
    null,
    'the lock is released',
  );
}

test.serial(
  'kill -9 after the old group was registered, before cutover: status says disable-again; the next rollback disables it, then rolls back',
  async (t) => {
    const traffic = startProbe({ url: env.listenerUrl, concurrency: 4, pauseMs: 5, maxDurationMs: 180_000 });
    const killed = await runStageBundle('rollback', rollbackInput({}), bundleEnv('reenable-registered'));
    t.not(killed.exitCode, 0, 'the rollback was killed');
    t.regex(killed.stderr, /failpoint reenable-registered/);
    const status = await getClusterStatus(env.aws, 'web-prod');
    t.deepEqual(
      status.unfinished.map((u) => [u.serverGroup, u.phase, u.nextRunWill]),
      [['web-prod-v000', 'reenabling', 'disable-again']],
    );

    const next = await runStageBundle(
      'rollback',
      rollbackInput({ breakExpiredLock: true, lockWait: '30s', reason: 'again' }),
      bundleEnv(),
    );
    const report = await traffic.stop();
    t.is(next.exitCode, 0, next.stderr.split('\n').slice(-25).join('\n'));
    t.deepEqual(next.output.recovered.filter((line: string) => /web-prod-v000/.test(line)).slice(0, 1), [
      'disabled web-prod-v000 again (rollback interrupted before cutover)',
    ]);
    t.like(next.output, { mode: 'reenable', rolledBackFrom: 'web-prod-v001', restoredServerGroup: 'web-prod-v000' });
    t.log(
      `recovered: ${JSON.stringify(next.output.recovered)}; probe ${report.total} requests, ${report.failed} failed`,
    );
    t.is(report.failed, 0, JSON.stringify(report.failures));
    await assertSettled(t, 'v1');
  },
);

test.serial(
  'kill -9 after cutover (old group disabled): status says finish; a cleanup run finishes the rollback',
  async (t) => {
    const traffic = startProbe({ url: env.listenerUrl, concurrency: 4, pauseMs: 5, maxDurationMs: 180_000 });
    // Roll forward to v2 and die once v1 is out of the load balancer.
    const killed = await runStageBundle('rollback', rollbackInput({ to: 'v2' }), bundleEnv('after-disable'));
    t.not(killed.exitCode, 0);
    t.regex(killed.stderr, /failpoint after-disable/);
    const status = await getClusterStatus(env.aws, 'web-prod');
    t.deepEqual(
      status.unfinished.map((u) => [u.serverGroup, u.phase, u.nextRunWill]),
      [['web-prod-v001', 'cutover', 'finish']],
    );

    const cleanup = await runStageBundle(
      'cleanup',
      {
        region: 'us-east-1',
        cluster: 'web-prod',
        ledger: env.baseInput.ledger,
        breakExpiredLock: true,
        lockWait: '30s',
        drainTimeout: 30,
      },
      bundleEnv(),
    );
    const report = await traffic.stop();
    t.is(cleanup.exitCode, 0, cleanup.stderr.split('\n').slice(-25).join('\n'));
    t.log(
      `cleanup: ${cleanup.stderr
        .split('\n')
        .filter((l) => /cleanup of/.test(l))
        .join(' ')}; probe ${report.total} requests, ${report.failed} failed`,
    );
    t.is(report.failed, 0, JSON.stringify(report.failures));
    await assertSettled(t, 'v2');
  },
);
