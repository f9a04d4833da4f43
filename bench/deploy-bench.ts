/**
 * `npm run bench`: red/black deploy benchmark on the sandbox (issue 4).
 *
 * For each cluster size: a fresh sandbox (moto + traffic layer, demo infra,
 * scaled time), a first deploy (v1), then the measured red/black deploy (v2)
 * with the traffic probe running through the demo listener. Reports AWS calls
 * by action, calls per instance, cutover latency, total time against the
 * sandbox's intrinsic delays (the floor a perfect deploy could reach), and the
 * probe's totals. Table on stdout, JSON in bench/results/.
 *
 * Bounded: every size has a deadline; the sandbox is stopped at the end of
 * each size, on failure, at the deadline and on SIGINT/SIGTERM. Only 127.0.0.1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { connect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { CallCounter } from '../src/aws/call-counter';
import type { AwsClients } from '../src/aws/clients';
import { BluegreenError, describeError } from '../src/core/errors';
import { createLogger, type Logger } from '../src/core/log';
import { deploy, type DeployOutput } from '../src/deploy/deploy';
import { parseStageInput } from '../src/stages/framework';
import { deployStage, singleRegionRequest } from '../src/stages/deploy';
import { costDelta, type CostSnapshot } from '../src/sandbox/cost-meter';
import { DEMO_HEALTH_CHECK } from '../src/sandbox/demo-infra';
import { startProbe, type Probe, type ProbeReport } from '../src/sandbox/probe';
import { sandboxClients, startSandbox, type Sandbox } from '../src/sandbox/sandbox';
import { makeAppAmi, putTargetGroup5xxAlarm } from '../test/sandbox/fixtures';
import {
  brokenBuildTimesOf,
  median,
  trueCutoverOf,
  type BrokenBuildTimes,
  type TrueCutover,
} from './timeline-measures';
import { formatColdStartTable, measureColdStart, type ColdStartRow } from './cold-start';

interface BenchOptions {
  sizes: number[];
  /** Measured deploys per size (the true cutover is their median). */
  repeats: number;
  /** Sizes that also deploy a broken build (health check fails) with healthTimeout 10m. */
  brokenSizes: number[];
  /** Sizes that also run the AWS CLI peer script (bench/peers/aws-cli-bluegreen.sh) on a fresh sandbox. */
  peerSizes: number[];
  /** Real seconds the peer's waiter may run on a broken build (its own limit is 40 × 15 s = 600 s). */
  peerWaitCap: number;
  timeScale: number;
  bootSeconds: number;
  probeConcurrency: number;
  /** Real seconds allowed for one size (sandbox start, both deploys, stop). */
  deadlineSeconds: number | undefined;
  /** Sizes that also deploy a build failing 50 % of real requests behind a healthy /health, watched with a 5XX alarm. */
  watchSizes: number[];
  /** Measured runs per command of the cold-start table (0: no table). */
  coldStartRuns: number;
  verbose: boolean;
  outDir: string;
}

/** The sandbox's intrinsic delays (real ms, scaled): what any deploy must wait for. */
interface Floor {
  bootMs: number;
  healthyMs: number;
  drainMs: number;
  totalMs: number;
}

/** Wall time spent inside AWS calls, per `service:Action` (an SDK middleware of the bench). */
class CallTimer {
  readonly ms = new Map<string, number>();
  attach(aws: AwsClients): void {
    for (const [service, client] of [
      ['autoscaling', aws.autoScaling],
      ['ec2', aws.ec2],
      ['elbv2', aws.elbv2],
      ['s3', aws.s3],
      ['cloudwatch', aws.cloudWatch],
    ] as const) {
      const middleware =
        (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
          const key = `${service}:${context.commandName?.replace(/Command$/, '') ?? 'Unknown'}`;
          const t = Date.now();
          try {
            return await next(args);
          } finally {
            this.ms.set(key, (this.ms.get(key) ?? 0) + Date.now() - t);
          }
        };
      (client.middlewareStack as unknown as { add: (m: unknown, o: { step: string; name: string }) => void }).add(
        middleware,
        {
          step: 'initialize',
          name: 'benchCallTimer',
        },
      );
    }
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.ms.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
  total(): number {
    return [...this.ms.values()].reduce((a, b) => a + b, 0);
  }
  reset(): void {
    this.ms.clear();
  }
}

/** One measured deploy of a size. */
interface RepeatResult {
  durationMs: number;
  /** Last new target really healthy → first SuspendProcesses/DeregisterTargets of the old group, from the sandbox's timeline. */
  trueCutover?: TrueCutover;
  /** The deploy's own `timings.cutoverLatencyMs` (from the poll that saw health). */
  selfReportedCutoverMs?: number;
  eventLoopDelayMs?: { p50: number; p99: number; max: number };
  probe?: Pick<ProbeReport, 'total' | 'ok' | 'failed' | 'failures' | 'perVersion' | 'durationMs'>;
}

/** A broken build's deploy (health check fails from the start). Times in ms from its group's CreateAutoScalingGroup. */
/** A bad build (50 % of real requests fail, /health passes) caught by the watch's 5XX alarm. */
interface WatchedResult {
  exitCode: number;
  code?: string;
  /** First answer of the bad version → the breach the watch saw; and its floor: alarm period × datapoints to alarm + one poll. */
  detectMs?: number;
  detectFloorMs: number;
  /** Breach → the bad group out of the target groups (every new request on the previous group). */
  restoreMs?: number;
  /** Requests that failed while it served, and all requests of the row. */
  failed: number;
  requests: number;
}

interface BrokenResult {
  exitCode: number;
  /** The whole run, wall time. */
  totalMs: number;
  /** The load balancer's verdict: every new target `unhealthy` (the floor: boot + unhealthy threshold × interval). */
  allUnhealthyMs?: number;
  /** When the deploy gave up (bluegreen: its `did not become healthy` log line; the peer: when its waiter ended). */
  gaveUpMs?: number;
  /** gaveUp − allUnhealthy: what the give-up rule costs past the floor. */
  pastUnhealthyMs?: number;
  /** When the broken group was deleted (undefined: never). */
  deletedMs?: number;
  /** Gateway calls of the run. */
  calls: number;
  probeFailed: number;
  /** Server groups with targets still in the target group afterwards. */
  leftInTargetGroup: string[];
  /** The broken build's group. */
  group?: string;
}

/** The AWS CLI peer at one size. */
interface PeerResult {
  size: number;
  ok: boolean;
  error?: string;
  durationMs?: number;
  gatewayTotal?: number;
  probe?: Pick<ProbeReport, 'total' | 'ok' | 'failed' | 'failures' | 'perVersion' | 'durationMs'>;
  broken?: BrokenResult;
}

interface SizeResult {
  size: number;
  ok: boolean;
  /** Every measured deploy (the first one's calls and timings are the ones reported below). */
  repeats: RepeatResult[];
  /** Median of the repeats' true cutover. */
  trueCutoverMedianMs?: number;
  broken?: BrokenResult;
  watched?: WatchedResult;
  error?: string;
  /** Phases in real ms: sandbox start, first deploy (v1), the first measured deploy. */
  phasesMs: { sandboxStart?: number; firstDeploy?: number; measuredDeploy?: number; sandboxStop?: number };
  /** Calls of the measured deploy by `service:Action`, from the deploy's own SDK call counter (logical calls, no retries). */
  calls?: Record<string, number>;
  totalCalls?: number;
  callsPerInstance?: number;
  /** The same deploy as the sandbox gateway saw it (every HTTP attempt, retries included). */
  gatewayCalls?: Record<string, number>;
  gatewayTotal?: number;
  /** Wall ms spent inside AWS calls by action (calls run one after another, so this is time the deploy waited on the API). */
  callMs?: Record<string, number>;
  callMsTotal?: number;
  timings?: NonNullable<DeployOutput['timings']>;
  durationMs?: number;
  floor: Floor;
  overheadMs?: number;
  /** Event loop delay of this process (sandbox apps, load balancer, probe and deploy share it) during the measured deploy, ms. */
  eventLoopDelayMs?: { p50: number; p99: number; max: number };
  /** What the sandbox itself spent during the first measured deploy: its reads of moto and refreshes by kind, and moto's CPU seconds. */
  sandboxCost?: { costs: CostSnapshot; motoCpuS?: number; benchCpuS: number };
  /** After the stop: the sandbox's moto process and ports still alive (should be empty). */
  leftovers?: { motoPid: number; motoAlive: boolean; openPorts: number[] };
  /** The probes of every measured deploy, summed. */
  probe?: Pick<ProbeReport, 'total' | 'ok' | 'failed' | 'failures' | 'perVersion' | 'durationMs'>;
  deployOutput?: Pick<
    DeployOutput,
    'serverGroup' | 'previousServerGroup' | 'disabledServerGroups' | 'scaledDownServerGroups' | 'destroyedServerGroups'
  >;
}

function parseArgs(argv: string[]): BenchOptions {
  const parsed = yargs(argv)
    .scriptName('npm run bench --')
    .usage('$0 [--sizes 2,20,200] [--time-scale 0.05]')
    .options({
      sizes: { type: 'string', default: '2,20,200', describe: 'Cluster sizes (instances), comma-separated' },
      repeats: { type: 'number', default: 3, describe: 'Measured deploys per size (medians over them)' },
      'broken-sizes': {
        type: 'string',
        default: '2,20',
        describe: 'Sizes that also deploy a broken build (health check fails)',
      },
      'peer-sizes': { type: 'string', default: '2,20', describe: 'Sizes that also run the AWS CLI peer script' },
      'peer-wait-cap': {
        type: 'number',
        default: 30,
        describe: 'Real seconds the peer waits on a broken build before giving up',
      },
      'watch-sizes': {
        type: 'string',
        default: '2',
        describe: 'Sizes that also deploy a bad build (50 % of requests fail) caught by the watch; "" for none',
      },
      'cold-start-runs': {
        type: 'number',
        default: 10,
        describe: 'Runs per command of the cold-start and bundle-size table (0: skip it)',
      },
      'time-scale': { type: 'number', default: 0.05, describe: 'Sandbox time scale (1 = AWS-like delays)' },
      'boot-seconds': { type: 'number', default: 10, describe: 'Instance boot time in AWS seconds (before scaling)' },
      'probe-concurrency': { type: 'number', default: 4, describe: 'Probe requests in flight' },
      deadline: { type: 'number', describe: 'Real seconds allowed per size (default: 120 + 3 × size)' },
      verbose: { type: 'boolean', default: false, describe: 'Show the deploy logs on stderr' },
      'out-dir': { type: 'string', default: join(__dirname, 'results'), describe: 'Where the JSON results go' },
    })
    .strict()
    .help()
    .parseSync();
  const list = (value: unknown): number[] =>
    String(value)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number);
  const sizes = list(parsed.sizes);
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
    throw new Error(`--sizes must be integers between 1 and 1000 (got ${parsed.sizes})`);
  }
  const timeScale = parsed['time-scale'];
  if (!(timeScale > 0 && timeScale <= 1)) throw new Error(`--time-scale must be in (0, 1] (got ${timeScale})`);
  return {
    sizes,
    repeats: Math.max(1, Math.floor(parsed.repeats)),
    brokenSizes: list(parsed['broken-sizes']).filter((n) => sizes.includes(n)),
    peerSizes: list(parsed['peer-sizes']).filter((n) => sizes.includes(n)),
    peerWaitCap: Math.max(1, parsed['peer-wait-cap']),
    coldStartRuns: Math.max(0, Math.floor(parsed['cold-start-runs'])),
    watchSizes: String(parsed['watch-sizes'])
      .split(',')
      .map((x) => Number(x.trim()))
      .filter((n) => Number.isInteger(n) && n > 0),
    timeScale,
    bootSeconds: parsed['boot-seconds'],
    probeConcurrency: Math.max(1, Math.floor(parsed['probe-concurrency'])),
    deadlineSeconds: parsed.deadline,
    verbose: parsed.verbose,
    outDir: parsed['out-dir'],
  };
}

function floorOf(options: BenchOptions): Floor {
  const s = options.timeScale * 1000;
  const bootMs = options.bootSeconds * s;
  const healthyMs = DEMO_HEALTH_CHECK.healthyThreshold * DEMO_HEALTH_CHECK.intervalSeconds * s;
  const drainMs = DEMO_HEALTH_CHECK.deregistrationDelaySeconds * s;
  return { bootMs, healthyMs, drainMs, totalMs: bootMs + healthyMs + drainMs };
}

/** Rejects after `ms` (the size's deadline); `clear()` disarms it. */
function deadline(ms: number, what: string): { promise: Promise<never>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: deadline of ${Math.round(ms / 1000)}s passed`)), ms);
  });
  promise.catch(() => undefined);
  return { promise, clear: () => clearTimeout(timer) };
}

/** The sandbox of the size being run, stopped by the signal handler if need be. */
let activeSandbox: Sandbox | undefined;
let activeProbe: Probe | undefined;

/** Starts a sandbox for one row, remembered for the signal handler. */
async function rowSandbox(options: BenchOptions, log: Logger): Promise<Sandbox> {
  const sandbox = await startSandbox({
    timeScale: options.timeScale,
    infra: 'demo',
    bootSeconds: options.bootSeconds,
    log: log.child('sandbox'),
  });
  activeSandbox = sandbox;
  return sandbox;
}

/** Stops a row's sandbox and checks that nothing of it is left. */
async function stopRowSandbox(
  sandbox: Sandbox | undefined,
  log: Logger,
  label: string,
): Promise<{ stopMs: number; leftovers?: SizeResult['leftovers'] }> {
  await activeProbe?.stop();
  activeProbe = undefined;
  // Every port at this moment (instance apps included), to check that the stop closed them all.
  const found = sandbox?.resources();
  const t = Date.now();
  await sandbox?.stop();
  activeSandbox = undefined;
  const stopMs = Date.now() - t;
  if (!found) return { stopMs };
  const leftovers = {
    motoPid: found.motoPid,
    motoAlive: alive(found.motoPid),
    openPorts: await openPorts(found.ports),
  };
  if (leftovers.motoAlive || leftovers.openPorts.length > 0)
    log.error(`${label}: left behind ${JSON.stringify(leftovers)}`);
  return { stopMs, leftovers };
}

function startRowProbe(url: string, options: BenchOptions, limitMs: number): Probe {
  const probe = startProbe({
    url,
    concurrency: options.probeConcurrency,
    maxDurationMs: limitMs,
    maxRequests: 10_000_000,
    requestTimeoutMs: 10_000,
  });
  activeProbe = probe;
  return probe;
}

async function stopRowProbe(probe: Probe): Promise<NonNullable<SizeResult['probe']>> {
  const report = await probe.stop();
  activeProbe = undefined;
  return {
    total: report.total,
    ok: report.ok,
    failed: report.failed,
    failures: report.failures,
    perVersion: report.perVersion,
    durationMs: report.durationMs,
  };
}

/** Server groups still registered in the target group (with at least one target not draining): what a broken deploy left serving beside the good one. */
async function groupsInTargetGroup(sandbox: Sandbox, targetGroupArn: string): Promise<string[]> {
  const aws = sandbox.clients();
  await sandbox.refresh();
  const targets = new Set(
    sandbox
      .state()
      .targets.filter((t) => t.targetGroupArn === targetGroupArn && t.state !== 'draining' && t.state !== 'unused')
      .map((t) => t.instanceId),
  );
  const asgs = await describeAllAsgs(aws);
  return asgs
    .filter((g) => (g.Instances ?? []).some((i) => targets.has(i.InstanceId ?? '')))
    .map((g) => g.AutoScalingGroupName ?? '?');
}

async function describeAllAsgs(aws: AwsClients): Promise<AutoScalingGroup[]> {
  const found: AutoScalingGroup[] = [];
  let token: string | undefined;
  do {
    const page = await aws.autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ ...(token ? { NextToken: token } : {}) }),
    );
    found.push(...(page.AutoScalingGroups ?? []));
    token = page.NextToken;
  } while (token);
  return found;
}

async function runSize(size: number, options: BenchOptions, log: Logger): Promise<SizeResult> {
  const floor = floorOf(options);
  const result: SizeResult = { size, ok: false, phasesMs: {}, floor, repeats: [] };
  const limitMs = (options.deadlineSeconds ?? 120 + 3 * size * (options.repeats + 1)) * 1000;
  const guard = deadline(limitMs, `size ${size}`);
  const region = 'us-east-1';
  let sandbox: Sandbox | undefined;
  try {
    await Promise.race([
      guard.promise,
      (async () => {
        let t = Date.now();
        sandbox = await rowSandbox(options, log);
        result.phasesMs.sandboxStart = Date.now() - t;
        const infra = sandbox.infra;
        const listenerUrl = sandbox.listenerUrl;
        if (!infra || !listenerUrl) throw new Error('sandbox started without the demo infra');
        const setup = sandbox.clients();
        const v1 = await makeAppAmi(setup, '1.0.0');
        // The deploy's own clients, with their own counter (not the process-wide one).
        const counter = new CallCounter();
        const aws = sandboxClients(sandbox.endpoint, region, counter);
        const timer = new CallTimer();
        timer.attach(aws);
        const deployLog = log.child(`deploy-${size}`);
        // Real seconds: the deploy does not know about the time scale.
        const healthTimeout = Math.ceil(limitMs / 1000);
        const common = {
          ledger: { bucket: infra.ledgerBucket, prefix: 'bench' },
          healthTimeout,
          drainTimeout: Math.ceil(floor.drainMs / 1000) + 60,
          lockLease: 600,
        };
        const { input: first } = parseStageInput(
          deployStage,
          {
            app: 'bench',
            amiId: v1,
            version: '1.0.0',
            targetGroups: [infra.targetGroupName],
            capacity: { min: size, max: size, desired: size },
            instanceType: 't3.micro',
            subnets: infra.subnetIds,
            securityGroups: [infra.securityGroupId],
            ...common,
          },
          { env: { AWS_REGION: region } },
        );
        t = Date.now();
        let serving = (await deploy(aws, singleRegionRequest(first), deployLog)).serverGroup;
        result.phasesMs.firstDeploy = Date.now() - t;
        log.info(
          `size ${size}: v1 serving after ${((Date.now() - t) / 1000).toFixed(1)}s; measuring ${options.repeats} deploy(s)`,
        );

        for (let r = 1; r <= options.repeats; r += 1) {
          const version = `2.0.${r}`;
          const ami = await makeAppAmi(setup, version);
          const { input: request } = parseStageInput(
            deployStage,
            { cluster: 'bench', amiId: ami, version, ...common },
            { env: { AWS_REGION: region } },
          );
          counter.reset();
          timer.reset();
          sandbox.resetCalls();
          const probe = startRowProbe(listenerUrl, options, limitMs);
          const loop = monitorEventLoopDelay({ resolution: 10 });
          loop.enable();
          const costsBefore = sandbox.costs();
          const motoCpuBefore = cpuSecondsOf(sandbox.resources().motoPid);
          const benchCpuBefore = process.cpuUsage();
          t = Date.now();
          let output: DeployOutput;
          const repeat: RepeatResult = { durationMs: 0 };
          try {
            output = await deploy(aws, singleRegionRequest(request), deployLog);
          } finally {
            repeat.durationMs = Date.now() - t;
            loop.disable();
            repeat.eventLoopDelayMs = {
              p50: round(loop.percentile(50) / 1e6),
              p99: round(loop.percentile(99) / 1e6),
              max: round(loop.max / 1e6),
            };
            repeat.probe = await stopRowProbe(probe);
          }
          if (r === 1) {
            const motoCpuAfter = cpuSecondsOf(sandbox.resources().motoPid);
            const bench = process.cpuUsage(benchCpuBefore);
            result.sandboxCost = {
              costs: costDelta(costsBefore, sandbox.costs()),
              ...(motoCpuBefore !== undefined && motoCpuAfter !== undefined
                ? { motoCpuS: round(motoCpuAfter - motoCpuBefore, 2) }
                : {}),
              benchCpuS: round((bench.user + bench.system) / 1e6, 2),
            };
          }
          const cutover = trueCutoverOf(sandbox.timeline(t).events, [serving]);
          if (cutover) repeat.trueCutover = cutover;
          repeat.selfReportedCutoverMs = output.timings?.cutoverLatencyMs;
          result.repeats.push(repeat);
          serving = output.serverGroup;
          if (r === 1) {
            result.phasesMs.measuredDeploy = repeat.durationMs;
            result.calls = counter.snapshot();
            result.totalCalls = counter.total();
            result.callsPerInstance = round(counter.total() / size, 2);
            const gateway = sandbox.calls();
            result.gatewayCalls = gateway.calls;
            result.gatewayTotal = gateway.total;
            result.callMs = timer.snapshot();
            result.callMsTotal = timer.total();
            result.timings = output.timings ?? undefined;
            result.deployOutput = {
              serverGroup: output.serverGroup,
              previousServerGroup: output.previousServerGroup,
              disabledServerGroups: output.disabledServerGroups,
              scaledDownServerGroups: output.scaledDownServerGroups,
              destroyedServerGroups: output.destroyedServerGroups,
            };
          }
        }
        const durations = result.repeats.map((x) => x.durationMs);
        result.durationMs = median(durations);
        result.overheadMs = (result.durationMs ?? 0) - floor.totalMs;
        result.trueCutoverMedianMs = median(result.repeats.flatMap((x) => (x.trueCutover ? [x.trueCutover.ms] : [])));
        result.probe = sumProbes(
          result.repeats.map((x) => x.probe).filter((p): p is NonNullable<SizeResult['probe']> => p !== undefined),
        );
        result.eventLoopDelayMs = result.repeats[0]?.eventLoopDelayMs;

        if (options.watchSizes.includes(size))
          result.watched = await watchedDeploy(sandbox, aws, {
            size,
            common,
            region,
            listenerUrl,
            limitMs,
            options,
            log,
          });
        if (options.brokenSizes.includes(size))
          result.broken = await brokenDeploy(sandbox, aws, {
            size,
            common,
            region,
            listenerUrl,
            limitMs,
            options,
            log,
          });
        result.ok =
          result.repeats.every((x) => x.trueCutover !== undefined) && (!result.broken || result.broken.exitCode === 1);
        if (!result.ok)
          result.error = 'a measured deploy had no cutover on the timeline, or the broken build was not rolled back';
      })(),
    ]);
  } catch (error) {
    result.error = describeError(error);
    log.error(`size ${size}: ${result.error}`);
  } finally {
    guard.clear();
    const stopped = await stopRowSandbox(sandbox, log, `size ${size}`);
    result.phasesMs.sandboxStop = stopped.stopMs;
    if (stopped.leftovers) result.leftovers = stopped.leftovers;
  }
  return result;
}

/** Sums the probes of several deploys. */
function sumProbes(
  probes: ReadonlyArray<NonNullable<SizeResult['probe']>>,
): NonNullable<SizeResult['probe']> | undefined {
  if (probes.length === 0) return undefined;
  const add = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return probes.reduce((a, b) => ({
    total: a.total + b.total,
    ok: a.ok + b.ok,
    failed: a.failed + b.failed,
    failures: add(a.failures, b.failures),
    perVersion: add(a.perVersion, b.perVersion),
    durationMs: a.durationMs + b.durationMs,
  }));
}

/** What a size's extra rows (watched and broken builds) deploy into. */
interface ExtraRow {
  size: number;
  common: Record<string, unknown>;
  region: string;
  listenerUrl: string;
  limitMs: number;
  options: BenchOptions;
  log: Logger;
}

/** The watch's alarm: HTTPCode_Target_5XX_Count summed over one period of 60 AWS s (× the time scale on the sandbox). */
const WATCH_ALARM_PERIOD_S = 60;

/** A build failing 50 % of real requests behind a healthy /health, deployed with a 5XX alarm and a watch: how fast it was caught and undone. */
async function watchedDeploy(sandbox: Sandbox, aws: AwsClients, row: ExtraRow): Promise<WatchedResult> {
  const infra = sandbox.infra;
  if (!infra) throw new Error('the sandbox has no demo infrastructure');
  const ami = await makeAppAmi(sandbox.clients(), '8.8.8-errors', 'ok', { 'sandbox:errors': '0.5' });
  await putTargetGroup5xxAlarm(sandbox.clients(), infra, 'bench-5xx', WATCH_ALARM_PERIOD_S);
  const watchSeconds = Math.max(10, Math.ceil(600 * row.options.timeScale));
  const { input: request } = parseStageInput(
    deployStage,
    {
      cluster: 'bench',
      amiId: ami,
      version: '8.8.8-errors',
      ...row.common,
      alarms: ['bench-5xx'],
      gates: false,
      watch: watchSeconds,
    },
    { env: { AWS_REGION: row.region } },
  );
  const probe = startRowProbe(row.listenerUrl, row.options, row.limitMs);
  const startedAt = probe.startedAt;
  let exitCode = 0;
  let code: string | undefined;
  let step: { breachAt?: string; trafficBackMs?: number } | undefined;
  try {
    await deploy(
      aws,
      singleRegionRequest(request),
      row.options.verbose ? createLogger(`watch-${row.size}`) : createLogger(`watch-${row.size}`, () => undefined),
    );
  } catch (error) {
    exitCode = error instanceof BluegreenError ? error.exitCode : 2;
    code = error instanceof BluegreenError ? error.code : describeError(error);
    const verification =
      error instanceof BluegreenError
        ? (error.details.verification as
            { steps?: Array<{ verdict: string; breachAt?: string; trafficBackMs?: number }> } | undefined)
        : undefined;
    step = verification?.steps?.find((s) => s.verdict === 'failed');
  }
  const report = await probe.stop();
  activeProbe = undefined;
  const firstBad = report.versionSpans['8.8.8-errors']?.firstMs;
  const pollMs = Math.max(10, Math.round(1000 * row.options.timeScale));
  return {
    exitCode,
    ...(code ? { code } : {}),
    ...(step?.breachAt && firstBad !== undefined
      ? { detectMs: Math.max(0, Date.parse(step.breachAt) - startedAt - firstBad) }
      : {}),
    detectFloorMs: WATCH_ALARM_PERIOD_S * 1 * row.options.timeScale * 1000 + pollMs,
    ...(step?.trafficBackMs !== undefined ? { restoreMs: step.trafficBackMs } : {}),
    failed: report.failed,
    requests: report.total,
  };
}

/** The table of the watched bad builds. */
function renderWatched(results: SizeResult[]): string {
  const rows = results
    .filter((r) => r.watched)
    .map((r) => {
      const w = r.watched as WatchedResult;
      return [
        String(r.size),
        w.exitCode === 1 && w.code === 'VerificationFailed'
          ? 'rolled back by its watch'
          : `exit ${w.exitCode} ${w.code ?? ''}`.trim(),
        w.detectMs !== undefined ? seconds(w.detectMs) : '-',
        seconds(w.detectFloorMs),
        w.restoreMs !== undefined ? seconds(w.restoreMs) : '-',
        `${w.failed} of ${w.requests}`,
      ];
    });
  return [
    'a bad build (50 % of requests fail, /health passes) under a 5XX alarm and a watch: detection against its floor (alarm period × datapoints + one poll), restore',
    table(
      [
        'instances',
        'outcome',
        'detected after',
        'floor',
        'traffic back after breach',
        'failed requests (only while it served)',
      ],
      rows,
    ),
  ].join('\n');
}

/** A broken build (every health check fails) deployed with healthTimeout 10m: when it was given up on, and what it left. */
async function brokenDeploy(sandbox: Sandbox, aws: AwsClients, row: ExtraRow): Promise<BrokenResult> {
  const ami = await makeAppAmi(sandbox.clients(), '9.9.9-broken', 'fail');
  let gaveUpAt: number | undefined;
  const brokenLog = createLogger(`broken-${row.size}`, (line) => {
    if (gaveUpAt === undefined && / ERROR .* did not become healthy/.test(line)) gaveUpAt = Date.now();
    if (row.options.verbose) process.stderr.write(`${line}\n`);
  });
  const { input: request } = parseStageInput(
    deployStage,
    { cluster: 'bench', amiId: ami, version: '9.9.9-broken', ...row.common, healthTimeout: '10m' },
    { env: { AWS_REGION: row.region } },
  );
  sandbox.resetCalls();
  const probe = startRowProbe(row.listenerUrl, row.options, row.limitMs);
  const t = Date.now();
  let exitCode = 0;
  let group: string | undefined;
  try {
    await deploy(aws, singleRegionRequest(request), brokenLog);
  } catch (error) {
    exitCode = error instanceof BluegreenError ? error.exitCode : 2;
    const details = error instanceof BluegreenError ? error.details : {};
    group = typeof details.serverGroup === 'string' ? details.serverGroup : undefined;
  }
  const endedAt = Date.now();
  const probeReport = await stopRowProbe(probe);
  const times = group ? brokenBuildTimesOf(sandbox.timeline(t).events, group) : {};
  return resultOfBroken({
    exitCode,
    startedAt: t,
    endedAt,
    gaveUpAt,
    times,
    calls: sandbox.calls().total,
    probe: probeReport,
    leftInTargetGroup: await groupsInTargetGroup(sandbox, sandbox.infra?.targetGroupArn ?? ''),
    group,
  });
}

function resultOfBroken(input: {
  exitCode: number;
  startedAt: number;
  endedAt: number;
  gaveUpAt: number | undefined;
  times: BrokenBuildTimes;
  calls: number;
  probe: NonNullable<SizeResult['probe']>;
  leftInTargetGroup: string[];
  group: string | undefined;
}): BrokenResult {
  const { times } = input;
  const from = times.createdAt;
  return {
    exitCode: input.exitCode,
    ...(input.group ? { group: input.group } : {}),
    totalMs: input.endedAt - input.startedAt,
    ...(from !== undefined && times.allUnhealthyAt !== undefined
      ? { allUnhealthyMs: times.allUnhealthyAt - from }
      : {}),
    ...(from !== undefined && input.gaveUpAt !== undefined ? { gaveUpMs: input.gaveUpAt - from } : {}),
    ...(input.gaveUpAt !== undefined && times.allUnhealthyAt !== undefined
      ? { pastUnhealthyMs: input.gaveUpAt - times.allUnhealthyAt }
      : {}),
    ...(from !== undefined && times.deletedAt !== undefined ? { deletedMs: times.deletedAt - from } : {}),
    calls: input.calls,
    probeFailed: input.probe.failed,
    leftInTargetGroup: input.leftInTargetGroup,
  };
}

const PEER_SCRIPT = join(__dirname, 'peers', 'aws-cli-bluegreen.sh');

/** Runs the peer script once; resolves with its exit code, output and the group it created. */
function runPeerScript(
  sandbox: Sandbox,
  ami: string,
  size: number,
  extraEnv: Record<string, string>,
  limitMs: number,
): Promise<{ code: number; output: string; group?: string }> {
  const infra = sandbox.infra as NonNullable<Sandbox['infra']>;
  return new Promise((resolve) => {
    const child = spawn('bash', [PEER_SCRIPT, 'peer', ami, String(size)], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        ...sandbox.env(),
        AWS_PAGER: '',
        TARGET_GROUP_ARN: infra.targetGroupArn,
        SUBNETS: infra.subnetIds.join(','),
        SECURITY_GROUP: infra.securityGroupId,
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const group = /^created (\S+)$/m.exec(output)?.[1];
      resolve({ code: code ?? 1, output: output.slice(-2000), ...(group ? { group } : {}) });
    });
  });
}

/** The AWS CLI peer on a fresh sandbox: a first deploy, the measured one with the probe, then a broken build (when asked). */
async function runPeer(size: number, options: BenchOptions, log: Logger): Promise<PeerResult> {
  const result: PeerResult = { size, ok: false };
  const limitMs = (options.deadlineSeconds ?? 180 + 3 * size + options.peerWaitCap) * 1000;
  const guard = deadline(limitMs, `peer size ${size}`);
  let sandbox: Sandbox | undefined;
  try {
    await Promise.race([
      guard.promise,
      (async () => {
        sandbox = await rowSandbox(options, log);
        const setup = sandbox.clients();
        const first = await runPeerScript(sandbox, await makeAppAmi(setup, '1.0.0'), size, {}, limitMs);
        if (first.code !== 0) throw new Error(`peer first deploy failed: ${first.output}`);
        const v2 = await makeAppAmi(setup, '2.0.0');
        sandbox.resetCalls();
        const probe = startRowProbe(sandbox.listenerUrl as string, options, limitMs);
        const t = Date.now();
        const second = await runPeerScript(sandbox, v2, size, {}, limitMs);
        result.durationMs = Date.now() - t;
        result.probe = await stopRowProbe(probe);
        result.gatewayTotal = sandbox.calls().total;
        if (second.code !== 0) throw new Error(`peer deploy failed: ${second.output}`);
        if (options.brokenSizes.includes(size)) {
          const ami = await makeAppAmi(setup, '9.9.9-broken', 'fail');
          sandbox.resetCalls();
          const brokenProbe = startRowProbe(sandbox.listenerUrl as string, options, limitMs);
          const tb = Date.now();
          const broken = await runPeerScript(
            sandbox,
            ami,
            size,
            { WAIT_TIMEOUT: String(options.peerWaitCap) },
            limitMs,
          );
          const endedAt = Date.now();
          const probeReport = await stopRowProbe(brokenProbe);
          const times = broken.group ? brokenBuildTimesOf(sandbox.timeline(tb).events, broken.group) : {};
          result.broken = resultOfBroken({
            exitCode: broken.code,
            startedAt: tb,
            endedAt,
            // The script gives up when its waiter does: at its end.
            gaveUpAt: endedAt,
            times,
            calls: sandbox.calls().total,
            probe: probeReport,
            leftInTargetGroup: await groupsInTargetGroup(sandbox, sandbox.infra?.targetGroupArn ?? ''),
            group: broken.group,
          });
        }
        result.ok = true;
      })(),
    ]);
  } catch (error) {
    result.error = describeError(error);
    log.error(`peer size ${size}: ${result.error}`);
  } finally {
    guard.clear();
    await stopRowSandbox(sandbox, log, `peer size ${size}`);
  }
  return result;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ports of `ports` that still accept a connection on 127.0.0.1. */
async function openPorts(ports: number[]): Promise<number[]> {
  const open = await Promise.all(
    ports.map(
      (port) =>
        new Promise<number | undefined>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port });
          socket.once('connect', () => {
            socket.destroy();
            resolve(port);
          });
          socket.once('error', () => resolve(undefined));
        }),
    ),
  );
  return open.filter((p): p is number => p !== undefined);
}

/** User + system CPU seconds a process has used so far (Linux /proc), undefined when unreadable. */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) in clock ticks; after the command name they are the 12th and 13th.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** USER_HZ on Linux (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/** One line: moto and bench CPU, refreshes by kind, the costliest moto reads, CloudWatch windows. */
function formatSandboxCost(cost: NonNullable<SizeResult['sandboxCost']>): string {
  const entry = (kind: string): string => {
    const e = cost.costs[kind];
    return e ? `${e.count}/${seconds(e.ms)}s` : '0';
  };
  const reads = Object.entries(cost.costs)
    .filter(([kind]) => kind.startsWith('moto:'))
    .sort(([, a], [, b]) => b.ms - a.ms)
    .slice(0, 4)
    .map(([kind, e]) => `${kind.slice('moto:'.length)} ${e.count}/${seconds(e.ms)}s`);
  return [
    `moto CPU ${cost.motoCpuS ?? '?'}s`,
    `bench CPU ${cost.benchCpuS}s`,
    `full reads ${entry('refresh:full')}`,
    `partial reads ${entry('refresh:changes')}`,
    `reconcile ${entry('reconcile')}`,
    `cloudwatch windows ${entry('cloudwatch:window')}`,
    `gateway reads from cache ${cost.costs['read-cache:hit']?.count ?? 0} of ${(cost.costs['read-cache:hit']?.count ?? 0) + (cost.costs['read-cache:miss']?.count ?? 0)}`,
    `moto reads: ${reads.join(', ') || 'none'}`,
  ].join('; ');
}

function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '-' : (ms / 1000).toFixed(2);
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function render(
  results: SizeResult[],
  peers: PeerResult[],
  options: BenchOptions,
  coldStart: readonly ColdStartRow[],
): string {
  const out: string[] = [];
  const floor = floorOf(options);
  out.push(
    `red/black deploy benchmark — sandbox time scale ${options.timeScale}, boot ${options.bootSeconds}s, ` +
      `health check ${DEMO_HEALTH_CHECK.healthyThreshold}×${DEMO_HEALTH_CHECK.intervalSeconds}s, deregistration delay ${DEMO_HEALTH_CHECK.deregistrationDelaySeconds}s (AWS seconds)`,
  );
  out.push(
    `floor (scaled intrinsic delays): boot ${seconds(floor.bootMs)}s + healthy ${seconds(floor.healthyMs)}s + drain ${seconds(floor.drainMs)}s = ${seconds(floor.totalMs)}s`,
  );
  out.push('');
  out.push(
    table(
      [
        'instances',
        'calls',
        'calls/inst',
        'gw calls',
        'healthy s',
        'true cutover ms',
        'self ms',
        'total s',
        'in API s',
        'floor s',
        'overhead s',
        'probe req',
        'failed',
        'loop p99/max ms',
        'status',
      ],
      results.map((r) => [
        String(r.size),
        r.totalCalls === undefined ? '-' : String(r.totalCalls),
        r.callsPerInstance === undefined ? '-' : r.callsPerInstance.toFixed(2),
        r.gatewayTotal === undefined ? '-' : String(r.gatewayTotal),
        seconds(r.timings?.healthyMs),
        r.trueCutoverMedianMs === undefined
          ? '-'
          : `${Math.round(r.trueCutoverMedianMs)} (${r.repeats.map((x) => (x.trueCutover ? String(x.trueCutover.ms) : '?')).join('/')})`,
        r.timings ? String(r.timings.cutoverLatencyMs) : '-',
        seconds(r.durationMs),
        seconds(r.callMsTotal),
        seconds(r.floor.totalMs),
        seconds(r.overheadMs),
        r.probe ? String(r.probe.total) : '-',
        r.probe ? String(r.probe.failed) : '-',
        r.eventLoopDelayMs ? `${r.eventLoopDelayMs.p99}/${r.eventLoopDelayMs.max}` : '-',
        r.ok ? 'ok' : `FAILED: ${r.error ?? '?'}`.slice(0, 80),
      ]),
    ),
  );
  out.push('');
  out.push(renderPeers(results, peers, options));
  const broken = results.filter((r) => r.broken);
  if (broken.length > 0 || peers.some((p) => p.broken)) {
    out.push('');
    out.push(renderBroken(results, peers, options));
  }
  out.push('');
  if (results.some((r) => r.watched)) {
    out.push(renderWatched(results));
    out.push('');
  }
  out.push(
    coldStart.length > 0
      ? formatColdStartTable(coldStart)
      : 'cold start and bundle sizes: not measured (--cold-start-runs 0); npm run bench:cold-start',
  );
  const actions = [...new Set(results.flatMap((r) => Object.keys(r.calls ?? {})))].sort();
  if (actions.length > 0) {
    out.push('');
    out.push(
      'AWS calls of the measured deploy by action (deploy SDK counter; gateway attempts in brackets when they differ)',
    );
    const okResults = results.filter((r) => r.calls);
    const smallest = okResults[0];
    const largest = okResults[okResults.length - 1];
    out.push(
      table(
        ['action', ...okResults.map((r) => `n=${r.size}`), 'growth'],
        actions.map((action) => {
          const gwKey = action.replace(/^elbv2:/, 'elasticloadbalancing:');
          const cells = okResults.map((r) => {
            const own = r.calls?.[action] ?? 0;
            const gw = r.gatewayCalls?.[gwKey];
            return gw !== undefined && gw !== own ? `${own} [${gw}]` : String(own);
          });
          const a = smallest?.calls?.[action] ?? 0;
          const b = largest?.calls?.[action] ?? 0;
          const growth = smallest && largest && smallest !== largest && a > 0 ? `×${(b / a).toFixed(1)}` : '';
          return [action, ...cells, growth];
        }),
      ),
    );
  }
  const timed = results.filter((r) => r.callMs);
  if (timed.length > 0) {
    out.push('');
    out.push('slowest actions (wall time inside the calls of the measured deploy)');
    for (const r of timed) {
      const top = Object.entries(r.callMs ?? {})
        .sort(([, a], [, b]) => b - a)
        .slice(0, 5)
        .map(([action, ms]) => `${action} ${seconds(ms)}s/${r.calls?.[action] ?? '?'}`);
      out.push(`  n=${r.size}: ${top.join(', ')}`);
    }
  }
  const costed = results.filter((r) => r.sandboxCost);
  if (costed.length > 0) {
    out.push('');
    out.push(
      "the sandbox's own cost during the measured deploy (moto CPU, this process's CPU, world reads and the moto calls they made: count/seconds)",
    );
    for (const r of costed)
      out.push(`  n=${r.size}: ${formatSandboxCost(r.sandboxCost as NonNullable<SizeResult['sandboxCost']>)}`);
  }
  const probes = results.filter((r) => r.probe);
  if (probes.length > 0) {
    out.push('');
    out.push('probe through the demo listener during the measured deploy');
    for (const r of probes) {
      const p = r.probe as NonNullable<SizeResult['probe']>;
      const versions = Object.entries(p.perVersion)
        .map(([v, n]) => `${v}:${n}`)
        .join(' ');
      const failures = Object.entries(p.failures)
        .map(([k, n]) => `${k}:${n}`)
        .join(' ');
      out.push(
        `  n=${r.size}: ${p.total} requests, ${p.failed} failed${failures ? ` (${failures})` : ''}; answered by ${versions || 'nobody'}`,
      );
    }
  }
  return out.join('\n');
}

/** bluegreen beside the AWS CLI script, same sandbox settings, same probe. */
function renderPeers(results: SizeResult[], peers: PeerResult[], options: BenchOptions): string {
  const rows: string[][] = [];
  for (const r of results) {
    rows.push([
      String(r.size),
      'bluegreen',
      seconds(r.durationMs),
      r.gatewayTotal === undefined ? '-' : String(r.gatewayTotal),
      r.probe ? String(r.probe.failed) : '-',
      r.trueCutoverMedianMs === undefined ? '-' : String(Math.round(r.trueCutoverMedianMs)),
      r.ok ? 'ok' : `FAILED: ${r.error ?? '?'}`.slice(0, 60),
    ]);
    const peer = peers.find((p) => p.size === r.size);
    if (peer) {
      rows.push([
        String(r.size),
        'aws-cli script',
        seconds(peer.durationMs),
        peer.gatewayTotal === undefined ? '-' : String(peer.gatewayTotal),
        peer.probe ? String(peer.probe.failed) : '-',
        '-',
        peer.ok ? 'ok' : `FAILED: ${peer.error ?? '?'}`.slice(0, 60),
      ]);
    }
  }
  return [
    `against peers: v1 → v2, a fresh sandbox per tool, the same probe (${options.probeConcurrency} in flight); bluegreen's time is the median of ${options.repeats}, the script's one run`,
    table(['instances', 'tool', 'wall s', 'AWS calls (gw)', 'failed req', 'true cutover ms', 'status'], rows),
  ].join('\n');
}

/** Time to give up on a broken build, against the load balancer's verdict, and what was left behind. */
function renderBroken(results: SizeResult[], peers: PeerResult[], options: BenchOptions): string {
  const rows: string[][] = [];
  const row = (size: number, tool: string, b: BrokenResult): string[] => [
    String(size),
    tool,
    seconds(b.allUnhealthyMs),
    seconds(b.gaveUpMs),
    b.pastUnhealthyMs === undefined ? '-' : String(b.pastUnhealthyMs),
    b.deletedMs === undefined ? 'never' : seconds(b.deletedMs),
    String(b.exitCode),
    String(b.calls),
    String(b.probeFailed),
    b.leftInTargetGroup.map((name) => (name === b.group ? `${name} (broken)` : name)).join(' ') || '-',
  ];
  for (const r of results) {
    if (r.broken) rows.push(row(r.size, 'bluegreen', r.broken));
    const peer = peers.find((p) => p.size === r.size)?.broken;
    if (peer) rows.push(row(r.size, `aws-cli script (cap ${options.peerWaitCap}s)`, peer));
  }
  const floor = floorOf(options);
  // As src/deploy/health.ts polls once a verdict can be due: max(1 s, interval / 4), AWS seconds on the sandbox clock.
  const poll = Math.round(Math.max(1000, (DEMO_HEALTH_CHECK.intervalSeconds * 1000) / 4) * options.timeScale);
  return [
    `broken build (sandbox:health=fail), healthTimeout 10m; seconds from its CreateAutoScalingGroup. Floor: boot ${seconds(floor.bootMs)}s + unhealthy ` +
      `${DEMO_HEALTH_CHECK.unhealthyThreshold}×${DEMO_HEALTH_CHECK.intervalSeconds}s scaled = ` +
      `${seconds(floor.bootMs + DEMO_HEALTH_CHECK.unhealthyThreshold * DEMO_HEALTH_CHECK.intervalSeconds * options.timeScale * 1000)}s; a fast poll is ${poll} ms + its calls`,
    table(
      [
        'instances',
        'tool',
        'all unhealthy s',
        'gave up s',
        'past verdict ms',
        'deleted s',
        'exit',
        'AWS calls (gw)',
        'failed req',
        'left in target group',
      ],
      rows,
    ),
  ].join('\n');
}

async function main(): Promise<number> {
  const options = parseArgs(hideBin(process.argv));
  const log = options.verbose
    ? createLogger('bench')
    : createLogger('bench', (line) => {
        // Without --verbose only the bench's own lines and errors: deploy logs at 200 instances are long.
        if (line.includes('[bench]') || / ERROR /.test(line)) process.stderr.write(`${line}\n`);
      });
  // Poll like on AWS, on the sandbox's clock: 1 s growing to 10 s, scaled.
  process.env.BLUEGREEN_POLL_MIN_MS = String(Math.max(10, Math.round(1000 * options.timeScale)));
  process.env.BLUEGREEN_POLL_MAX_MS = String(Math.max(20, Math.round(10_000 * options.timeScale)));
  // AWS-declared durations (health check interval, grace period) on the sandbox clock, as the sandbox's env() sets it.
  process.env.BLUEGREEN_TIME_SCALE = String(options.timeScale);
  // The SDK would print its Node-version warning per client: once is enough, on stderr.
  process.removeAllListeners('warning');
  process.on('warning', () => undefined);

  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the sandbox…\n`);
    void (async () => {
      await activeProbe?.stop().catch(() => undefined);
      await activeSandbox?.stop().catch(() => undefined);
      process.exit(130);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = new Date();
  const results: SizeResult[] = [];
  for (const size of options.sizes) {
    log.info(`size ${size}: starting a sandbox (time scale ${options.timeScale})`);
    const t = Date.now();
    const result = await runSize(size, options, log);
    results.push(result);
    log.info(`size ${size}: ${result.ok ? 'done' : 'FAILED'} in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  }
  const peers: PeerResult[] = [];
  const awsCli = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!awsCli && options.peerSizes.length > 0)
    log.info('the AWS CLI (aws) is not installed: the peer rows are skipped');
  for (const size of awsCli ? options.peerSizes : []) {
    log.info(`peer size ${size}: the AWS CLI script on a fresh sandbox`);
    const t = Date.now();
    const peer = await runPeer(size, options, log);
    peers.push(peer);
    log.info(`peer size ${size}: ${peer.ok ? 'done' : 'FAILED'} in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  }
  let coldStart: ColdStartRow[] = [];
  if (options.coldStartRuns > 0) {
    log.info(`cold start: every bundle alone in an empty folder, median of ${options.coldStartRuns} runs`);
    coldStart = await measureColdStart({ runs: options.coldStartRuns });
  }
  const text = render(results, peers, options, coldStart);
  process.stdout.write(`\n${text}\n`);
  mkdirSync(options.outDir, { recursive: true });
  const file = join(options.outDir, `deploy-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const document = {
    benchmark: 'deploy',
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version, platform: process.platform },
    options: {
      ...options,
      pollMinMs: Number(process.env.BLUEGREEN_POLL_MIN_MS),
      pollMaxMs: Number(process.env.BLUEGREEN_POLL_MAX_MS),
    },
    healthCheck: DEMO_HEALTH_CHECK,
    callCounting:
      "calls: the measured deploy's own SDK call counter (src/aws/call-counter.ts; one per logical call, retries excluded). " +
      "gatewayCalls: the sandbox gateway's counts for the same window (every HTTP attempt; only the deploy talks to the gateway then).",
    results,
    peers,
  };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`\nresults: ${relative(process.cwd(), file)}\n`);
  return results.every((r) => r.ok) && peers.every((p) => p.ok) ? 0 : 1;
}

// Exit explicitly: a deploy cut off by a deadline may still hold timers (lock renewal, retries) against a stopped sandbox.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${describeError(error)}\n`);
    process.exit(2);
  },
);
