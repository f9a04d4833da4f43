import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import {
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Tag } from '../../src/aws/tags';
import type { Verification } from '../../src/verify/watch';
import { listRecords, type LedgerRef } from '../../src/ledger';
import { startProbe } from '../../src/sandbox/probe';
import { getClusterStatus } from '../../src/status/cluster-status';
import { describeAsgsByName } from '../../src/cluster/server-groups';
import { Phase } from '../../src/cluster/phases';
import { scaleOutWhenPhase, startDeploySandbox, TEST_TIME_SCALE, type DeploySandbox } from '../helpers/deploy-sandbox';
import { runStageBundle } from '../helpers/run-stage';

// Canary on the load balancer, under a probe of the production listener: weights, analysis, undo.
let env: DeploySandbox;
const amis: Record<string, string> = {};

test.before(async () => {
  env = await startDeploySandbox();
  amis.v1 = await env.ami('1.0.0');
  amis.v2 = await env.ami('2.0.0');
  amis.v3 = await env.ami('3.0.0');
  amis.v4 = await env.ami('4.0.0');
  amis.v6 = await env.ami('6.0.0');
  amis.bad = await env.ami('5.0.0-errors', 'ok', { 'sandbox:errors': '0.5' });
  const first = await env.deploy({ ...env.baseInput, amiId: amis.v1, version: '1.0.0' });
  if (first.exitCode !== 0)
    throw new Error(`first deploy failed: ${JSON.stringify(first.output)}\n${env.lines.join('\n')}`);
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

function probe() {
  return startProbe({ url: env.listenerUrl, concurrency: 4, maxDurationMs: 240_000, maxRequests: 500_000 });
}

/** The listener's default actions and rules, as a deploy must leave them. */
async function listenerState(): Promise<unknown> {
  const infra = env.sandbox.infra!;
  const listeners = await env.aws.elbv2.send(new DescribeListenersCommand({ ListenerArns: [infra.listenerArn] }));
  const rules = await env.aws.elbv2.send(new DescribeRulesCommand({ ListenerArn: infra.listenerArn }));
  return { actions: listeners.Listeners?.[0]?.DefaultActions, rules: rules.Rules?.map((r) => r.Actions) };
}

async function targetGroupNames(): Promise<string[]> {
  const answer = await env.aws.elbv2.send(new DescribeTargetGroupsCommand({}));
  return (answer.TargetGroups ?? []).map((g) => g.TargetGroupName as string).sort();
}

/** The environment of a stage bundle run, killed at `failpoints` (none: ''). */
function crashEnv(failpoints: string): Record<string, string> {
  return {
    ...env.sandbox.env(),
    BLUEGREEN_POLL_MIN_MS: String(1000 * TEST_TIME_SCALE),
    BLUEGREEN_POLL_MAX_MS: String(10000 * TEST_TIME_SCALE),
    BLUEGREEN_FAILPOINTS: failpoints,
  };
}

const canaryInput = { strategy: 'canary', steps: [10, 100], stepWatch: '15s', canaryAnalysis: { minRequests: 5 } };

test.serial(
  'canary [10, 100] of a build failing 50 %: exit 1 at the first step, ≤ 10 % of requests failed during the deploy and none after, the listener on the production target group alone',
  async (t) => {
    const before = await listenerState();
    const groupsBefore = await targetGroupNames();
    const traffic = probe();
    const result = await env.deploy({ ...env.baseInput, ...canaryInput, amiId: amis.bad, version: '5.0.0-errors' });
    const during = { ...(await traffic.stop()) };
    t.is(result.exitCode, 1, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
    const error = (result.output as { error: { code: string; verification: Verification } }).error;
    t.is(error.code, 'VerificationFailed');
    t.deepEqual(
      error.verification.steps.map((s) => `${s.step}:${s.verdict}`),
      ['10%:failed'],
    );
    const analysis = error.verification.steps[0]?.analysis;
    t.is(analysis?.metrics.find((m) => m.name === 'errorRate')?.verdict, 'fail', JSON.stringify(analysis));
    const detail = (result.output as { summaryDetail?: string[] }).summaryDetail ?? [];
    t.true(
      detail.some((line) => /^canary 10% errorRate: [\d.]+ % vs [\d.]+ %, fail \(step score 0, fail\)$/.test(line)),
      `the build summary has the metric's line: ${JSON.stringify(detail)}`,
    );
    t.log(
      `probe during the deploy: ${during.failed} failed of ${during.total} (${((100 * during.failed) / Math.max(1, during.total)).toFixed(1)} %); ${analysis?.reason}; listener back ${error.verification.steps[0]?.trafficBackMs} ms after the verdict`,
    );
    t.true(during.failed / during.total <= 0.1, `failed share ${during.failed}/${during.total}`);
    const [record] = await listRecords(env.aws, env.baseInput.ledger as LedgerRef, 'web-prod', { limit: 1 });
    t.is(record?.result, 'rolled-back');
    t.deepEqual(
      record?.canary?.[0]?.metrics.find((m) => m.name === 'errorRate'),
      { name: 'errorRate', verdict: 'fail' },
      'the ledger keeps each metric verdict',
    );
    const after = probe();
    await sleep(3_000);
    const report = await after.stop();
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(Object.keys(report.perVersion), ['1.0.0']);
    t.deepEqual(await listenerState(), before, 'the listener forwards to the production target group alone again');
    t.deepEqual(await targetGroupNames(), groupsBefore, 'no canary target group left');
    t.deepEqual((await getClusterStatus(env.aws, 'web-prod')).unfinished, []);
  },
);

test.serial(
  'a good canary: exit 0, all traffic on it, the listener as before the deploy, no canary target group left',
  async (t) => {
    const before = await listenerState();
    const groupsBefore = await targetGroupNames();
    const traffic = probe();
    const result = await env.deploy({ ...env.baseInput, ...canaryInput, amiId: amis.v2, version: '2.0.0' });
    await sleep(1_000);
    const report = await traffic.stop();
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
    const output = result.output as { verification: Verification };
    t.deepEqual(output.verification.steps.map((s) => `${s.step}:${s.verdict}`).slice(0, 1), ['10%:passed']);
    t.log(`${output.verification.steps[0]?.analysis?.reason}; probe ${report.failed} failed of ${report.total}`);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['2.0.0']);
    t.deepEqual(await listenerState(), before);
    t.deepEqual(await targetGroupNames(), groupsBefore);
    t.deepEqual((await getClusterStatus(env.aws, 'web-prod')).unfinished, []);
  },
);

test.serial(
  'kill -9 mid-canary: status says end-canary; the next run puts the listener back, removes the canary group and its target group, and deploys',
  async (t) => {
    const before = await listenerState();
    const groupsBefore = await targetGroupNames();
    const traffic = probe();
    const killed = await runStageBundle(
      'deploy',
      { ...env.baseInput, ...canaryInput, amiId: amis.v3, version: '3.0.0', lockLease: '5s' },
      crashEnv('canary-step'),
    );
    t.not(killed.exitCode, 0, 'the deploy was killed');
    t.regex(killed.stderr, /failpoint canary-step/);
    t.notDeepEqual(await listenerState(), before, 'the killed run left the listener weighted');
    const status = await getClusterStatus(env.aws, 'web-prod');
    t.deepEqual(
      status.unfinished.map((u) => u.nextRunWill),
      ['end-canary'],
    );
    const next = await runStageBundle(
      'deploy',
      { ...env.baseInput, amiId: amis.v4, version: '4.0.0', breakExpiredLock: true, lockWait: '30s' },
      crashEnv(''),
    );
    const report = await traffic.stop();
    t.is(next.exitCode, 0, next.stderr.split('\n').slice(-25).join('\n'));
    t.log(`recovered: ${JSON.stringify(next.output?.recovered)}; probe ${report.failed} failed of ${report.total}`);
    t.true(
      (next.output?.recovered ?? []).some((a: string) => /put the listeners back/.test(a)),
      JSON.stringify(next.output?.recovered),
    );
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(await listenerState(), before, 'the listener forwards to the production target group alone again');
    t.deepEqual(await targetGroupNames(), groupsBefore, 'the canary target group is gone');
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['4.0.0']);
  },
);

test.serial(
  'kill -9 after the canary target group is made, before its group: the next run puts the listener back and deletes it, and leaves target groups not made by bluegreen for this cluster',
  async (t) => {
    const before = await listenerState();
    const groupsBefore = await targetGroupNames();
    // Look-alikes the cleanup must leave: our name pattern without our tags, and our tags of another cluster.
    const infra = env.sandbox.infra!;
    const decoys = [
      { Name: 'web-prod-v098-cy0', Tags: [] },
      {
        Name: 'web-prod-v099-cy0',
        Tags: [
          { Key: Tag.cluster, Value: 'web-other' },
          { Key: Tag.canaryOf, Value: 'web-prod-v099' },
        ],
      },
    ];
    for (const decoy of decoys)
      await env.aws.elbv2.send(
        new CreateTargetGroupCommand({ ...decoy, Protocol: 'HTTP', Port: 80, VpcId: infra.vpcId }),
      );
    const traffic = probe();
    const killed = await runStageBundle(
      'deploy',
      { ...env.baseInput, ...canaryInput, amiId: amis.v3, version: '3.0.1', lockLease: '5s' },
      crashEnv('before-asg-created'),
    );
    t.not(killed.exitCode, 0, 'the deploy was killed');
    t.regex(killed.stderr, /failpoint before-asg-created/);
    const made = (await targetGroupNames()).filter((name) => /-cy\d$/.test(name) && !name.startsWith('web-prod-v09'));
    t.is(made.length, 1, 'the killed run left its canary target group');
    t.notDeepEqual(await listenerState(), before, 'and the listener weighting it at 0');
    t.deepEqual((await getClusterStatus(env.aws, 'web-prod')).unfinished, [], 'no group owns it');

    const next = await runStageBundle(
      'deploy',
      { ...env.baseInput, amiId: amis.v4, version: '4.0.1', breakExpiredLock: true, lockWait: '30s' },
      crashEnv(''),
    );
    const report = await traffic.stop();
    t.is(next.exitCode, 0, next.stderr.split('\n').slice(-25).join('\n'));
    t.log(`recovered: ${JSON.stringify(next.output?.recovered)}; probe ${report.failed} failed of ${report.total}`);
    t.true(
      (next.output?.recovered ?? []).some((a: string) => a === `deleted orphan canary target group ${made[0]}`),
      JSON.stringify(next.output?.recovered),
    );
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(await listenerState(), before, 'the listener forwards to the production target group alone again');
    t.deepEqual(
      await targetGroupNames(),
      [...groupsBefore, ...decoys.map((d) => d.Name)].sort(),
      'the orphan is gone, the look-alikes stay',
    );
  },
);

test.serial(
  'the serving group scales out 2 → 4 during the canary step: the canary is raised to 4 before it takes all traffic, 0 failed requests',
  async (t) => {
    const serving = (await getClusterStatus(env.aws, 'web-prod')).serverGroups.find((g) => g.enabled)?.name ?? '';
    const created = `web-prod-v${String(Number(serving.slice(-3)) + 1).padStart(3, '0')}`;
    const scaler = scaleOutWhenPhase(env.aws, { serving, created, phase: Phase.canary, desired: 4 });
    const traffic = probe();
    const result = await env.deploy({ ...env.baseInput, ...canaryInput, amiId: amis.v6, version: '6.0.0' });
    await sleep(1_000);
    const report = await traffic.stop();
    t.true(await scaler, `${serving} was scaled out during the canary step`);
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.is((result.output as { capacity: { desired: number } }).capacity.desired, 4, 'the output says it took over 4');
    const [group] = await describeAsgsByName(env.aws, [created]);
    t.is(group?.DesiredCapacity, 4);
    t.is((group?.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length, 4);
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['6.0.0']);
  },
);
