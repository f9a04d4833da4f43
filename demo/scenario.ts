import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from '../src/sandbox/sandbox';
import { startProbe, type Probe } from '../src/sandbox/probe';
import type { Outcome, StepResult, WatchedDraft } from './report';
import { makeSampleArtifact } from './sample-app';
import { runStageProcess, type StageProcessResult } from './stage-process';

/**
 * The demo's story, as a pipeline would run it: publish, bake (real Packer)
 * and deploy v1; then, with traffic flowing through the load balancer, v2;
 * a broken v3 whose deploy must roll itself back; a v4 that passes its
 * health check but fails 30 % of real requests, caught and undone by the
 * watch after cutover; a v5 failing 20 % of requests deployed as a canary,
 * caught by the canary analysis at its first step (10 % of the traffic); and
 * a manual rollback to v1.
 */

export const CLUSTER = 'web-demo';
const APP = 'web';
const BUILD_URL = 'https://jenkins.example.com/job/web-demo/';

/** The canary step's name (its failed requests are reported against the share to expect). */
export const CANARY_STEP = 'deploy 5.0.0 as a canary: fails 20 % of requests';
/** The canary's steps (% of the traffic) and the bad build's failing share. */
const CANARY_STEPS = [10, 100];
const CANARY_ERROR_SHARE = 0.2;

/** The steps in order, with the outcome each must have (the report lists them all, run or not). */
export const PLANNED_STEPS: ReadonlyArray<{ name: string; expected: Outcome }> = [
  { name: 'publish 1.0.0', expected: 'ok' },
  { name: 'bake 1.0.0', expected: 'ok' },
  { name: 'deploy 1.0.0', expected: 'ok' },
  { name: 'publish 2.0.0', expected: 'ok' },
  { name: 'bake 2.0.0', expected: 'ok' },
  { name: 'deploy 2.0.0', expected: 'ok' },
  { name: 'publish 3.0.0', expected: 'ok' },
  { name: 'bake 3.0.0 (broken)', expected: 'ok' },
  { name: 'deploy 3.0.0 (broken)', expected: 'rolled back automatically' },
  { name: 'publish 4.0.0', expected: 'ok' },
  { name: 'bake 4.0.0 (fails 30 %)', expected: 'ok' },
  { name: 'deploy 4.0.0 (fails 30 %)', expected: 'rolled back by its watch' },
  { name: 'publish 5.0.0', expected: 'ok' },
  { name: 'bake 5.0.0 (fails 20 %)', expected: 'ok' },
  { name: CANARY_STEP, expected: 'canary failed at its first step' },
  { name: 'rollback to 1.0.0', expected: 'ok' },
];

export interface ScenarioContext {
  sandbox: Sandbox;
  /** The demo's temp dir (artifacts, stage files, TMPDIR of the stages). */
  dir: string;
  timeScale: number;
  signal: AbortSignal;
  /** Shows a line on the console under a label (a step name, or `demo`). */
  show(label: string, line: string): void;
  /** Results so far, in order (filled as steps end). */
  steps: StepResult[];
  /** Set once the probe starts, so the caller can stop it whatever happens. */
  onProbe(probe: Probe): void;
  /** The bad build the watch caught: its failed requests are the only ones allowed. */
  onWatched(watched: WatchedDraft): void;
}

/** Thrown when a step did not end as expected: later steps would build on it, so the story stops. */
export class UnexpectedOutcome extends Error {}

function outcomeOf(run: StageProcessResult): Outcome {
  if (run.exitCode === 0) return 'ok';
  // A canary whose analysis failed its first step (weight back to 0, group removed).
  const steps = (run.output?.error?.verification?.steps ?? []) as Array<{ verdict: string; analysis?: unknown }>;
  if (run.exitCode === 1 && steps.length === 1 && steps[0]?.verdict === 'failed' && steps[0]?.analysis)
    return 'canary failed at its first step';
  // A watch's rollback also marks itself rolled back: ask for the watch first.
  if (run.exitCode === 1 && run.output?.error?.code === 'VerificationFailed') return 'rolled back by its watch';
  if (run.exitCode === 1 && run.output?.error?.autoRolledBack === true) return 'rolled back automatically';
  return 'failed';
}

function errorLine(run: StageProcessResult): string {
  const error = run.output?.error;
  return error
    ? `exit ${run.exitCode} ${error.code}: ${String(error.message).split('\n')[0]}`
    : `exit ${run.exitCode}, no output file`;
}

/** Why the deploy rolled itself back and what it left, e.g. `BrokenBuild (Target.ResponseCodeMismatch): v002 removed, v001 kept serving`. */
function rolledBackLine(run: StageProcessResult): string {
  const error = run.output.error;
  const reason = /\(((?:Target|Elb)\.\w+)\)/.exec(String(error.message))?.[1];
  return `${error.code}${reason ? ` (${reason})` : ''}: ${error.serverGroup} removed, ${error.previousServerGroup ?? 'nothing'} kept serving`;
}

/** The failed step of a watch: what it saw and how fast traffic went back. */
function failedWatchStep(
  run: StageProcessResult,
): { reason?: string; startedAt?: string; breachAt?: string; trafficBackMs?: number } | undefined {
  const steps = (run.output?.error?.verification?.steps ?? []) as Array<{
    verdict: string;
    reason?: string;
    startedAt?: string;
    breachAt?: string;
    trafficBackMs?: number;
  }>;
  return steps.find((s) => s.verdict === 'failed');
}

/** e.g. `VerificationFailed: error rate 31 % … ; traffic back 1.2s after the breach`. */
function watchLine(run: StageProcessResult): string {
  const failed = failedWatchStep(run);
  const back =
    failed?.trafficBackMs !== undefined
      ? `; traffic back ${(failed.trafficBackMs / 1000).toFixed(1)}s after the breach`
      : '';
  return `${run.output.error.code}: ${failed?.reason ?? 'the watch failed'}${back}`;
}

/** Sandbox settings scaled to the demo's clock (the stages count real seconds). */
function timings(timeScale: number) {
  return {
    // Enough for boot + health checks of a good version, with margin.
    healthTimeout: Math.max(60, Math.ceil(600 * timeScale)),
    // The broken version: long enough that a good one would have been healthy, short enough to watch.
    brokenHealthTimeout: Math.max(8, Math.ceil(150 * timeScale)),
    drainTimeout: Math.ceil(30 * timeScale) + 60,
    // The watch after cutover: 5 minutes in AWS time (the built-in gates judge the new group's error rate).
    watch: Math.max(5, Math.ceil(300 * timeScale)),
    // A canary step: 5 minutes in AWS time, and never under 10 real seconds (enough requests to judge at 10 %).
    stepWatch: Math.max(10, Math.ceil(300 * timeScale)),
  };
}

export async function runScenario(context: ScenarioContext): Promise<void> {
  const { sandbox, dir } = context;
  const infra = sandbox.infra;
  if (!infra || !sandbox.listenerUrl) throw new Error('the sandbox started without the demo infrastructure');
  const tmp = join(dir, 'stage-tmp');
  mkdirSync(tmp, { recursive: true });
  const env: Record<string, string> = {
    ...sandbox.env(),
    // Stages poll as on AWS, on the sandbox's clock.
    BLUEGREEN_POLL_MIN_MS: String(Math.max(10, Math.round(1000 * context.timeScale))),
    BLUEGREEN_POLL_MAX_MS: String(Math.max(20, Math.round(10_000 * context.timeScale))),
    // Packer's and the bake's build folders land in the demo's temp dir, removed at the end.
    TMPDIR: tmp,
  };
  const limits = timings(context.timeScale);
  const ledger = { bucket: infra.ledgerBucket, prefix: 'bluegreen' };
  let runs = 0;

  async function step(
    name: string,
    stage: string,
    input: Record<string, unknown>,
    describe: (output: any) => string, // eslint-disable-line @typescript-eslint/no-explicit-any -- stage outputs
    afterRun?: (run: StageProcessResult) => void,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- stage outputs
  ): Promise<any> {
    const planned = PLANNED_STEPS.find((s) => s.name === name);
    if (!planned) throw new Error(`step ${name} is not planned`);
    runs += 1;
    const stepDir = join(dir, `${String(runs).padStart(2, '0')}-${stage}`);
    mkdirSync(stepDir, { recursive: true });
    context.show('demo', `── ${name} ──`);
    const run = await runStageProcess({
      stage,
      input,
      dir: stepDir,
      env,
      signal: context.signal,
      onLine: (line) => context.show(name, line),
    });
    afterRun?.(run);
    const outcome = outcomeOf(run);
    const detail =
      run.exitCode === 0
        ? describe(run.output)
        : outcome === 'rolled back automatically'
          ? rolledBackLine(run)
          : outcome === 'rolled back by its watch' || outcome === 'canary failed at its first step'
            ? watchLine(run)
            : errorLine(run);
    context.steps.push({ name, expected: planned.expected, outcome, durationMs: run.durationMs, detail });
    context.show(
      'demo',
      `${name}: ${outcome}${outcome === planned.expected ? '' : ` (expected ${planned.expected})`} in ${(run.durationMs / 1000).toFixed(1)}s`,
    );
    if (outcome !== planned.expected)
      throw new UnexpectedOutcome(`${name}: expected ${planned.expected}, got ${outcome} (${detail})`);
    return run.output;
  }

  async function publish(version: string): Promise<string> {
    const file = await makeSampleArtifact(join(dir, 'artifacts'), version);
    const output = await step(
      `publish ${version}`,
      'publish',
      {
        file,
        bucket: infra?.artifactBucket,
        keyTemplate: '{app}/{version}/{fileName}',
        app: APP,
        version,
        buildUrl: BUILD_URL,
      },
      (o) => `${o.artifactUrl} (${o.size} bytes)`,
    );
    return output.artifactUrl as string;
  }

  async function bake(
    version: string,
    artifactUrl: string,
    health: 'ok' | 'fail',
    name = health === 'ok' ? `bake ${version}` : `bake ${version} (broken)`,
    tags: Record<string, string> = {},
  ): Promise<string> {
    const output = await step(
      name,
      'bake',
      {
        app: APP,
        version,
        // moto's stock images; owners is what makes the filter match there.
        sourceAmi: { filter: { name: 'amzn-ami-hvm-*', owners: ['amazon'] } },
        artifactUrl,
        // The sandbox runs each AMI's app as its tags say: `fail` answers 500 on /health.
        sandboxHealth: health,
        // Sandbox app behaviour beyond /health, e.g. `sandbox:errors`: that share of real requests answered 500.
        tags,
        build: { url: BUILD_URL },
        timeoutMinutes: 10,
      },
      (o) => `${o.amiId} (${o.amiName}, real packer)`,
    );
    return output.amiId as string;
  }

  const common = { cluster: CLUSTER, ledger, buildUrl: BUILD_URL, drainTimeout: limits.drainTimeout };

  const artifact1 = await publish('1.0.0');
  const ami1 = await bake('1.0.0', artifact1, 'ok');
  await step(
    'deploy 1.0.0',
    'deploy',
    {
      ...common,
      amiId: ami1,
      version: '1.0.0',
      artifactUrl: artifact1,
      targetGroups: [infra.targetGroupName],
      capacity: { min: 2, max: 4, desired: 2 },
      instanceType: 't3.micro',
      subnets: infra.subnetIds,
      securityGroups: [infra.securityGroupId],
      healthTimeout: limits.healthTimeout,
    },
    (o) => `${o.serverGroup} serving (first deploy)`,
  );

  // From here on the load balancer serves: every request must succeed, whatever happens to the cluster.
  const probe = startProbe({
    url: sandbox.listenerUrl,
    concurrency: 4,
    pauseMs: 10,
    maxDurationMs: 3_600_000,
    maxRequests: 10_000_000,
    requestTimeoutMs: 5_000,
  });
  context.onProbe(probe);
  context.show('demo', `traffic probe started: 4 clients → ${sandbox.listenerUrl}`);

  const deployed = (o: { serverGroup: string; previousServerGroup?: string | null }) =>
    `${o.serverGroup} serving, ${o.previousServerGroup ?? 'none'} disabled`;
  const artifact2 = await publish('2.0.0');
  const ami2 = await bake('2.0.0', artifact2, 'ok');
  await step(
    'deploy 2.0.0',
    'deploy',
    { ...common, amiId: ami2, version: '2.0.0', artifactUrl: artifact2, healthTimeout: limits.healthTimeout },
    deployed,
  );

  const artifact3 = await publish('3.0.0');
  const ami3 = await bake('3.0.0', artifact3, 'fail');
  await step(
    'deploy 3.0.0 (broken)',
    'deploy',
    { ...common, amiId: ami3, version: '3.0.0', artifactUrl: artifact3, healthTimeout: limits.brokenHealthTimeout },
    deployed,
  );

  // v4 passes its health check but fails 30 % of real requests: the watch after cutover catches it while v2 is still warm.
  const artifact4 = await publish('4.0.0');
  const ami4 = await bake('4.0.0', artifact4, 'ok', 'bake 4.0.0 (fails 30 %)', { 'sandbox:errors': '0.3' });
  const watchedStep = 'deploy 4.0.0 (fails 30 %)';
  const startMs = Date.now() - probe.startedAt;
  const requestsBefore = probe.completed();
  await step(
    watchedStep,
    'deploy',
    {
      ...common,
      amiId: ami4,
      version: '4.0.0',
      artifactUrl: artifact4,
      healthTimeout: limits.healthTimeout,
      watch: limits.watch,
    },
    deployed,
    (run) => {
      const failed = failedWatchStep(run);
      context.onWatched({
        step: watchedStep,
        version: '4.0.0',
        startMs,
        endMs: Date.now() - probe.startedAt,
        requests: probe.completed() - requestsBefore,
        probeStartedAt: probe.startedAt,
        ...(failed?.breachAt ? { breachAt: Date.parse(failed.breachAt) } : {}),
        ...(failed?.trafficBackMs !== undefined ? { restoreMs: failed.trafficBackMs } : {}),
        ...(failed?.reason ? { reason: failed.reason } : {}),
      });
    },
  );

  // v5 fails 20 % of requests; deployed as a canary, the analysis fails it at its first step (10 %).
  const artifact5 = await publish('5.0.0');
  const ami5 = await bake('5.0.0', artifact5, 'ok', 'bake 5.0.0 (fails 20 %)', {
    'sandbox:errors': String(CANARY_ERROR_SHARE),
  });
  const canaryStart = Date.now() - probe.startedAt;
  await step(
    CANARY_STEP,
    'deploy',
    {
      ...common,
      amiId: ami5,
      version: '5.0.0',
      artifactUrl: artifact5,
      healthTimeout: limits.healthTimeout,
      strategy: 'canary',
      steps: CANARY_STEPS,
      stepWatch: limits.stepWatch,
    },
    deployed,
    (run) => {
      const failed = failedWatchStep(run);
      const stepStart = failed?.startedAt ? Date.parse(failed.startedAt) - probe.startedAt : canaryStart;
      const back =
        failed?.breachAt !== undefined
          ? Date.parse(failed.breachAt) - probe.startedAt + (failed.trafficBackMs ?? 0)
          : Date.now() - probe.startedAt;
      context.onWatched({
        step: CANARY_STEP,
        version: '5.0.0',
        startMs: canaryStart,
        endMs: Date.now() - probe.startedAt,
        countWindow: { startMs: stepStart, endMs: back },
        requests: probe.startedBetween(stepStart, back),
        expected: { share: (CANARY_STEPS[0] ?? 0) / 100, errorShare: CANARY_ERROR_SHARE },
        probeStartedAt: probe.startedAt,
        ...(failed?.breachAt ? { breachAt: Date.parse(failed.breachAt) } : {}),
        ...(failed?.trafficBackMs !== undefined ? { restoreMs: failed.trafficBackMs } : {}),
        ...(failed?.reason ? { reason: failed.reason } : {}),
      });
    },
  );

  await step(
    'rollback to 1.0.0',
    'rollback',
    { ...common, to: '1.0.0', reason: 'demo: back to the first release', healthTimeout: limits.healthTimeout },
    (o) => `${o.restoredServerGroup} serving again (${o.mode}), ${o.rolledBackFrom} disabled`,
  );
}
