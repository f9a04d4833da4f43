import test from 'ava';
import { DescribeLaunchTemplatesCommand } from '@aws-sdk/client-ec2';
import { Tag } from '../../src/aws/tags';
import { loadCluster } from '../../src/cluster/server-groups';
import { readLock } from '../../src/ledger';
import { startProbe } from '../../src/sandbox/probe';
import { getClusterStatus } from '../../src/status/cluster-status';
import { desiredOnceDrained, startDeploySandbox, TEST_TIME_SCALE, type DeploySandbox } from '../helpers/deploy-sandbox';
import { runStageBundle } from '../helpers/run-stage';

// kill -9 of a deploy at each step, then a new deploy: the cluster converges and no request fails.
let env: DeploySandbox;
let version = 0;
const amis: string[] = [];

test.before(async () => {
  env = await startDeploySandbox();
  for (let i = 1; i <= 9; i += 1) amis.push(await env.ami(`${i}.0.0`));
  const first = await env.deploy({ ...env.baseInput, amiId: amis[0], version: '1.0.0' });
  if (first.exitCode !== 0) throw new Error(`first deploy failed: ${JSON.stringify(first.output)}`);
  version = 1;
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

function bundleEnv(failpoint?: string): Record<string, string> {
  return {
    ...env.sandbox.env(),
    BLUEGREEN_POLL_MIN_MS: String(1000 * TEST_TIME_SCALE),
    BLUEGREEN_POLL_MAX_MS: String(10000 * TEST_TIME_SCALE),
    ...(failpoint ? { BLUEGREEN_FAILPOINTS: failpoint } : { BLUEGREEN_FAILPOINTS: '' }),
  };
}

async function assertConverged(t: import('ava').ExecutionContext, expectedVersion: string): Promise<void> {
  const { groups } = await loadCluster(env.aws, 'web-prod');
  const enabled = groups.filter((g) => g.enabled);
  t.deepEqual(
    enabled.map((g) => g.tags[Tag.version]),
    [expectedVersion],
    'exactly one enabled group, the newest',
  );
  t.is(enabled[0]?.name, groups[groups.length - 1]?.name);
  for (const group of groups) {
    t.is(group.tags[Tag.pinnedFrom], undefined, `${group.name} has no pinned min`);
    t.false(
      ['creating', 'waiting-healthy', 'cutover', 'finishing'].includes(group.tags[Tag.phase] ?? ''),
      `${group.name} is not mid-deploy`,
    );
    if (!group.enabled)
      t.is(await desiredOnceDrained(env.aws, group.name), 0, `${group.name} is disabled, at 0 once its drain ended`);
  }
  t.is(enabled[0]?.capacity.min, 2, 'min unpinned back to 2');
  const templates = await env.aws.ec2.send(new DescribeLaunchTemplatesCommand({}));
  const names = new Set(groups.map((g) => g.name));
  const ours = (templates.LaunchTemplates ?? []).filter((lt) => /^web-prod-v\d{3}$/.test(lt.LaunchTemplateName ?? ''));
  t.deepEqual(
    ours.filter((lt) => !names.has(lt.LaunchTemplateName ?? '')).map((lt) => lt.LaunchTemplateName),
    [],
    'no orphan launch template',
  );
  const ledger = env.baseInput.ledger as { bucket: string; prefix: string };
  t.is(await readLock(env.aws, ledger, 'web-prod', { region: env.aws.region }), null, 'the lock is released');
}

for (const point of ['after-asg-created', 'waiting-healthy', 'after-disable', 'before-scale-down']) {
  test.serial(`kill -9 ${point}, then a new deploy: the cluster converges with 0 failed requests`, async (t) => {
    const traffic = startProbe({ url: env.listenerUrl, concurrency: 4, maxDurationMs: 180_000, maxRequests: 200_000 });
    const killed = await runStageBundle(
      'deploy',
      { ...env.baseInput, amiId: amis[version], version: `${version + 1}.0.0`, lockLease: '5s' },
      bundleEnv(point),
    );
    t.not(killed.exitCode, 0, 'the deploy was killed');
    t.regex(killed.stderr, new RegExp(`failpoint ${point}`));
    const status = await getClusterStatus(env.aws, 'web-prod');
    t.is(status.unfinished.length, 1, `status sees the interrupted deployment: ${JSON.stringify(status.unfinished)}`);
    t.is(
      status.unfinished[0]?.nextRunWill,
      point === 'after-asg-created' || point === 'waiting-healthy' ? 'remove' : 'finish',
    );
    version += 1;
    const next = await runStageBundle(
      'deploy',
      {
        ...env.baseInput,
        amiId: amis[version],
        version: `${version + 1}.0.0`,
        breakExpiredLock: true,
        lockWait: '30s',
        lockLease: '5s',
      },
      bundleEnv(),
    );
    version += 1;
    const report = await traffic.stop();
    t.is(next.exitCode, 0, next.stderr.split('\n').slice(-25).join('\n'));
    t.true((next.output?.recovered ?? []).length > 0, `recovery acted: ${JSON.stringify(next.output?.recovered)}`);
    t.log(
      `recovered: ${JSON.stringify(next.output?.recovered)}; probe ${report.total} requests, ${report.failed} failed`,
    );
    t.is(report.failed, 0, JSON.stringify(report.failures));
    await assertConverged(t, `${version}.0.0`);
  });
}
