import test from 'ava';
import { desiredOnceDrained } from '../helpers/deploy-sandbox';
import { listRecords } from '../../src/ledger';
import type { DeploySandbox } from '../helpers/deploy-sandbox';
import { deploy, instancesByGroup, probeLine, rollback, startRollbackSandbox, versionsNow, withProbe } from './helpers';

// One cluster through a life: v1, v2 (v1 kept warm), rollback to v1 (re-enable, no launch),
// v3, rollback to version v1 by name (re-enable from 0), roll forward to v3.
let env: DeploySandbox;
const cluster = 'web-prod';
const amis = { v1: '', v2: '', v3: '' };
let freshDeploySeconds = 0;

test.before(async () => {
  env = await startRollbackSandbox();
  for (const version of ['v1', 'v2', 'v3'] as const) amis[version] = await env.ami(version);
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

test.serial(
  'rollback to the warm previous group: re-enabled with its own instances, 0 failed requests, traffic ends on v1',
  async (t) => {
    const first = await deploy(t, env, { cluster, amiId: amis.v1, version: 'v1' });
    t.is(first.exitCode, 0, JSON.stringify(first.output));
    // Timed under the same probe load as the rollback below, so the two durations compare.
    const { result: second, report: deployReport } = await withProbe(env, () =>
      deploy(t, env, { cluster, amiId: amis.v2, version: 'v2', scaleDownDelay: '10m' }),
    );
    t.is(second.exitCode, 0, JSON.stringify(second.output));
    t.is(deployReport.failed, 0, JSON.stringify(deployReport.failedSamples.slice(0, 5)));
    freshDeploySeconds = second.seconds;
    t.deepEqual(second.output.warmServerGroups, ['web-prod-v000']);
    const before = await instancesByGroup(env, cluster);
    t.is(before['web-prod-v000']?.length, 2, 'v1 still running (warm)');
    t.deepEqual(await versionsNow(env), { v2: 20 });

    const { result, report } = await withProbe(env, () =>
      rollback(t, env, { cluster, reason: 'v2 returns wrong prices', scaleDownDelay: '10m' }),
    );
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    const output = result.output;
    t.is(output.mode, 'reenable');
    t.is(output.rolledBackFrom, 'web-prod-v001');
    t.is(output.restoredServerGroup, 'web-prod-v000');
    t.is(output.amiId, amis.v1);
    t.is(output.version, 'v1');
    t.deepEqual(output.disabledServerGroups, ['web-prod-v001']);
    t.deepEqual(output.warmServerGroups, ['web-prod-v001']);
    t.deepEqual(output.launchedInstances, []);
    t.log(`probe during rollback: ${probeLine(report)}`);
    t.is(report.failed, 0, JSON.stringify(report.failedSamples.slice(0, 5)));
    t.true((report.perVersion.v1 ?? 0) > 0);

    const after = await instancesByGroup(env, cluster);
    t.deepEqual(after['web-prod-v000'], before['web-prod-v000'], 'the same v1 instances serve again: nothing launched');
    const allBefore = new Set(Object.values(before).flat());
    t.true(
      Object.values(after)
        .flat()
        .every((id) => allBefore.has(id)),
      'no new instance anywhere in the cluster',
    );
    t.deepEqual(await versionsNow(env), { v1: 20 }, 'traffic ends 100 % on v1');

    t.log(`fresh deploy of v2: ${freshDeploySeconds.toFixed(1)}s; rollback to warm v1: ${result.seconds.toFixed(1)}s`);
    const records = await listRecords(
      env.aws,
      { bucket: env.sandbox.infra!.ledgerBucket, prefix: 'bluegreen' },
      cluster,
      { limit: 2 },
    );
    t.like(records[0], {
      kind: 'rollback',
      result: 'succeeded',
      from: 'web-prod-v001',
      to: 'web-prod-v000',
      reason: 'v2 returns wrong prices',
      version: 'v1',
    });
    t.truthy(records[0]?.who);
  },
);

test.serial(
  'rollback to a named older version re-enables its group from 0, then rolling forward by version returns to the newer one',
  async (t) => {
    const third = await deploy(t, env, { cluster, amiId: amis.v3, version: 'v3' });
    t.is(third.exitCode, 0, JSON.stringify(third.output));
    t.is(third.output.serverGroup, 'web-prod-v002');
    // v000 (v1) served before v3 and is scaled to 0 once drained (the deploy returned at cutover); v001 (v2) is
    // still warm from the first test.
    t.is(await desiredOnceDrained(env.aws, 'web-prod-v000'), 0);
    t.deepEqual((await instancesByGroup(env, cluster))['web-prod-v000'], []);

    const back = await withProbe(env, () => rollback(t, env, { cluster, to: 'v1', reason: 'v3 breaks checkout' }));
    t.is(back.result.exitCode, 0, JSON.stringify(back.result.output));
    t.like(back.result.output, {
      mode: 'reenable',
      rolledBackFrom: 'web-prod-v002',
      restoredServerGroup: 'web-prod-v000',
      version: 'v1',
    });
    t.is(back.result.output.launchedInstances.length, 2, 'v000 was at 0: it launches from its own launch template');
    t.log(`probe during rollback to v1: ${probeLine(back.report)}`);
    t.is(back.report.failed, 0, JSON.stringify(back.report.failedSamples.slice(0, 5)));
    t.deepEqual(await versionsNow(env), { v1: 20 });

    const forward = await withProbe(env, () => rollback(t, env, { cluster, to: 'v3', reason: 'v3 fixed by config' }));
    t.is(forward.result.exitCode, 0, JSON.stringify(forward.result.output));
    t.like(forward.result.output, {
      mode: 'reenable',
      rolledBackFrom: 'web-prod-v000',
      restoredServerGroup: 'web-prod-v002',
      version: 'v3',
    });
    t.log(`probe during roll forward to v3: ${probeLine(forward.report)}`);
    t.is(forward.report.failed, 0, JSON.stringify(forward.report.failedSamples.slice(0, 5)));
    t.deepEqual(await versionsNow(env), { v3: 20 });
  },
);

test.serial('rollback to what already serves is a conflict (exit 3) that changes nothing', async (t) => {
  env.sandbox.resetCalls();
  const result = await rollback(t, env, { cluster, to: 'web-prod-v002' });
  t.is(result.exitCode, 3);
  t.is(result.output.error?.code, 'AlreadyServing');
  t.regex(String(result.output.error?.message), /web-prod-v002 .*already serves web-prod/);
  t.regex(String(result.output.error?.recovery), /older release with to=/);
  t.is(env.sandbox.calls().mutating, 0, JSON.stringify(env.sandbox.calls().calls));
});

test.serial(
  'a rollback given a healthTimeout the target group cannot meet is bad input (exit 2) that changes nothing',
  async (t) => {
    env.sandbox.resetCalls();
    // The demo target group: healthy threshold 3 × interval 10 s = 30 AWS seconds, 1.5 s on this sandbox's clock.
    const result = await rollback(t, env, { cluster, to: 'web-prod-v000', healthTimeout: '1s' });
    t.is(result.exitCode, 2, JSON.stringify(result.output));
    t.is(result.output.error?.field, 'healthTimeout');
    t.regex(String(result.output.error?.message), /is 1s, shorter than the 2s .*healthy threshold 3 × interval 10s/);
    t.is(env.sandbox.calls().mutating, 0, JSON.stringify(env.sandbox.calls().calls));
  },
);
