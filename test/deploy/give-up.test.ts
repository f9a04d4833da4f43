import test from 'ava';
import { describeAsgsByName, loadCluster } from '../../src/cluster/server-groups';
import { Tag } from '../../src/aws/tags';
import { startProbe } from '../../src/sandbox/probe';
import { startDeploySandbox, type DeploySandbox } from '../helpers/deploy-sandbox';

// A broken build is given up on when the load balancer has plainly said so, not when healthTimeout (10m) runs out;
// builds that are slow to boot or fail some checks still pass. Outcomes only: how fast is the benchmark's business.
let env: DeploySandbox;
const amis: Record<string, string> = {};

test.before(async () => {
  env = await startDeploySandbox();
  amis['1.0.0'] = await env.ami('1.0.0');
  amis.broken = await env.ami('2.0.0-broken', 'fail');
  // 60 AWS seconds of boot (3 s scaled), reported `initial` all along: longer than the broken build takes to be given up on.
  amis.slow = await env.ami('3.0.0-slow', 'slow-boot:60');
  amis.flaky = await env.ami('4.0.0-flaky', 'flaky:0.1');
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

const versionsOf = async (): Promise<string[]> =>
  (await loadCluster(env.aws, 'web-prod')).groups.filter((g) => g.enabled).map((g) => g.tags[Tag.version] ?? '?');

test.serial(
  'a build whose health check fails, healthTimeout 10m: given up on long before the timeout, rolled back, exit 1, 0 failed requests',
  async (t) => {
    const traffic = probe();
    const started = Date.now();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis.broken,
      version: '2.0.0-broken',
      healthTimeout: '10m',
    });
    const elapsedMs = Date.now() - started;
    const report = await traffic.stop();
    t.is(result.exitCode, 1, JSON.stringify(result.output));
    const error = (result.output as { error: Record<string, unknown> }).error;
    t.is(error.code, 'BrokenBuild');
    t.regex(String(error.message), /Target\.ResponseCodeMismatch/, "names the load balancer's reason");
    t.regex(String(error.message), /Rolled back automatically: web-prod-v001 removed, web-prod-v000 left as it was/);
    // An outcome bound, not a performance target: the 10 minute timeout did not run out.
    t.true(elapsedMs < 120_000, `ended after ${elapsedMs} ms`);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(Object.keys(report.perVersion), ['1.0.0'], 'the broken version never got traffic');
    t.deepEqual(await describeAsgsByName(env.aws, ['web-prod-v001']), [], 'the broken group is gone');
    t.deepEqual(await versionsOf(), ['1.0.0']);
  },
);

test.serial(
  'a build slow to boot (initial for 60 AWS seconds) is not mistaken for a broken one: it deploys',
  async (t) => {
    const traffic = probe();
    const result = await env.deploy({
      ...env.baseInput,
      amiId: amis.slow,
      version: '3.0.0-slow',
      healthTimeout: '10m',
    });
    const report = await traffic.stop();
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-20).join('\n')}`);
    t.is(report.failed, 0, JSON.stringify(report.failures));
    t.deepEqual(await versionsOf(), ['3.0.0-slow']);
  },
);

test.serial('a flaky build (10 % of health checks fail) that gets healthy within healthTimeout deploys', async (t) => {
  const result = await env.deploy({
    ...env.baseInput,
    amiId: amis.flaky,
    version: '4.0.0-flaky',
    healthTimeout: '10m',
  });
  t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-20).join('\n')}`);
  t.deepEqual(await versionsOf(), ['4.0.0-flaky']);
});
