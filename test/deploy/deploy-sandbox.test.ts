import test from 'ava';
import { DeleteScheduledActionCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand } from '@aws-sdk/client-ec2';
import { describeAsgsByName } from '../../src/cluster/server-groups';
import { scaleDownActionName } from '../../src/deploy/scheduled-scale-down';
import { startProbe } from '../../src/sandbox/probe';
import { executeStage } from '../../src/stages/framework';
import { cleanupStage } from '../../src/stages/cleanup';
import { getClusterStatus } from '../../src/status/cluster-status';
import { servingTargetIds } from '../helpers/cluster-fixture';
import { startDeploySandbox, type DeploySandbox } from '../helpers/deploy-sandbox';
import { waitFor } from '../sandbox/fixtures';

// The sandbox serves real HTTP through the demo load balancer: "zero downtime" is counted, not assumed.
let env: DeploySandbox;
const amis: Record<string, string> = {};

test.before(async () => {
  env = await startDeploySandbox();
  for (const version of ['1.0.0', '2.0.0', '3.0.0']) amis[version] = await env.ami(version);
  amis.broken = await env.ami('4.0.0-broken', 'fail');
  const first = await env.deploy({ ...env.baseInput, amiId: amis['1.0.0'], version: '1.0.0' });
  if (first.exitCode !== 0)
    throw new Error(`first deploy failed: ${JSON.stringify(first.output)}\n${env.lines.join('\n')}`);
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

function probe() {
  return startProbe({ url: env.listenerUrl, concurrency: 4, maxDurationMs: 240_000, maxRequests: 200_000 });
}

test.serial(
  'deploys of v2 and v3 under traffic: 0 failed requests, traffic ends on v3, old groups disabled at 0',
  async (t) => {
    const traffic = probe();
    for (const version of ['2.0.0', '3.0.0']) {
      const result = await env.deploy({ ...env.baseInput, amiId: amis[version], version, keepPrevious: 2 });
      t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-20).join('\n')}`);
    }
    const report = await traffic.stop();
    t.log(`probe: ${report.total} requests, ${report.failed} failed, per version ${JSON.stringify(report.perVersion)}`);
    t.true(report.total > 100, 'the probe kept sending during both deploys');
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.true((report.perVersion['2.0.0'] ?? 0) > 0, 'v2 served between the deploys');
    const last = report.timeline[report.timeline.length - 1];
    t.deepEqual(last?.versions, ['3.0.0']);

    // The deploys returned at cutover: v001 drains, then its scheduled action scales it to 0 with no run.
    const settled = ['web-prod-v000:disabled:0', 'web-prod-v001:disabled:0', 'web-prod-v002:enabled:2'];
    let seen: string[] = [];
    await waitFor(
      'the old groups at 0',
      async () => {
        const status = await getClusterStatus(env.aws, 'web-prod');
        seen = status.serverGroups.map((g) => `${g.name}:${g.state}:${g.capacity.desired}`);
        return seen.join() === settled.join() ? true : undefined;
      },
      120_000,
      250,
    ).catch(() => undefined);
    t.deepEqual(seen, settled);
  },
);

test.serial(
  'an AMI whose health check fails: exit 1, automatic rollback, old group untouched, 0 failed requests',
  async (t) => {
    const [before] = await describeAsgsByName(env.aws, ['web-prod-v002']);
    const targetsBefore = (await servingTargetIds(env.aws, env.sandbox.infra!.targetGroupArn)).sort();
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis.broken,
      version: '4.0.0-broken',
      healthTimeout: '20s',
    });
    const report = await traffic.stop();
    t.is(result.exitCode, 1);
    const error = (result.output as { error: Record<string, unknown> }).error;
    t.is(error.code, 'BrokenBuild', 'given up on before its health timeout');
    t.regex(String(error.message), /Rolled back automatically: web-prod-v003 removed, web-prod-v002 left as it was/);
    t.regex(String(error.message), /unhealthy \(Target\.ResponseCodeMismatch\)/, 'names the target health reason');
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(Object.keys(report.perVersion), ['3.0.0'], 'the broken version never got traffic');

    const [after] = await describeAsgsByName(env.aws, ['web-prod-v002']);
    t.is(after?.MinSize, before?.MinSize);
    t.is(after?.MaxSize, before?.MaxSize);
    t.is(after?.DesiredCapacity, before?.DesiredCapacity);
    t.deepEqual(after?.SuspendedProcesses ?? [], []);
    // The broken group's targets may still show `draining` for the deregistration delay: they take no new requests.
    t.deepEqual((await servingTargetIds(env.aws, env.sandbox.infra!.targetGroupArn)).sort(), targetsBefore);
    t.deepEqual(await describeAsgsByName(env.aws, ['web-prod-v003']), []);
    const templates = await env.aws.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: undefined }));
    t.false(
      (templates.LaunchTemplates ?? []).some((lt) => lt.LaunchTemplateName === 'web-prod-v003'),
      'no launch template left over',
    );
  },
);

test.serial('30 % throttling on every Describe call: the deploy still succeeds with 0 failed requests', async (t) => {
  env.sandbox.resetCalls();
  const rule = env.sandbox.addFault({ kind: 'throttle', action: 'Describe*', share: 0.3 });
  const traffic = probe();
  try {
    const result = await env.deploy({ ...env.baseInput, amiId: amis['1.0.0'], version: '1.0.1' });
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-20).join('\n')}`);
  } finally {
    env.sandbox.removeFault(rule.id);
  }
  const report = await traffic.stop();
  t.is(report.failed, 0, JSON.stringify(report.failures));
  const calls = env.sandbox.calls();
  const throttled = Object.values(calls.throttled).reduce((a, b) => a + b, 0);
  t.log(`throttled ${throttled} of ${calls.total} calls: ${JSON.stringify(calls.throttled)}`);
  t.true(throttled > 5, 'the gateway did throttle Describe calls');
  t.true(
    Object.keys(calls.throttled).every((key) => /:Describe/.test(key)),
    'only Describe calls were throttled',
  );
});

test.serial('two deploys of one cluster at once: one proceeds, the other exits 3 naming the holder', async (t) => {
  const traffic = probe();
  const [a, b] = await Promise.all([
    env.deploy({
      ...env.baseInput,
      amiId: amis['2.0.0'],
      version: '2.0.1',
      buildUrl: 'https://ci.example.com/job/web/101/',
    }),
    env.deploy({
      ...env.baseInput,
      amiId: amis['3.0.0'],
      version: '3.0.1',
      buildUrl: 'https://ci.example.com/job/web/102/',
    }),
  ]);
  const report = await traffic.stop();
  const codes = [a.exitCode, b.exitCode].sort();
  t.deepEqual(codes, [0, 3]);
  const loser = a.exitCode === 3 ? a : b;
  const winnerUrl = a.exitCode === 0 ? 'https://ci.example.com/job/web/101/' : 'https://ci.example.com/job/web/102/';
  const error = (loser.output as { error: Record<string, unknown> }).error;
  t.is(error.code, 'LockHeld');
  t.true(String(error.message).includes(winnerUrl), String(error.message));
  t.is(report.failed, 0, JSON.stringify(report.failures));
});

test.serial(
  'scaleDownDelay keeps the old group warm; without its scheduled action a cleanup run scales it down once the window ends',
  async (t) => {
    const result = await env.deploy({ ...env.baseInput, amiId: amis['3.0.0'], version: '3.0.2', scaleDownDelay: '2s' });
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    const output = result.output as { previousServerGroup: string; warmServerGroups: string[] };
    t.deepEqual(output.warmServerGroups, [output.previousServerGroup]);
    const warm = (await getClusterStatus(env.aws, 'web-prod')).serverGroups.find(
      (g) => g.name === output.previousServerGroup,
    );
    t.is(warm?.state, 'disabled');
    t.is(warm?.capacity.desired, 2, 'still running for a fast rollback');
    t.truthy(warm?.scaleDownAfter);
    // The fallback when no scheduled action ran (e.g. deleted by hand): the tag stays, and a cleanup run settles it.
    await env.aws.autoScaling.send(
      new DeleteScheduledActionCommand({
        AutoScalingGroupName: output.previousServerGroup,
        ScheduledActionName: scaleDownActionName(output.previousServerGroup),
      }),
    );
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, Date.parse(warm?.scaleDownAfter ?? '') - Date.now()) + 200),
    );
    const cleanup = await executeStage(
      cleanupStage,
      { region: 'us-east-1', cluster: 'web-prod', ledger: env.baseInput.ledger },
      env.log,
    );
    t.is(cleanup.exitCode, 0, JSON.stringify(cleanup.output));
    t.deepEqual((cleanup.output as { actions: string[] }).actions, [
      `scaled ${output.previousServerGroup} to 0 (warm window over)`,
    ]);
    const after = (await getClusterStatus(env.aws, 'web-prod')).serverGroups.find(
      (g) => g.name === output.previousServerGroup,
    );
    t.is(after?.capacity.desired, 0);
    t.is(after?.state, 'disabled');
  },
);
