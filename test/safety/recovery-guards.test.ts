import test from 'ava';
import { TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { Tag } from '../../src/aws/tags';
import { UNFINISHED_PHASES } from '../../src/cluster/phases';
import { loadCluster } from '../../src/cluster/server-groups';
import { readLock } from '../../src/ledger';
import { startProbe } from '../../src/sandbox/probe';
import { executeStage } from '../../src/stages/framework';
import { cleanupStage } from '../../src/stages/cleanup';
import { rollbackStage } from '../../src/stages/rollback';
import { startDeploySandbox, TEST_TIME_SCALE, type DeploySandbox } from '../helpers/deploy-sandbox';
import { runStageBundle } from '../helpers/run-stage';
import { waitFor } from '../sandbox/fixtures';

// Automatic rollback, crash recovery and rollback where they used to strand a cluster.
let env: DeploySandbox;
const amis: Record<string, string> = {};
type ErrorOutput = { error: { code: string; message: string; recovery?: string } };

test.before(async () => {
  env = await startDeploySandbox();
  for (const version of ['1.0.0', '2.0.0', '3.0.0', '4.0.0']) amis[version] = await env.ami(version);
  amis.half = await env.ami('9.0.0-half', 'partial:0.5');
  for (const version of ['1.0.0', '2.0.0']) {
    const result = await env.deploy({ ...env.baseInput, amiId: amis[version], version });
    if (result.exitCode !== 0)
      throw new Error(`deploy of ${version} failed: ${JSON.stringify(result.output)}\n${env.lines.join('\n')}`);
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

const ledger = () => env.baseInput.ledger as { bucket: string; prefix: string };

test.serial('automatic rollback drains the new group before deleting it: no in-flight request is cut', async (t) => {
  // Slow requests (400 ms each) are in flight on the new group's healthy half when the deploy gives up.
  const traffic = startProbe({
    url: `${env.listenerUrl}?delay=400`,
    concurrency: 6,
    maxDurationMs: 120_000,
    maxRequests: 50_000,
  });
  const result = await env.deploy({ ...env.baseInput, amiId: amis.half, version: '9.0.0-half', healthTimeout: '8s' });
  const report = await traffic.stop();
  t.is(result.exitCode, 1, JSON.stringify(result.output));
  t.regex((result.output as ErrorOutput).error.message, /Rolled back automatically/);
  t.true(
    (report.perVersion['9.0.0-half'] ?? 0) > 0,
    `the healthy half of the new group took traffic: ${JSON.stringify(report.perVersion)}`,
  );
  t.is(report.failed, 0, JSON.stringify(report.failures));
  t.deepEqual(
    (await loadCluster(env.aws, 'web-prod')).groups.map((g) => g.tags[Tag.version]),
    ['1.0.0', '2.0.0'],
    'the new group is gone',
  );
});

test.serial(
  "recovery settles an interrupted deploy with that deploy's scaleDownDelay and keepPrevious, not the recovering run's",
  async (t) => {
    const killed = await runStageBundle(
      'deploy',
      {
        ...env.baseInput,
        amiId: amis['3.0.0'],
        version: '3.0.0',
        scaleDownDelay: '1h',
        keepPrevious: 0,
        lockLease: '5s',
      },
      bundleEnv('cutover-started'),
    );
    t.not(killed.exitCode, 0);
    t.regex(killed.stderr, /failpoint cutover-started/);
    // A cleanup with its own defaults (scaleDownDelay 0, keepPrevious 2) finishes it.
    const cleanup = await executeStage(
      cleanupStage,
      { region: 'us-east-1', cluster: 'web-prod', ledger: ledger(), breakExpiredLock: true, lockWait: '30s' },
      env.log,
    );
    t.is(cleanup.exitCode, 0, `${JSON.stringify(cleanup.output)}\n${env.lines.slice(-20).join('\n')}`);
    const { groups } = await loadCluster(env.aws, 'web-prod');
    const byVersion = Object.fromEntries(groups.map((g) => [g.tags[Tag.version], g]));
    t.is(byVersion['3.0.0']?.enabled, true);
    t.is(byVersion['2.0.0']?.enabled, false);
    t.is(
      byVersion['2.0.0']?.capacity.desired,
      2,
      'the interrupted deploy asked for a 1 h warm window: the previous group still runs',
    );
    t.true(
      Date.parse(byVersion['2.0.0']?.tags[Tag.scaleDownAfter] ?? '') > Date.now() + 30 * 60_000,
      'warm until about an hour from now',
    );
    t.is(
      byVersion['1.0.0'],
      undefined,
      'keepPrevious 0 of the interrupted deploy: the older disabled group was destroyed',
    );
  },
);

test.serial(
  'a crash after cutover onto a group that then turns unhealthy: deploy exits 3 with mins unpinned, and the rollback it recommends restores the previous group',
  async (t) => {
    const killed = await runStageBundle(
      'deploy',
      { ...env.baseInput, amiId: amis['4.0.0'], version: '4.0.0', lockLease: '5s' },
      bundleEnv('after-disable'),
    );
    t.regex(killed.stderr, /failpoint after-disable/);
    // The new build goes bad after the cutover: its instances are replaced by ones that fail their health check.
    await env.aws.ec2.send(
      new CreateTagsCommand({ Resources: [amis['4.0.0'] as string], Tags: [{ Key: 'sandbox:health', Value: 'fail' }] }),
    );
    const bad = (await loadCluster(env.aws, 'web-prod')).groups.find((g) => g.tags[Tag.version] === '4.0.0')?.asg;
    t.truthy(bad, 'the interrupted deploy made a group for 4.0.0');
    for (const instance of bad?.Instances ?? []) {
      await env.aws.autoScaling.send(
        new TerminateInstanceInAutoScalingGroupCommand({
          InstanceId: instance.InstanceId,
          ShouldDecrementDesiredCapacity: false,
        }),
      );
    }
    await waitFor(
      'the replacement instances to be reported unhealthy',
      async () => {
        const { groups, health } = await loadCluster(env.aws, 'web-prod');
        const group = groups.find((g) => g.name === bad?.AutoScalingGroupName);
        const ids = new Set(group?.instances.map((i) => i.id));
        const states = [...health.values()]
          .flat()
          .filter((d) => ids.has(d.Target?.Id ?? ''))
          .map((d) => d.TargetHealth?.State);
        return states.length > 0 && states.every((s) => s === 'unhealthy') ? true : undefined;
      },
      60_000,
      200,
    );

    const deploy = await env.deploy({
      ...env.baseInput,
      amiId: amis['1.0.0'],
      version: '1.0.1',
      breakExpiredLock: true,
      lockWait: '30s',
      healthTimeout: '5s',
    });
    t.is(deploy.exitCode, 3, JSON.stringify(deploy.output));
    const error = (deploy.output as ErrorOutput).error;
    t.is(error.code, 'NeedsOperator');
    t.regex(String(error.recovery), /rollback/);
    for (const group of (await loadCluster(env.aws, 'web-prod')).groups) {
      t.is(group.tags[Tag.pinnedFrom], undefined, `${group.name}: no min left pinned before the exit`);
    }

    const rollback = await executeStage(
      rollbackStage,
      {
        region: 'us-east-1',
        cluster: 'web-prod',
        ledger: ledger(),
        healthTimeout: '60s',
        breakExpiredLock: true,
        lockWait: '30s',
      },
      env.log,
    );
    t.is(rollback.exitCode, 0, `${JSON.stringify(rollback.output)}\n${env.lines.slice(-25).join('\n')}`);
    const after = startProbe({ url: env.listenerUrl, concurrency: 4, maxDurationMs: 3_000, maxRequests: 5_000 });
    const report = await after.done;
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(Object.keys(report.perVersion), ['3.0.0'], 'the previous version serves again');
    const { groups } = await loadCluster(env.aws, 'web-prod');
    for (const group of groups) {
      t.false(
        UNFINISHED_PHASES.has(group.tags[Tag.phase] ?? ''),
        `${group.name} is not left mid-deploy (${group.tags[Tag.phase]})`,
      );
      t.is(group.tags[Tag.pinnedFrom], undefined);
    }
    t.deepEqual(
      groups.filter((g) => g.enabled).map((g) => g.tags[Tag.version]),
      ['3.0.0'],
    );
    t.is(await readLock(env.aws, ledger(), 'web-prod', { region: env.aws.region }), null, 'the lock is released');
  },
);
