import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import type { Verification } from '../../src/verify/watch';
import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DEMO_HEALTH_CHECK } from '../../src/sandbox/demo-infra';
import { startProbe } from '../../src/sandbox/probe';
import { Tag } from '../../src/aws/tags';
import { loadCluster } from '../../src/cluster/server-groups';
import { cleanupStage } from '../../src/stages/cleanup';
import { executeStage } from '../../src/stages/framework';
import { historyStage } from '../../src/stages/history';
import { rollbackStage } from '../../src/stages/rollback';
import { formatClusterStatus, getClusterStatus } from '../../src/status/cluster-status';
import { startDeploySandbox, TEST_TIME_SCALE, type DeploySandbox } from '../helpers/deploy-sandbox';
import { runStageBundle } from '../helpers/run-stage';
import { alarmState, putTargetGroup5xxAlarm, waitFor } from '../sandbox/fixtures';
import { awsCliV2 } from '../helpers/aws-cli';

// The watch after cutover, measured with a real traffic probe through the sandbox load balancer.
let env: DeploySandbox;
const amis: Record<string, string> = {};
const run = promisify(execFile);
/** The alarm's period: 60 AWS seconds, 3 s real at the test time scale. */
const ALARM_PERIOD_S = 60;
const POLL_MS = 10_000 * TEST_TIME_SCALE;

test.before(async () => {
  env = await startDeploySandbox();
  amis.v1 = await env.ami('1.0.0');
  amis.v2 = await env.ami('2.0.0');
  amis.v3 = await env.ami('3.2.0');
  amis.bad = await env.ami('3.0.0-errors', 'ok', { 'sandbox:errors': '0.5' });
  amis.slow = await env.ami('3.1.0-slow', 'ok', { 'sandbox:latency': '400' });
  const first = await env.deploy({ ...env.baseInput, amiId: amis.v1, version: '1.0.0' });
  if (first.exitCode !== 0)
    throw new Error(`first deploy failed: ${JSON.stringify(first.output)}\n${env.lines.join('\n')}`);
  const infra = env.sandbox.infra!;
  await putTargetGroup5xxAlarm(env.aws, infra, 'web-5xx', ALARM_PERIOD_S);
  // Breaching from the start: a heartbeat metric nobody sends.
  await env.aws.cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'heartbeat',
      Namespace: 'App',
      MetricName: 'Heartbeat',
      Statistic: 'SampleCount',
      Period: ALARM_PERIOD_S,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    }),
  );
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

function probe() {
  return startProbe({ url: env.listenerUrl, concurrency: 4, maxDurationMs: 240_000, maxRequests: 500_000 });
}

test.serial(
  'an alarm already in ALARM at the start: exit 3 before any change, no mutating AWS call; the AWS CLI v2 reads the state',
  async (t) => {
    const cli = await run(
      awsCliV2(),
      [
        '--endpoint-url',
        env.sandbox.endpoint,
        '--output',
        'json',
        'cloudwatch',
        'describe-alarms',
        '--alarm-names',
        'heartbeat',
        'web-5xx',
      ],
      {
        env: { ...process.env, ...env.sandbox.env() },
      },
    );
    const states = Object.fromEntries(
      (JSON.parse(cli.stdout) as { MetricAlarms: Array<{ AlarmName: string; StateValue: string }> }).MetricAlarms.map(
        (a) => [a.AlarmName, a.StateValue],
      ),
    );
    t.deepEqual(states, { heartbeat: 'ALARM', 'web-5xx': 'OK' });
    env.sandbox.resetCalls();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis.v2,
      version: '2.0.0',
      alarms: ['web-5xx', 'heartbeat'],
      watch: '5s',
    });
    t.is(result.exitCode, 3, JSON.stringify(result.output));
    const error = (result.output as { error: Record<string, unknown> }).error;
    t.is(error.code, 'AlarmInAlarm');
    t.regex(String(error.message), /heartbeat/);
    t.notRegex(String(error.message), /web-5xx/);
    t.is(env.sandbox.calls().mutating, 0, JSON.stringify(env.sandbox.calls().calls));
    const missing = await env.deploy({
      ...env.baseInput,
      amiId: amis.v2,
      version: '2.0.0',
      alarms: ['no-such-alarm'],
      watch: '5s',
    });
    t.is(missing.exitCode, 2, JSON.stringify(missing.output));
    t.is(env.sandbox.calls().mutating, 0);
  },
);

test.serial(
  'a good build with the 5XX alarm passes its watch (exit 0); the previous group is scaled down after it',
  async (t) => {
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis.v2,
      version: '2.0.0',
      alarms: ['web-5xx'],
      watch: '4s',
    });
    const report = await traffic.stop();
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-20).join('\n')}`);
    const output = result.output as {
      previousServerGroup: string;
      scaledDownServerGroups: string[];
      verification: {
        verdict: string;
        steps: Array<{
          verdict: string;
          alarms: Array<{ name: string; state: string }>;
          requests: number;
          polls: number;
        }>;
      };
    };
    t.is(output.verification.verdict, 'passed');
    t.is(output.verification.steps[0]?.alarms[0]?.state, 'OK');
    t.true((output.verification.steps[0]?.polls ?? 0) >= 2);
    t.true((output.verification.steps[0]?.requests ?? 0) > 0, "the gates saw the new group's requests");
    t.deepEqual(output.scaledDownServerGroups, [output.previousServerGroup]);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.true(
      env.lines.some((line) =>
        /watch cutover of web-prod-v001: alarms web-5xx=OK; \d+ requests, 0 errors \(0\.0 %\).*s left/.test(line),
      ),
      'a log line each poll',
    );
  },
);

test.serial(
  'a build failing 50 % of requests behind a healthy /health: the 5XX alarm rolls it back (exit 1), traffic back on the previous version within the alarm floor',
  async (t) => {
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis.bad,
      version: '3.0.0-errors',
      alarms: ['web-5xx'],
      gates: false,
      watch: '40s',
    });
    // After the deploy returns: nothing fails any more.
    await sleep(1_500);
    const report = await traffic.stop();
    t.is(result.exitCode, 1, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
    const error = (result.output as { error: { code: string; message: string; verification: Verification } }).error;
    t.is(error.code, 'VerificationFailed');
    t.regex(String(error.message), /alarm web-5xx in ALARM since .*Threshold Crossed/);
    const step = error.verification.steps[0]!;
    t.is(step.verdict, 'failed');
    t.is(error.verification.verdict, 'failed');
    // Floor: the alarm's period × datapoints to alarm, plus one poll; then two polls, then the previous group's health checks.
    const floorMs = ALARM_PERIOD_S * 1 * TEST_TIME_SCALE * 1000 + POLL_MS;
    const recheckMs = DEMO_HEALTH_CHECK.intervalSeconds * DEMO_HEALTH_CHECK.healthyThreshold * TEST_TIME_SCALE * 1000;
    const boundMs = floorMs + 2 * POLL_MS + recheckMs;
    const span = report.versionSpans['3.0.0-errors'];
    t.truthy(span, 'the bad build served');
    const badMs = (span?.lastMs ?? 0) - (span?.firstMs ?? 0);
    t.log(
      `bad build served ${badMs} ms (bound ${boundMs} ms + slack); breach → previous serving ${step.previousServingMs} ms, → traffic back ${step.trafficBackMs} ms; ${report.failed} of ${report.total} failed`,
    );
    t.true(
      (step.trafficBackMs ?? Infinity) <= 2 * POLL_MS + recheckMs + 3_000,
      `traffic back ${step.trafficBackMs} ms after the breach`,
    );
    t.true(badMs <= boundMs * 2 + 3_000, `the bad build served ${badMs} ms`);
    // Failures only while the bad build served.
    const lastFailure = Math.max(...report.failedSamples.map((s) => s.atMs));
    t.true(report.failed > 0);
    t.true(
      report.failedSamples.every((s) => s.atMs >= (span?.firstMs ?? 0) - 500),
      'no failure before the bad build served',
    );
    t.true(
      report.failed <= 100 ? lastFailure <= (span?.lastMs ?? 0) + 500 : true,
      'no failure after the bad build stopped serving',
    );
    const lastMix = report.timeline[report.timeline.length - 1];
    t.deepEqual(lastMix?.versions, ['2.0.0'], 'traffic ends on the previous version');
    const status = await getClusterStatus(env.aws, 'web-prod');
    t.deepEqual(
      status.serverGroups.filter((g) => g.state === 'enabled').map((g) => `${g.name}:${g.capacity.desired}`),
      ['web-prod-v001:2'],
    );
    t.false(
      status.serverGroups.some((g) => g.name === 'web-prod-v002'),
      'the bad group was removed',
    );
  },
);

test.serial(
  'a latency regression (400 ms) is caught by the built-in latency gate, no alarm set up: exit 1, rolled back',
  async (t) => {
    // The alarm of the test before may still be in ALARM: this deploy watches no alarm.
    const traffic = probe();
    await waitFor('baseline traffic', async () => (traffic.completed() > 200 ? true : undefined), 30_000, 100);
    const result = await env.deploy({ ...env.baseInput, amiId: amis.slow, version: '3.1.0-slow', watch: '30s' });
    const report = await traffic.stop();
    t.is(result.exitCode, 1, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
    const error = (result.output as { error: { code: string; message: string; verification: Verification } }).error;
    t.is(error.code, 'VerificationFailed');
    t.regex(String(error.message), /gate: latency \d+ ms more than 2× the baseline's \d+ ms/);
    t.true((error.verification.baseline?.requests ?? 0) >= 20);
    t.true((error.verification.steps[0]?.latencyMs ?? 0) >= 300, JSON.stringify(error.verification.steps[0]));
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['2.0.0']);
    t.log(
      `latency ${error.verification.steps[0]?.latencyMs} ms vs baseline ${error.verification.baseline?.latencyMs} ms; traffic back ${error.verification.steps[0]?.trafficBackMs} ms after the breach`,
    );
    t.is(await alarmState(env.aws, 'heartbeat'), 'ALARM');
  },
);

test.serial(
  'kill -9 during the watch: status shows the group under watch; the next cleanup rolls it back (verdict unknown), one group enabled, 0 failed requests; history shows the verdicts',
  async (t) => {
    const serving = await getClusterStatus(env.aws, 'web-prod');
    const previous = serving.serverGroups.find((g) => g.name === serving.active);
    const traffic = probe();
    const killed = await runStageBundle(
      'deploy',
      { ...env.baseInput, amiId: amis.v1, version: '1.1.0', watch: '60s', lockLease: '5s' },
      {
        ...env.sandbox.env(),
        BLUEGREEN_POLL_MIN_MS: String(1000 * TEST_TIME_SCALE),
        BLUEGREEN_POLL_MAX_MS: String(10000 * TEST_TIME_SCALE),
        BLUEGREEN_FAILPOINTS: 'watching',
      },
    );
    t.not(killed.exitCode, 0, killed.stderr);
    t.regex(killed.stderr, /failpoint watching: killing this process/);
    const status = await getClusterStatus(env.aws, 'web-prod');
    const watched = status.serverGroups.find((g) => g.phase === 'watching');
    t.truthy(watched?.watchUntil, JSON.stringify(status.serverGroups));
    t.is(watched?.state, 'enabled');
    t.deepEqual(
      status.unfinished.map((u) => u.nextRunWill),
      ['roll-back'],
    );
    const warm = status.serverGroups.find((g) => g.name === previous?.name);
    t.is(warm?.state, 'disabled');
    t.is(warm?.capacity.desired, 2, 'the previous group is still at full capacity');
    t.regex(formatClusterStatus(status), /under watch \(alarms, gates\) until /);

    const cleanup = await executeStage(
      cleanupStage,
      {
        region: 'us-east-1',
        cluster: 'web-prod',
        ledger: env.baseInput.ledger,
        breakExpiredLock: true,
        lockWait: '30s',
        lockLease: '5s',
      },
      env.log,
    );
    await sleep(1_000);
    const report = await traffic.stop();
    t.is(cleanup.exitCode, 0, JSON.stringify(cleanup.output));
    t.true(
      (cleanup.output as { actions: string[] }).actions.some((a) =>
        a.startsWith(`rolled back ${watched?.name} (watch interrupted)`),
      ),
      JSON.stringify(cleanup.output),
    );
    const { groups } = await loadCluster(env.aws, 'web-prod');
    t.deepEqual(
      groups.filter((g) => g.enabled).map((g) => g.name),
      [previous?.name],
    );
    t.false(
      groups.some((g) => g.name === watched?.name),
      'the interrupted group was removed',
    );
    for (const group of groups) {
      t.is(group.tags[Tag.pinnedFrom], undefined, `${group.name} has no pinned min`);
      t.is(group.tags[Tag.phase] === 'watching', false);
    }
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, [previous?.version]);

    const history = await executeStage(
      historyStage,
      { region: 'us-east-1', cluster: 'web-prod', ledger: env.baseInput.ledger, limit: 20 },
      env.log,
    );
    const records = (history.output as { records: Array<{ kind: string; result: string; verdict?: string }> }).records;
    t.true(
      records.some((r) => r.kind === 'recovery' && r.verdict === 'interrupted' && r.result === 'rolled-back'),
      JSON.stringify(records),
    );
    t.true(records.some((r) => r.kind === 'deploy' && r.verdict === 'failed' && r.result === 'rolled-back'));
    t.true(records.some((r) => r.kind === 'deploy' && r.verdict === 'passed' && r.result === 'succeeded'));
    t.true(
      env.lines.some((line) => /rolled-back \(watch failed\)/.test(line)),
      'the history table shows verdicts',
    );
  },
);

test.serial(
  'kill -9 during the watch, then a rollback: it re-enables the warm previous group and takes the watched one out, one group enabled, 0 failed requests',
  async (t) => {
    const serving = await getClusterStatus(env.aws, 'web-prod');
    const traffic = probe();
    const killed = await runStageBundle(
      'deploy',
      { ...env.baseInput, amiId: amis.v3, version: '3.2.0', watch: '60s', lockLease: '5s' },
      {
        ...env.sandbox.env(),
        BLUEGREEN_POLL_MIN_MS: String(1000 * TEST_TIME_SCALE),
        BLUEGREEN_POLL_MAX_MS: String(10000 * TEST_TIME_SCALE),
        BLUEGREEN_FAILPOINTS: 'watching',
      },
    );
    t.regex(killed.stderr, /failpoint watching: killing this process/);
    const rollback = await executeStage(
      rollbackStage,
      {
        region: 'us-east-1',
        cluster: 'web-prod',
        ledger: env.baseInput.ledger,
        to: 'previous',
        reason: 'test: watch interrupted',
        breakExpiredLock: true,
        lockWait: '30s',
        lockLease: '5s',
      },
      env.log,
    );
    await sleep(1_000);
    const report = await traffic.stop();
    t.is(rollback.exitCode, 0, `${JSON.stringify(rollback.output)}\n${env.lines.slice(-20).join('\n')}`);
    const output = rollback.output as { restoredServerGroup: string; recovered: string[] };
    t.is(output.restoredServerGroup, serving.active ?? '');
    t.true(
      output.recovered.some((a) => /\(watch interrupted\) for the rollback/.test(a)),
      JSON.stringify(output.recovered),
    );
    const { groups } = await loadCluster(env.aws, 'web-prod');
    t.deepEqual(
      groups.filter((g) => g.enabled).map((g) => g.name),
      [serving.active ?? ''],
    );
    t.false(groups.some((g) => g.tags[Tag.phase] === 'watching' || g.tags[Tag.watchUntil] !== undefined));
    t.is(report.failed, 0, JSON.stringify(report.failures));
  },
);

test.serial(
  'rolling [25, 50, 100] with a build failing 50 %: caught at the first step with ≈ 12 % of requests failing, the previous group back at full strength',
  async (t) => {
    const wide = await env.deploy({
      ...env.baseInput,
      amiId: amis.v1,
      version: '1.2.0',
      capacity: { min: 4, max: 4, desired: 4 },
      breakExpiredLock: true,
      lockWait: '30s',
    });
    t.is(wide.exitCode, 0, JSON.stringify(wide.output));
    const previous = (wide.output as { serverGroup: string }).serverGroup;
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis.bad,
      version: '3.0.0-errors',
      capacity: { min: 4, max: 4, desired: 4 },
      strategy: 'rolling',
      steps: [25, 50, 100],
      stepWatch: '20s',
    });
    await sleep(1_000);
    const report = await traffic.stop();
    t.is(result.exitCode, 1, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
    const error = (result.output as { error: { code: string; message: string; verification: Verification } }).error;
    t.is(error.code, 'VerificationFailed');
    t.deepEqual(
      error.verification.steps.map((s) => `${s.step}:${s.verdict}`),
      ['25%:failed'],
      'caught at the first step',
    );
    const step = error.verification.steps[0]!;
    t.regex(step.reason ?? '', /gate: error rate [\d.]+ % \(\d+ of \d+ requests\) above maxErrorRate 5\.0 %/);
    // One new instance of four, half its requests failing: about 0.5 × 25 % of all requests fail.
    t.true(step.errorRate > 0.06 && step.errorRate < 0.25, `step error rate ${step.errorRate}`);
    const badOk = report.perVersion['3.0.0-errors'] ?? 0;
    t.log(
      `step error rate ${(step.errorRate * 100).toFixed(1)} % (${step.errors}/${step.requests}); probe ${report.failed} failed of ${report.total}, bad build ok ${badOk}; traffic back ${step.trafficBackMs} ms after the breach`,
    );
    t.true(
      report.failed > 0 && Math.abs(badOk - report.failed) <= report.failed * 0.3 + 10,
      "failures are the bad instance's half",
    );
    t.deepEqual(
      report.timeline[report.timeline.length - 1]?.versions,
      ['1.0.0'],
      'traffic ends on the previous group (its AMI answers 1.0.0)',
    );
    const status = await getClusterStatus(env.aws, 'web-prod');
    const back = status.serverGroups.find((g) => g.name === previous);
    t.is(back?.state, 'enabled');
    t.deepEqual(back?.capacity, { min: 4, max: 4, desired: 4 });
    t.deepEqual(
      back?.targetGroups.map((g) => `${g.healthy}/${g.registered}`),
      ['4/4'],
      'every instance of the previous group serves again',
    );
    t.deepEqual(
      status.serverGroups.filter((g) => g.state === 'enabled').map((g) => g.name),
      [previous],
    );
    t.deepEqual(status.unfinished, []);
  },
);

test.serial(
  'rolling [50, 100] with a good build: every step passes, 0 failed requests, the previous group scaled down at the end',
  async (t) => {
    const before = await getClusterStatus(env.aws, 'web-prod');
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis.v2,
      version: '2.1.0',
      capacity: { min: 4, max: 4, desired: 4 },
      strategy: 'rolling',
      steps: '50,100',
      stepWatch: '2s',
    });
    const report = await traffic.stop();
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
    const output = result.output as {
      serverGroup: string;
      scaledDownServerGroups: string[];
      verification: Verification;
    };
    t.deepEqual(
      output.verification.steps.map((s) => `${s.step}:${s.verdict}`),
      ['50%:passed', 'cutover:passed'],
    );
    t.deepEqual(output.scaledDownServerGroups, [before.active]);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['2.0.0']);
    const status = await getClusterStatus(env.aws, 'web-prod');
    t.deepEqual(
      status.serverGroups
        .filter((g) => g.state === 'enabled')
        .map((g) => `${g.name}:${g.capacity.desired}:${g.capacity.min}`),
      [`${output.serverGroup}:4:4`],
    );
    t.deepEqual(status.unfinished, []);
  },
);
