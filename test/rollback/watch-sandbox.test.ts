import test from 'ava';
import { Tag } from '../../src/aws/tags';
import { UNFINISHED_PHASES } from '../../src/cluster/phases';
import { loadCluster } from '../../src/cluster/server-groups';
import { listRecords, readLock } from '../../src/ledger';
import type { ProbeReport } from '../../src/sandbox/probe';
import { getClusterStatus } from '../../src/status/cluster-status';
import type { Verification } from '../../src/verify/watch';
import { startDeploySandbox, TEST_TIME_SCALE, type DeploySandbox } from '../helpers/deploy-sandbox';
import { runStageBundle } from '../helpers/run-stage';
import { alarmState, putTargetGroup5xxAlarm, waitFor } from '../sandbox/fixtures';
import { deploy, probeLine, rollback, withProbe } from './helpers';

// The watch after a rollback's cutover (re-enable and redeploy), with a real traffic probe: an alarm
// already firing because of the build rolled away from does not block it nor fail its watch; a
// target that fails real requests is undone; a rollback killed while watching is settled.
let env: DeploySandbox;
const cluster = 'web-prod';
const amis: Record<string, string> = {};
/** The alarm's period: 60 AWS seconds, 3 s real at the test time scale. */
const ALARM_PERIOD_S = 60;
const ledger = () => ({ bucket: env.sandbox.infra!.ledgerBucket, prefix: 'bluegreen' });

async function enabledGroups(): Promise<string[]> {
  const { groups } = await loadCluster(env.aws, cluster);
  return groups.filter((g) => g.enabled).map((g) => g.name);
}

/** Failures the probe saw after `afterMs` (ms since the probe started). */
function failuresAfter(report: ProbeReport, afterMs: number): number {
  return report.failureTimesMs.filter((at) => at > afterMs).length;
}

test.before(async () => {
  env = await startDeploySandbox();
  amis.bad1 = await env.ami('1.5.0-errors', 'ok', { 'sandbox:errors': '0.5' });
  amis.v2 = await env.ami('2.0.0');
  amis.bad3 = await env.ami('3.0.0-errors', 'ok', { 'sandbox:errors': '0.5' });
  amis.v4 = await env.ami('4.0.0');
  amis.bad0 = await env.ami('0.9.0-errors', 'ok', { 'sandbox:errors': '0.5' });
  await putTargetGroup5xxAlarm(env.aws, env.sandbox.infra!, 'web-5xx', ALARM_PERIOD_S);
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

test.serial(
  're-enable of a warm group that fails 50 % of real requests: the error gate catches it, traffic back on the group that served before, exit 1',
  async (t) => {
    const first = await deploy(t, env, { cluster, amiId: amis.bad1, version: '1.5.0-errors' });
    t.is(first.exitCode, 0, JSON.stringify(first.output));
    const second = await deploy(t, env, { cluster, amiId: amis.v2, version: '2.0.0', scaleDownDelay: '10m' });
    t.is(second.exitCode, 0, JSON.stringify(second.output));
    t.deepEqual(second.output.warmServerGroups, ['web-prod-v000']);

    const { result, report } = await withProbe(env, () =>
      rollback(t, env, { cluster, reason: 'test: back to 1.5.0', watch: '30s', scaleDownDelay: '10m' }),
    );
    t.log(`probe: ${probeLine(report)}`);
    t.is(result.exitCode, 1, JSON.stringify(result.output));
    const error = result.output.error as {
      code: string;
      message: string;
      recovery: string;
      verification: Verification;
    };
    t.is(error.code, 'VerificationFailed');
    t.regex(
      error.message,
      /web-prod-v000 \(the rollback's target\) failed its watch at .*gate: error rate [\d.]+ % .* above maxErrorRate 5\.0 %/,
    );
    t.regex(error.message, /Put back: web-prod-v001 serving again .*web-prod-v000 disabled again/);
    t.regex(error.recovery, /deploy a fixed build|to:/);
    t.is(error.verification.verdict, 'failed');
    t.is(error.verification.baseline, null, 'no baseline: the group rolled away from is no reference');
    // Traffic is back on the group that served before the rollback; the bad one is disabled, kept (not deleted).
    t.deepEqual(await enabledGroups(), ['web-prod-v001']);
    const status = await getClusterStatus(env.aws, cluster);
    const bad = status.serverGroups.find((g) => g.name === 'web-prod-v000');
    t.is(bad?.state, 'disabled');
    t.deepEqual(status.unfinished, []);
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['2.0.0']);
    // Failures only while the restored group served: none once traffic was back.
    const span = report.versionSpans['1.5.0-errors'];
    t.truthy(span, 'the restored group served');
    t.true(report.failed > 0);
    t.is(failuresAfter(report, (span?.lastMs ?? 0) + 500), 0, JSON.stringify(report.failureTimesMs.slice(-5)));
    const [record] = await listRecords(env.aws, ledger(), cluster, { limit: 1 });
    t.like(record, { kind: 'rollback', result: 'rolled-back', verdict: 'failed', to: 'web-prod-v000' });
  },
);

test.serial(
  'an alarm in ALARM because of the bad current build: the rollback is not blocked, its watch judges the restored group on its own data and passes (exit 0)',
  async (t) => {
    // 2.0.0 serves, 1.5.0 is disabled; deploy the bad 3.0.0 with no watch: it reaches production.
    const bad = await deploy(t, env, { cluster, amiId: amis.bad3, version: '3.0.0-errors', scaleDownDelay: '10m' });
    t.is(bad.exitCode, 0, JSON.stringify(bad.output));
    t.is(bad.output.serverGroup, 'web-prod-v002');
    const { result, report } = await withProbe(env, async () => {
      await waitFor(
        'web-5xx in ALARM',
        async () => ((await alarmState(env.aws, 'web-5xx')) === 'ALARM' ? true : undefined),
        60_000,
        200,
      );
      return rollback(t, env, {
        cluster,
        reason: 'test: 3.0.0 fails requests',
        alarms: ['web-5xx'],
        watch: '2s',
        scaleDownDelay: '10m',
      });
    });
    t.log(`probe: ${probeLine(report)}`);
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    t.like(result.output, { mode: 'reenable', rolledBackFrom: 'web-prod-v002', restoredServerGroup: 'web-prod-v001' });
    const verification = (result.output as unknown as { verification: Verification }).verification;
    t.is(verification.verdict, 'passed');
    // The watch lasts at least the alarm's evaluation window, so its verdict rests on the restored group's data.
    t.true(
      verification.watchSeconds * 1000 >= 4 * ALARM_PERIOD_S * 1000 * TEST_TIME_SCALE,
      JSON.stringify(verification),
    );
    t.is(verification.steps[0]?.alarms[0]?.state, 'OK', 'the alarm cleared on the restored group alone');
    t.deepEqual(result.output.warmServerGroups, ['web-prod-v002'], 'the group rolled away from stayed warm');
    t.deepEqual(await enabledGroups(), ['web-prod-v001']);
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['2.0.0']);
    // Failures come from 3.0.0 before the cutover, none after.
    const span = report.versionSpans['3.0.0-errors'];
    t.truthy(span);
    t.is(failuresAfter(report, (span?.lastMs ?? 0) + 500), 0, JSON.stringify(report.failureTimesMs.slice(-5)));
    const [record] = await listRecords(env.aws, ledger(), cluster, { limit: 1 });
    t.like(record, { kind: 'rollback', result: 'succeeded', verdict: 'passed', to: 'web-prod-v001' });
  },
);

test.serial(
  'kill -9 during a rollback watch: status says finish; the next cleanup keeps the restored group (one group enabled), 0 failed requests',
  async (t) => {
    const good = await deploy(t, env, { cluster, amiId: amis.v4, version: '4.0.0', scaleDownDelay: '10m' });
    t.is(good.exitCode, 0, JSON.stringify(good.output));
    t.is(good.output.serverGroup, 'web-prod-v003');
    const { result, report } = await withProbe(env, async () => {
      const killed = await runStageBundle(
        'rollback',
        {
          region: env.aws.region,
          cluster,
          ledger: ledger(),
          to: 'web-prod-v001',
          reason: 'test: killed while watching',
          watch: '60s',
          lockLease: '5s',
          drainTimeout: 30,
        },
        {
          ...env.sandbox.env(),
          BLUEGREEN_POLL_MIN_MS: String(1000 * TEST_TIME_SCALE),
          BLUEGREEN_POLL_MAX_MS: String(10000 * TEST_TIME_SCALE),
          BLUEGREEN_FAILPOINTS: 'watching',
        },
      );
      t.regex(killed.stderr, /failpoint watching: killing this process/);
      const status = await getClusterStatus(env.aws, cluster);
      t.deepEqual(
        status.unfinished.map((u) => [u.serverGroup, u.phase, u.nextRunWill]),
        [['web-prod-v001', 'watching', 'finish']],
      );
      const from = status.serverGroups.find((g) => g.name === 'web-prod-v003');
      t.is(from?.state, 'disabled');
      t.is(from?.capacity.desired, 2, 'the group rolled away from is still at full capacity');
      return runStageBundle(
        'cleanup',
        {
          region: env.aws.region,
          cluster,
          ledger: ledger(),
          breakExpiredLock: true,
          lockWait: '30s',
          drainTimeout: 30,
        },
        { ...env.sandbox.env(), BLUEGREEN_POLL_MIN_MS: '50', BLUEGREEN_POLL_MAX_MS: '500' },
      );
    });
    t.log(`probe: ${probeLine(report)}`);
    t.is(result.exitCode, 0, result.stderr.split('\n').slice(-25).join('\n'));
    t.true(
      (result.output.actions as string[]).some((a) => a.startsWith('finished web-prod-v001')),
      JSON.stringify(result.output),
    );
    const { groups } = await loadCluster(env.aws, cluster);
    t.deepEqual(
      groups.filter((g) => g.enabled).map((g) => g.name),
      ['web-prod-v001'],
    );
    for (const group of groups) {
      t.false(UNFINISHED_PHASES.has(group.tags[Tag.phase] ?? ''), `${group.name}: ${group.tags[Tag.phase]}`);
      t.is(group.tags[Tag.watchUntil], undefined);
      if (group.enabled) t.is(group.tags[Tag.pinnedFrom], undefined, `${group.name} has no pinned min`);
    }
    t.is(await readLock(env.aws, ledger(), cluster, { region: env.aws.region }), null, 'the lock is released');
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['2.0.0']);
    const records = await listRecords(env.aws, ledger(), cluster, { limit: 3 });
    t.true(
      records.some((r) => r.kind === 'recovery' && r.verdict === 'interrupted' && r.result === 'recovered'),
      JSON.stringify(records),
    );
  },
);

test.serial(
  'redeploy of an AMI that fails 50 % of real requests: the error gate catches it, the new group is removed, traffic back on the group that served before, exit 1',
  async (t) => {
    t.deepEqual(await enabledGroups(), ['web-prod-v001']);
    const { result, report } = await withProbe(env, () =>
      rollback(t, env, { cluster, to: amis.bad0, reason: 'test: back to 0.9.0', watch: '30s' }),
    );
    t.log(`probe: ${probeLine(report)}`);
    t.is(result.exitCode, 1, JSON.stringify(result.output));
    const error = result.output.error as { code: string; message: string; recovery: string; serverGroup: string };
    t.is(error.code, 'VerificationFailed');
    t.regex(
      error.message,
      /\(the rollback's target\) failed its watch at .*gate: error rate .*Put back: web-prod-v001 serving again .* removed/,
    );
    t.regex(error.recovery, /roll back further/);
    t.deepEqual(await enabledGroups(), ['web-prod-v001']);
    const { groups } = await loadCluster(env.aws, cluster);
    t.false(
      groups.some((g) => g.name === error.serverGroup),
      'the group the redeploy made was removed',
    );
    const span = report.versionSpans['0.9.0-errors'];
    t.truthy(span, 'the redeployed build served');
    t.is(failuresAfter(report, (span?.lastMs ?? 0) + 500), 0, JSON.stringify(report.failureTimesMs.slice(-5)));
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['2.0.0']);
    const [record] = await listRecords(env.aws, ledger(), cluster, { limit: 1 });
    t.like(record, { kind: 'rollback', result: 'rolled-back', verdict: 'failed', amiId: amis.bad0 });
  },
);

test.serial(
  'an alarm in ALARM at the start and a target that is bad too: it counts once its evaluation window has passed on the target alone; the group that served before is put back, exit 1',
  async (t) => {
    // 3.0.0 (bad) serves again, with no watch: the alarm fires on it.
    const { result } = await withProbe(env, async () => {
      const toBad = await rollback(t, env, { cluster, to: 'web-prod-v002', reason: 'test: 3.0.0 again' });
      t.is(toBad.exitCode, 0, JSON.stringify(toBad.output));
      await waitFor(
        'web-5xx in ALARM',
        async () => ((await alarmState(env.aws, 'web-5xx')) === 'ALARM' ? true : undefined),
        60_000,
        200,
      );
      return rollback(t, env, {
        cluster,
        to: '1.5.0-errors',
        reason: 'test: 1.5.0 is bad too',
        alarms: ['web-5xx'],
        gates: false,
        watch: '2s',
      });
    });
    t.is(result.exitCode, 1, JSON.stringify(result.output));
    const error = result.output.error as {
      code: string;
      message: string;
      recovery: string;
      verification: Verification;
    };
    t.is(error.code, 'VerificationFailed');
    t.regex(error.message, /alarm web-5xx still in ALARM \d+s after the cutover \(past its evaluation window of \d+s/);
    t.regex(error.recovery, /deploy a fixed build, or roll back further/);
    t.deepEqual(await enabledGroups(), ['web-prod-v002'], 'the group that served before the rollback is back');
    t.deepEqual((await getClusterStatus(env.aws, cluster)).unfinished, []);
  },
);

test.serial(
  'kill -9 during a rollback watch, then another rollback: its recovery finishes the first, then it rolls forward, one group enabled, 0 failed requests',
  async (t) => {
    const good = await deploy(t, env, { cluster, amiId: amis.v4, version: '4.0.0' });
    t.is(good.exitCode, 0, JSON.stringify(good.output));
    const v4Group = good.output.serverGroup;
    const { result, report } = await withProbe(env, async () => {
      const killed = await runStageBundle(
        'rollback',
        {
          region: env.aws.region,
          cluster,
          ledger: ledger(),
          to: '2.0.0',
          reason: 'test: killed while watching',
          watch: '60s',
          lockLease: '5s',
          drainTimeout: 30,
        },
        {
          ...env.sandbox.env(),
          BLUEGREEN_POLL_MIN_MS: String(1000 * TEST_TIME_SCALE),
          BLUEGREEN_POLL_MAX_MS: String(10000 * TEST_TIME_SCALE),
          BLUEGREEN_FAILPOINTS: 'watching',
        },
      );
      t.regex(killed.stderr, /failpoint watching: killing this process/);
      return rollback(t, env, {
        cluster,
        to: '4.0.0',
        reason: 'test: forward again',
        breakExpiredLock: true,
        lockWait: '30s',
      });
    });
    t.log(`probe: ${probeLine(report)}`);
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    t.true(
      result.output.recovered.some((a) => /^finished web-prod-v\d+/.test(a)),
      JSON.stringify(result.output.recovered),
    );
    t.like(result.output, { mode: 'reenable', restoredServerGroup: v4Group });
    t.deepEqual(await enabledGroups(), [v4Group]);
    const { groups } = await loadCluster(env.aws, cluster);
    for (const group of groups) {
      t.false(UNFINISHED_PHASES.has(group.tags[Tag.phase] ?? ''), `${group.name}: ${group.tags[Tag.phase]}`);
      t.is(group.tags[Tag.watchedBy], undefined);
    }
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['4.0.0']);
  },
);
