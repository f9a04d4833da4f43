import test from 'ava';
import { Tag } from '../../src/aws/tags';
import { describeAsgsByName, loadCluster } from '../../src/cluster/server-groups';
import { listRecords, type LedgerRef } from '../../src/ledger';
import { startProbe } from '../../src/sandbox/probe';
import { formatClusterStatus, getClusterStatus } from '../../src/status/cluster-status';
import { cleanupStage } from '../../src/stages/cleanup';
import { executeStage } from '../../src/stages/framework';
import { abortStage, promoteStage } from '../../src/stages/promote';
import { startDeploySandbox, type DeploySandbox } from '../helpers/deploy-sandbox';
import { ensureTestListener, listenerActions, temporaryTargetGroups } from '../helpers/test-listener';

// #23 part 2: hold for a human, then promote or abort — every step under a probe of the production listener,
// so "production unchanged while held" is counted, not assumed.
let env: DeploySandbox;
const amis: Record<string, string> = {};

test.before(async () => {
  env = await startDeploySandbox();
  for (const version of ['1.0.0', '2.0.0', '3.0.0']) amis[version] = await env.ami(version);
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

/** The identity of the held deploy's cluster: all promote and abort take (plus who and why). */
function decision(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { region, cluster, ledger } = env.baseInput;
  return { region, cluster, ledger, buildUrl: 'https://ci.example.com/job/web/2/', ...extra };
}

const promoteRun = (input: Record<string, unknown>) => executeStage(promoteStage, input, env.log);
const abortRun = (input: Record<string, unknown>) => executeStage(abortStage, input, env.log);

async function phaseOf(name: string): Promise<string | undefined> {
  const [asg] = await describeAsgsByName(env.aws, [name]);
  return asg?.Tags?.find((t) => t.Key === Tag.phase)?.Value;
}

/** The version the sandbox's local port of a listener answers with. */
async function versionBehind(listenerArn: string): Promise<string> {
  const { listeners } = (await (await fetch(`${env.sandbox.endpoint}/_sandbox/listeners`)).json()) as {
    listeners: Array<{ listenerArn: string; url: string }>;
  };
  const local = listeners.find((l) => l.listenerArn === listenerArn)?.url;
  return ((await (await fetch(`${local}/`)).json()) as { version: string }).version;
}

test.serial('hold with strategy canary is bad input: exit 2 naming hold, nothing made', async (t) => {
  const result = await env.deploy({
    ...env.baseInput,
    amiId: amis['2.0.0'],
    version: '2.0.0',
    hold: true,
    strategy: 'canary',
  });
  t.is(result.exitCode, 2, JSON.stringify(result.output));
  t.is((result.output as { error: { field: string } }).error.field, 'hold');
  t.deepEqual(await describeAsgsByName(env.aws, ['web-prod-v001']), []);
});

test.serial('promote with nothing held: exit 3, nothing changed', async (t) => {
  const result = await promoteRun(decision());
  t.is(result.exitCode, 3, JSON.stringify(result.output));
  t.is((result.output as { error: { code: string } }).error.code, 'NothingHeld');
});

test.serial(
  'hold: exit 0 status held, production unchanged (0 served by the new version, 0 failed); then a deploy exits 3 naming it, cleanup leaves it; promote: the new version serves, 0 failed',
  async (t) => {
    const traffic = probe();
    const held = await env.deploy({
      ...env.baseInput,
      amiId: amis['2.0.0'],
      version: '2.0.0',
      hold: true,
      watch: '5s',
    });
    t.is(held.exitCode, 0, `${JSON.stringify(held.output)}\n${env.lines.slice(-30).join('\n')}`);
    const output = held.output as { status: string; serverGroup: string; previousServerGroup: string };
    t.is(output.status, 'held');
    t.is(await phaseOf(output.serverGroup), 'held');
    const [heldAsg] = await describeAsgsByName(env.aws, [output.serverGroup]);
    t.deepEqual(heldAsg?.TargetGroupARNs ?? [], [], 'the held group is in no production target group');
    t.is(heldAsg?.Instances?.filter((i) => i.LifecycleState === 'InService').length, 2, 'healthy and running');
    const status = await getClusterStatus(env.aws, 'web-prod');
    t.deepEqual(
      status.held.map((h) => [h.serverGroup, h.version]),
      [[output.serverGroup, '2.0.0']],
    );
    t.is(status.active, output.previousServerGroup, 'status: the held group is not the active one');
    t.regex(formatClusterStatus(status), new RegExp(`${output.serverGroup}: held for a human`));

    const other = await env.deploy({ ...env.baseInput, amiId: amis['3.0.0'], version: '3.0.0' });
    t.is(other.exitCode, 3, JSON.stringify(other.output));
    const refusal = (other.output as { error: { code: string; message: string; recovery: string } }).error;
    t.is(refusal.code, 'DeploymentHeld');
    t.regex(refusal.message, new RegExp(`${output.serverGroup} of web-prod is held`));
    t.regex(refusal.recovery, /blueGreenPromote/);
    t.regex(refusal.recovery, /blueGreenAbort/);

    const { region, cluster, ledger } = env.baseInput;
    const cleanup = await executeStage(cleanupStage, { region, cluster, ledger }, env.log);
    t.is(cleanup.exitCode, 0, JSON.stringify(cleanup.output));
    t.true(
      (cleanup.output as { actions: string[] }).actions.some((a) => a.startsWith(`left ${output.serverGroup} held`)),
    );
    t.is(await phaseOf(output.serverGroup), 'held', 'cleanup never settles a held group');
    const whileHeld = await traffic.stop();
    t.is(whileHeld.failed, 0, JSON.stringify(whileHeld.failures));
    t.deepEqual(Object.keys(whileHeld.perVersion), ['1.0.0'], 'production never served 2.0.0 while held');

    const expectWrong = await promoteRun(decision({ serverGroup: 'web-prod-v009' }));
    t.is(expectWrong.exitCode, 3, 'a promote expecting another group changes nothing');
    t.is(await phaseOf(output.serverGroup), 'held');

    const promoting = probe();
    const promoted = await promoteRun(
      decision({ serverGroup: output.serverGroup, approvedBy: 'alice', reason: 'release 2.0.0 approved' }),
    );
    const report = await promoting.stop();
    t.is(promoted.exitCode, 0, `${JSON.stringify(promoted.output)}\n${env.lines.slice(-30).join('\n')}`);
    const done = promoted.output as { status: string; serverGroup: string; verification: { verdict: string } | null };
    t.is(done.status, 'succeeded');
    t.is(done.serverGroup, output.serverGroup);
    t.is(done.verification?.verdict, 'passed', "the held deploy's watch ran");
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['2.0.0'], 'the new version serves');
    const enabled = (await loadCluster(env.aws, 'web-prod')).groups.filter((g) => g.enabled).map((g) => g.name);
    t.deepEqual(enabled, [output.serverGroup]);

    const records = await listRecords(env.aws, env.baseInput.ledger as LedgerRef, 'web-prod', { limit: 20 });
    const ofDeploy = records.filter((r) => r.deploymentId === (held.output as { deploymentId: string }).deploymentId);
    t.deepEqual(
      ofDeploy.map((r) => r.result),
      ['succeeded', 'held', 'started'],
      'one deployment: started, held, succeeded',
    );
    t.is(ofDeploy[0]?.who, 'alice via https://ci.example.com/job/web/2/', 'the approver is recorded as for rollbacks');
    t.is(ofDeploy[0]?.reason, 'release 2.0.0 approved');
  },
);

test.serial(
  'hold behind a test listener: it reaches the held group, production unchanged; abort: the group removed, the listener back, the temporary target group gone, 0 failed',
  async (t) => {
    const listenerArn = await ensureTestListener(env);
    const before = await listenerActions(env, listenerArn);
    const traffic = probe();
    const held = await env.deploy({
      ...env.baseInput,
      amiId: amis['3.0.0'],
      version: '3.0.0',
      hold: true,
      testListener: listenerArn,
    });
    t.is(held.exitCode, 0, `${JSON.stringify(held.output)}\n${env.lines.slice(-30).join('\n')}`);
    const output = held.output as { status: string; serverGroup: string };
    t.is(output.status, 'held');
    t.is(await versionBehind(listenerArn), '3.0.0', 'the test listener reaches the held group');
    t.is((await temporaryTargetGroups(env)).length, 1, 'the temporary target group stays while held');

    const aborted = await abortRun(decision({ serverGroup: output.serverGroup, reason: 'failed manual QA' }));
    const report = await traffic.stop();
    t.is(aborted.exitCode, 0, `${JSON.stringify(aborted.output)}\n${env.lines.slice(-30).join('\n')}`);
    t.is((aborted.output as { status: string }).status, 'aborted');
    t.deepEqual(await describeAsgsByName(env.aws, [output.serverGroup]), [], 'the held group is removed');
    t.deepEqual(await listenerActions(env, listenerArn), before, 'the test listener has its previous action back');
    t.deepEqual(await temporaryTargetGroups(env), [], 'the temporary target group is deleted');
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(Object.keys(report.perVersion), ['2.0.0'], 'production never served 3.0.0');

    const next = await env.deploy({ ...env.baseInput, amiId: amis['3.0.0'], version: '3.0.1' });
    t.is(next.exitCode, 0, 'once aborted, the cluster deploys again');
  },
);

test.serial(
  'hold with strategy rolling and afterTraffic: promote needs the same afterTraffic (exit 2 otherwise, still held; the ledger keeps only its SHA-256), then runs the steps, the watch and the command; 0 failed',
  async (t) => {
    const afterTraffic = 'echo "after traffic on $BLUEGREEN_SERVER_GROUP password=s3cr3t-value"';
    const held = await env.deploy({
      ...env.baseInput,
      amiId: amis['2.0.0'],
      version: '2.0.0',
      hold: true,
      strategy: 'rolling',
      steps: '50,100',
      stepWatch: '2s',
      watch: '3s',
      afterTraffic,
    });
    t.is(held.exitCode, 0, `${JSON.stringify(held.output)}\n${env.lines.slice(-30).join('\n')}`);
    const { serverGroup, deploymentId } = held.output as { serverGroup: string; deploymentId: string };
    const records = await listRecords(env.aws, env.baseInput.ledger as LedgerRef, 'web-prod', { limit: 5 });
    const heldRecord = records.find((r) => r.deploymentId === deploymentId && r.result === 'held');
    t.truthy(heldRecord?.held, 'the held record keeps what promote needs');
    t.false(JSON.stringify(heldRecord).includes('s3cr3t-value'), 'never the afterTraffic command itself');

    const missing = await promoteRun(decision({ serverGroup }));
    t.is(missing.exitCode, 2, JSON.stringify(missing.output));
    t.is((missing.output as { error: { field: string } }).error.field, 'afterTraffic');
    const other = await promoteRun(decision({ serverGroup, afterTraffic: 'echo something else' }));
    t.is(other.exitCode, 2, JSON.stringify(other.output));
    t.is(await phaseOf(serverGroup), 'held', 'bad input changed nothing');

    const traffic = probe();
    const promoted = await promoteRun(decision({ serverGroup, afterTraffic }));
    const report = await traffic.stop();
    t.is(promoted.exitCode, 0, `${JSON.stringify(promoted.output)}\n${env.lines.slice(-30).join('\n')}`);
    const verification = (promoted.output as { verification: { verdict: string; steps: Array<{ step: string }> } })
      .verification;
    t.is(verification.verdict, 'passed');
    t.true(
      verification.steps.some((s) => s.step === '50%'),
      `the rolling step ran: ${JSON.stringify(verification.steps)}`,
    );
    const log = env.lines.join('\n');
    t.regex(log, new RegExp(`│ after traffic on ${serverGroup}`), 'afterTraffic ran inside the watch');
    t.false(log.includes('s3cr3t-value'), 'its secret is redacted in the log');
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['2.0.0']);
  },
);
