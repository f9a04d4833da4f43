import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tag } from '../../src/aws/tags';
import { describeAsgsByName, loadCluster } from '../../src/cluster/server-groups';
import { startProbe } from '../../src/sandbox/probe';
import { startDeploySandbox, TEST_TIME_SCALE, type DeploySandbox } from '../helpers/deploy-sandbox';
import { ensureTestListener, listenerActions, temporaryTargetGroups } from '../helpers/test-listener';
import { runStageBundle } from '../helpers/run-stage';

// #23 part 1 without a test listener: the command runs before production traffic, under a probe of the
// production listener, so "production never served the new version" is counted, not assumed.
let env: DeploySandbox;
let dir: string;
const amis: Record<string, string> = {};

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bluegreen-before-traffic-'));
  env = await startDeploySandbox();
  for (const version of ['1.0.0', '2.0.0', '3.0.0', '4.0.0']) amis[version] = await env.ami(version);
  const first = await env.deploy({ ...env.baseInput, amiId: amis['1.0.0'], version: '1.0.0' });
  if (first.exitCode !== 0)
    throw new Error(`first deploy failed: ${JSON.stringify(first.output)}\n${env.lines.join('\n')}`);
});

test.after.always(async () => {
  await env?.sandbox.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function probe() {
  return startProbe({ url: env.listenerUrl, concurrency: 4, maxDurationMs: 240_000, maxRequests: 200_000 });
}

test.serial(
  'a failing beforeTraffic: exit 1 with its last lines, the group removed, production never served it, 0 failed',
  async (t) => {
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis['2.0.0'],
      version: '2.0.0',
      beforeTraffic:
        'echo "smoke test of $BLUEGREEN_SERVER_GROUP"; echo "password=hunter2"; echo "GET / -> 500" >&2; exit 3',
    });
    const report = await traffic.stop();
    t.is(result.exitCode, 1, JSON.stringify(result.output));
    const error = (result.output as { error: Record<string, unknown> }).error;
    t.is(error.code, 'BeforeTrafficFailed');
    t.regex(String(error.message), /beforeTraffic exited 3; last lines:/);
    t.regex(String(error.message), /GET \/ -> 500/);
    t.regex(String(error.message), /Rolled back automatically: web-prod-v001 removed/);
    t.true(error.autoRolledBack as boolean);
    const log = env.lines.join('\n');
    t.regex(log, /│ smoke test of web-prod-v001/, 'the output is in the stage log, marked');
    t.false(log.includes('hunter2'), 'a secret the command prints is redacted');
    t.false(JSON.stringify(result.output).includes('hunter2'));
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(Object.keys(report.perVersion), ['1.0.0'], 'production never served 2.0.0');
    t.deepEqual(await describeAsgsByName(env.aws, ['web-prod-v001']), []);
  },
);

test.serial('beforeTraffic past its timeout: killed, exit 1, the group removed', async (t) => {
  const result = await env.deploy({
    ...env.baseInput,
    amiId: amis['2.0.0'],
    version: '2.0.1',
    beforeTraffic: 'echo waiting; sleep 300',
    beforeTrafficTimeout: '2s',
  });
  t.is(result.exitCode, 1, JSON.stringify(result.output));
  const error = (result.output as { error: Record<string, unknown> }).error;
  t.is(error.code, 'BeforeTrafficFailed');
  t.regex(String(error.message), /beforeTraffic timed out after 2s; last lines:\nwaiting/);
  const names = (await describeAsgsByName(env.aws, ['web-prod-v001', 'web-prod-v002'])).map(
    (g) => g.AutoScalingGroupName,
  );
  t.deepEqual(names, []);
});

test.serial(
  'a passing beforeTraffic sees the new instances outside production, then the deploy goes on: 0 failed',
  async (t) => {
    const seen = join(dir, 'seen.json');
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis['3.0.0'],
      version: '3.0.0',
      beforeTraffic:
        `printf '{"group":"%s","version":"%s","ami":"%s","instances":%s}' ` +
        `"$BLUEGREEN_SERVER_GROUP" "$BLUEGREEN_VERSION" "$BLUEGREEN_AMI_ID" "$BLUEGREEN_INSTANCES" > '${seen}'`,
    });
    const report = await traffic.stop();
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
    const seenEnv = JSON.parse(readFileSync(seen, 'utf8')) as {
      group: string;
      version: string;
      ami: string;
      instances: Array<{ id: string; privateIp: string | null }>;
    };
    const serverGroup = (result.output as { serverGroup: string }).serverGroup;
    t.is(seenEnv.group, serverGroup);
    t.is(seenEnv.version, '3.0.0');
    t.is(seenEnv.ami, amis['3.0.0'] ?? '');
    t.is(seenEnv.instances.length, 2);
    t.true(seenEnv.instances.every((i) => /^i-/.test(i.id) && typeof i.privateIp === 'string'));
    t.is(report.failed, 0, JSON.stringify(report.failures));
    const last = report.timeline[report.timeline.length - 1];
    t.deepEqual(last?.versions, ['3.0.0']);
    const [group] = await describeAsgsByName(env.aws, [serverGroup]);
    t.deepEqual(group?.TargetGroupARNs, [env.sandbox.infra!.targetGroupArn], 'it joined production');
  },
);

/** The deploy after a killed one: it breaks the killed run's expired lock, recovers, then deploys `version`. */
function deployAfterCrash(version: string) {
  return env.deploy({ ...env.baseInput, amiId: amis[version], version, breakExpiredLock: true, lockWait: '30s' });
}

/**
 * The test command: finds the test listener's local port in the sandbox (`GET /_sandbox/listeners`, by
 * BLUEGREEN_TEST_LISTENER_ARN; on AWS it would use BLUEGREEN_TEST_URL), sends 10 requests there and one to
 * production, writes what it saw, and fails unless every test request reached BLUEGREEN_VERSION.
 */
const TEST_SCRIPT = `
const fs = require('node:fs');
(async () => {
  const { listeners } = await (await fetch(process.env.SANDBOX_ENDPOINT + '/_sandbox/listeners')).json();
  const local = listeners.find((l) => l.listenerArn === process.env.BLUEGREEN_TEST_LISTENER_ARN).url;
  const seen = [];
  for (let i = 0; i < 10; i++) seen.push((await (await fetch(local + '/')).json()).version);
  const production = (await (await fetch(process.env.SANDBOX_PRODUCTION_URL + '/')).json()).version;
  fs.writeFileSync(process.env.SEEN_FILE, JSON.stringify({ seen, production, testUrl: process.env.BLUEGREEN_TEST_URL }));
  console.log('test listener served ' + [...new Set(seen)].join(','));
  process.exit(seen.every((v) => v === process.env.BLUEGREEN_VERSION) && !process.env.FAIL_ON_PURPOSE ? 0 : 4);
})().catch((e) => { console.error(String(e)); process.exit(5); });
`;

test.serial(
  'testListener: the command really reaches the new version through it while production serves the old; exit 0, listener back, temporary target group gone',
  async (t) => {
    const listenerArn = await ensureTestListener(env);
    const before = await listenerActions(env, listenerArn);
    const script = join(dir, 'smoke.cjs');
    writeFileSync(script, TEST_SCRIPT);
    const seenFile = join(dir, 'listener-seen.json');
    process.env.SANDBOX_ENDPOINT = env.sandbox.endpoint;
    process.env.SANDBOX_PRODUCTION_URL = env.listenerUrl;
    process.env.SEEN_FILE = seenFile;
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis['4.0.0'],
      version: '4.0.0',
      testListener: listenerArn,
      beforeTraffic: `node '${script}'`,
    });
    const report = await traffic.stop();
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-30).join('\n')}`);
    const seen = JSON.parse(readFileSync(seenFile, 'utf8')) as { seen: string[]; production: string; testUrl: string };
    t.deepEqual([...new Set(seen.seen)], ['4.0.0'], 'every request through the test listener reached the new version');
    t.is(seen.production, '3.0.0', 'production still served the old version meanwhile');
    t.is(seen.testUrl, `http://${env.sandbox.infra!.loadBalancerDnsName}:8080`);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, ['4.0.0']);
    t.deepEqual(await listenerActions(env, listenerArn), before, 'the test listener has its previous action back');
    t.deepEqual(await temporaryTargetGroups(env), [], 'the temporary target group is deleted');
  },
);

test.serial(
  'testListener with a failing command: exit 1, production never served the new version, listener back, temporary target group gone',
  async (t) => {
    const listenerArn = await ensureTestListener(env);
    const before = await listenerActions(env, listenerArn);
    process.env.FAIL_ON_PURPOSE = '1';
    const traffic = probe();
    const result = await env
      .deploy({
        ...env.baseInput,
        amiId: amis['2.0.0'],
        version: '2.0.0',
        testListener: listenerArn,
        beforeTraffic: `node '${join(dir, 'smoke.cjs')}'`,
      })
      .finally(() => delete process.env.FAIL_ON_PURPOSE);
    const report = await traffic.stop();
    t.is(result.exitCode, 1, JSON.stringify(result.output));
    const error = (result.output as { error: Record<string, unknown> }).error;
    t.is(error.code, 'BeforeTrafficFailed');
    t.regex(String(error.message), /exited 4; last lines:\ntest listener served 2\.0\.0/);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(Object.keys(report.perVersion), ['4.0.0'], 'production never served 2.0.0');
    t.deepEqual(await listenerActions(env, listenerArn), before, 'the test listener has its previous action back');
    t.deepEqual(await temporaryTargetGroups(env), [], 'the temporary target group is deleted');
  },
);

test.serial(
  'a crash while beforeTraffic runs behind the test listener: the next deploy puts the listener back, deletes the temporary target group and removes the group',
  async (t) => {
    const listenerArn = await ensureTestListener(env);
    const before = await listenerActions(env, listenerArn);
    const input = join(dir, 'crash-in.json');
    writeFileSync(
      input,
      JSON.stringify({
        ...env.baseInput,
        amiId: amis['3.0.0'],
        version: '3.0.9',
        lockLease: '5s',
        testListener: listenerArn,
        // A real kill -9 of the deploy at this exact step: the command's parent is the deploy process.
        beforeTraffic: 'kill -9 $PPID',
      }),
    );
    const traffic = probe();
    // Async: the sandbox answers from this very process.
    const child = spawn(
      process.execPath,
      [
        '--import=tsx',
        join(__dirname, '../../src/bin/deploy.ts'),
        '--input',
        input,
        '--output',
        join(dir, 'crash-out.json'),
      ],
      {
        env: {
          ...process.env,
          ...env.sandbox.env(),
          BLUEGREEN_POLL_MIN_MS: String(1000 * TEST_TIME_SCALE),
          BLUEGREEN_POLL_MAX_MS: String(10000 * TEST_TIME_SCALE),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const crashed = await new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
      child.on('close', (_code, signal) => resolve({ signal, stderr })),
    );
    t.is(crashed.signal, 'SIGKILL', crashed.stderr.slice(-2000));
    const { groups } = await loadCluster(env.aws, 'web-prod');
    const left = groups.find((g) => g.tags[Tag.phase] === 'testing');
    t.truthy(left, 'the crashed deploy left its group in phase testing');
    t.notDeepEqual(
      await listenerActions(env, listenerArn),
      before,
      'the listener still forwards to the temporary target group',
    );

    const next = await deployAfterCrash('3.0.0');
    const report = await traffic.stop();
    t.is(next.exitCode, 0, `${JSON.stringify(next.output)}\n${env.lines.slice(-30).join('\n')}`);
    t.deepEqual(await listenerActions(env, listenerArn), before, 'the test listener has its previous action back');
    t.deepEqual(await temporaryTargetGroups(env), [], 'the temporary target group is deleted');
    const after = (await loadCluster(env.aws, 'web-prod')).groups;
    t.false(
      after.some((g) => g.tags[Tag.deploymentId] === left?.tags[Tag.deploymentId]),
      'the crashed group is removed (its name may be taken again by the next deploy)',
    );
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.false(Object.keys(report.perVersion).includes('3.0.9'));
  },
);

test.serial(
  'kill -9 after the temporary target group is made, before its group: the next deploy deletes it, the test listener as it was',
  async (t) => {
    const listenerArn = await ensureTestListener(env);
    const before = await listenerActions(env, listenerArn);
    const killed = await runStageBundle(
      'deploy',
      {
        ...env.baseInput,
        amiId: amis['3.0.0'],
        version: '3.0.8',
        lockLease: '5s',
        testListener: listenerArn,
        beforeTraffic: 'true',
      },
      {
        ...env.sandbox.env(),
        BLUEGREEN_POLL_MIN_MS: String(1000 * TEST_TIME_SCALE),
        BLUEGREEN_POLL_MAX_MS: String(10000 * TEST_TIME_SCALE),
        BLUEGREEN_FAILPOINTS: 'before-asg-created',
      },
    );
    t.not(killed.exitCode, 0, 'the deploy was killed');
    t.regex(killed.stderr, /failpoint before-asg-created/);
    const left = await temporaryTargetGroups(env);
    t.is(left.length, 1, 'the killed run left its temporary target group, which no group owns');

    const next = await deployAfterCrash('3.0.0');
    t.is(next.exitCode, 0, `${JSON.stringify(next.output)}\n${env.lines.slice(-30).join('\n')}`);
    const recovered = (next.output as { recovered?: string[] }).recovered ?? [];
    t.true(recovered.includes(`deleted orphan test target group ${left[0]}`), JSON.stringify(recovered));
    t.deepEqual(await temporaryTargetGroups(env), [], 'the temporary target group is deleted');
    t.deepEqual(await listenerActions(env, listenerArn), before, 'the test listener is as it was');
  },
);

test.serial(
  'afterTraffic failing inside the watch is a breach: the previous group back, exit 1, 0 failed requests',
  async (t) => {
    const before = (await loadCluster(env.aws, 'web-prod')).groups.find((g) => g.enabled);
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis['2.0.0'],
      version: '2.0.0',
      watch: '20s',
      afterTraffic: 'echo "checkout flow on $BLUEGREEN_SERVER_GROUP: 502"; exit 6',
    });
    const report = await traffic.stop();
    t.is(result.exitCode, 1, JSON.stringify(result.output));
    const error = (result.output as { error: Record<string, unknown> }).error;
    t.is(error.code, 'VerificationFailed');
    t.regex(String(error.message), /afterTraffic exited 6; last lines:\ncheckout flow on web-prod-v\d{3}: 502/);
    t.regex(env.lines.join('\n'), /\[deploy:afterTraffic\] │ checkout flow/);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(report.timeline[report.timeline.length - 1]?.versions, [before?.tags[Tag.version]]);
    const enabled = (await loadCluster(env.aws, 'web-prod')).groups.filter((g) => g.enabled).map((g) => g.name);
    t.deepEqual(enabled, [before?.name], 'the previous group serves again, alone');
  },
);

test('afterTraffic without a watch is bad input: exit 2 naming it', async (t) => {
  const result = await env.deploy({ ...env.baseInput, amiId: amis['2.0.0'], afterTraffic: 'true' });
  t.is(result.exitCode, 2);
  t.is((result.output as { error: { field: string } }).error.field, 'afterTraffic');
});
