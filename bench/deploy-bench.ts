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
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { connect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CallCounter } from '../src/aws/call-counter';
import type { AwsClients } from '../src/aws/clients';
import { describeError } from '../src/core/errors';
import { createLogger, type Logger } from '../src/core/log';
import { deploy, type DeployOutput } from '../src/deploy/deploy';
import { parseStageInput } from '../src/stages/framework';
import { deployStage } from '../src/stages/deploy';
import { DEMO_HEALTH_CHECK } from '../src/sandbox/demo-infra';
import { startProbe, type Probe, type ProbeReport } from '../src/sandbox/probe';
import { sandboxClients, startSandbox, type Sandbox } from '../src/sandbox/sandbox';
import { makeAppAmi } from '../test/sandbox/fixtures';

interface BenchOptions {
  sizes: number[];
  timeScale: number;
  bootSeconds: number;
  probeConcurrency: number;
  /** Real seconds allowed for one size (sandbox start, both deploys, stop). */
  deadlineSeconds: number | undefined;
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
      const middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        const key = `${service}:${context.commandName?.replace(/Command$/, '') ?? 'Unknown'}`;
        const t = Date.now();
        try {
          return await next(args);
        } finally {
          this.ms.set(key, (this.ms.get(key) ?? 0) + Date.now() - t);
        }
      };
      (client.middlewareStack as unknown as { add: (m: unknown, o: { step: string; name: string }) => void }).add(middleware, {
        step: 'initialize',
        name: 'benchCallTimer',
      });
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

interface SizeResult {
  size: number;
  ok: boolean;
  error?: string;
  /** Phases in real ms: sandbox start, first deploy (v1), measured deploy (v2). */
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
  /** After the stop: the sandbox's moto process and ports still alive (should be empty). */
  leftovers?: { motoPid: number; motoAlive: boolean; openPorts: number[] };
  probe?: Pick<ProbeReport, 'total' | 'ok' | 'failed' | 'failures' | 'perVersion' | 'durationMs'>;
  deployOutput?: Pick<DeployOutput, 'serverGroup' | 'previousServerGroup' | 'disabledServerGroups' | 'scaledDownServerGroups' | 'destroyedServerGroups'>;
}

function parseArgs(argv: string[]): BenchOptions {
  const parsed = yargs(argv)
    .scriptName('npm run bench --')
    .usage('$0 [--sizes 2,20,200] [--time-scale 0.05]')
    .options({
      sizes: { type: 'string', default: '2,20,200', describe: 'Cluster sizes (instances), comma-separated' },
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
  const sizes = String(parsed.sizes)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
    throw new Error(`--sizes must be integers between 1 and 1000 (got ${parsed.sizes})`);
  }
  const timeScale = parsed['time-scale'];
  if (!(timeScale > 0 && timeScale <= 1)) throw new Error(`--time-scale must be in (0, 1] (got ${timeScale})`);
  return {
    sizes,
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

async function runSize(size: number, options: BenchOptions, log: Logger): Promise<SizeResult> {
  const floor = floorOf(options);
  const result: SizeResult = { size, ok: false, phasesMs: {}, floor };
  const limitMs = (options.deadlineSeconds ?? 120 + 3 * size) * 1000;
  const guard = deadline(limitMs, `size ${size}`);
  const region = 'us-east-1';
  let sandbox: Sandbox | undefined;
  let resources: { motoPid: number; ports: number[] } | undefined;
  try {
    await Promise.race([
      guard.promise,
      (async () => {
        let t = Date.now();
        sandbox = await startSandbox({ timeScale: options.timeScale, infra: 'demo', bootSeconds: options.bootSeconds, log: log.child('sandbox') });
        activeSandbox = sandbox;
        resources = sandbox.resources();
        result.phasesMs.sandboxStart = Date.now() - t;
        const infra = sandbox.infra;
        const listenerUrl = sandbox.listenerUrl;
        if (!infra || !listenerUrl) throw new Error('sandbox started without the demo infra');
        const setup = sandbox.clients();
        const v1 = await makeAppAmi(setup, '1.0.0');
        const v2 = await makeAppAmi(setup, '2.0.0');
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
        await deploy(aws, first, deployLog);
        result.phasesMs.firstDeploy = Date.now() - t;
        log.info(`size ${size}: v1 serving after ${((Date.now() - t) / 1000).toFixed(1)}s; measuring the v2 deploy`);

        const { input: second } = parseStageInput(deployStage, { cluster: 'bench', amiId: v2, version: '2.0.0', ...common }, { env: { AWS_REGION: region } });
        counter.reset();
        timer.reset();
        sandbox.resetCalls();
        const probe = startProbe({
          url: listenerUrl,
          concurrency: options.probeConcurrency,
          maxDurationMs: limitMs,
          maxRequests: 10_000_000,
          requestTimeoutMs: 10_000,
        });
        activeProbe = probe;
        const loop = monitorEventLoopDelay({ resolution: 10 });
        loop.enable();
        t = Date.now();
        let output: DeployOutput;
        try {
          output = await deploy(aws, second, deployLog);
        } finally {
          result.phasesMs.measuredDeploy = Date.now() - t;
          loop.disable();
          result.eventLoopDelayMs = { p50: round(loop.percentile(50) / 1e6), p99: round(loop.percentile(99) / 1e6), max: round(loop.max / 1e6) };
          const report = await probe.stop();
          activeProbe = undefined;
          result.probe = {
            total: report.total,
            ok: report.ok,
            failed: report.failed,
            failures: report.failures,
            perVersion: report.perVersion,
            durationMs: report.durationMs,
          };
        }
        result.calls = counter.snapshot();
        result.totalCalls = counter.total();
        result.callsPerInstance = round(counter.total() / size, 2);
        const gateway = sandbox.calls();
        result.gatewayCalls = gateway.calls;
        result.gatewayTotal = gateway.total;
        result.callMs = timer.snapshot();
        result.callMsTotal = timer.total();
        result.timings = output.timings ?? undefined;
        result.durationMs = result.phasesMs.measuredDeploy;
        result.overheadMs = (result.durationMs ?? 0) - floor.totalMs;
        result.deployOutput = {
          serverGroup: output.serverGroup,
          previousServerGroup: output.previousServerGroup,
          disabledServerGroups: output.disabledServerGroups,
          scaledDownServerGroups: output.scaledDownServerGroups,
          destroyedServerGroups: output.destroyedServerGroups,
        };
        result.ok = true;
      })(),
    ]);
  } catch (error) {
    result.error = describeError(error);
    log.error(`size ${size}: ${result.error}`);
  } finally {
    guard.clear();
    await activeProbe?.stop();
    activeProbe = undefined;
    // Every port at this moment (instance apps included), to check that the stop closed them all.
    resources = (sandbox as Sandbox | undefined)?.resources() ?? resources;
    const t = Date.now();
    await (sandbox as Sandbox | undefined)?.stop();
    activeSandbox = undefined;
    result.phasesMs.sandboxStop = Date.now() - t;
    if (resources) {
      const found = resources;
      result.leftovers = { motoPid: found.motoPid, motoAlive: alive(found.motoPid), openPorts: await openPorts(found.ports) };
      if (result.leftovers.motoAlive || result.leftovers.openPorts.length > 0) log.error(`size ${size}: left behind ${JSON.stringify(result.leftovers)}`);
    }
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

function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '-' : (ms / 1000).toFixed(2);
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function render(results: SizeResult[], options: BenchOptions): string {
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
      ['instances', 'calls', 'calls/inst', 'gw calls', 'healthy s', 'cutover ms', 'total s', 'in API s', 'floor s', 'overhead s', 'probe req', 'failed', 'loop p99/max ms', 'status'],
      results.map((r) => [
        String(r.size),
        r.totalCalls === undefined ? '-' : String(r.totalCalls),
        r.callsPerInstance === undefined ? '-' : r.callsPerInstance.toFixed(2),
        r.gatewayTotal === undefined ? '-' : String(r.gatewayTotal),
        seconds(r.timings?.healthyMs),
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
  const actions = [...new Set(results.flatMap((r) => Object.keys(r.calls ?? {})))].sort();
  if (actions.length > 0) {
    out.push('');
    out.push('AWS calls of the measured deploy by action (deploy SDK counter; gateway attempts in brackets when they differ)');
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
  const probes = results.filter((r) => r.probe);
  if (probes.length > 0) {
    out.push('');
    out.push('probe through the demo listener during the measured deploy');
    for (const r of probes) {
      const p = r.probe as NonNullable<SizeResult['probe']>;
      const versions = Object.entries(p.perVersion).map(([v, n]) => `${v}:${n}`).join(' ');
      const failures = Object.entries(p.failures).map(([k, n]) => `${k}:${n}`).join(' ');
      out.push(`  n=${r.size}: ${p.total} requests, ${p.failed} failed${failures ? ` (${failures})` : ''}; answered by ${versions || 'nobody'}`);
    }
  }
  return out.join('\n');
}

async function main(): Promise<number> {
  const options = parseArgs(hideBin(process.argv));
  const log = options.verbose ? createLogger('bench') : createLogger('bench', (line) => {
    // Without --verbose only the bench's own lines and errors: deploy logs at 200 instances are long.
    if (line.includes('[bench]') || / ERROR /.test(line)) process.stderr.write(`${line}\n`);
  });
  // Poll like on AWS, on the sandbox's clock: 1 s growing to 10 s, scaled.
  process.env.BLUEGREEN_POLL_MIN_MS = String(Math.max(10, Math.round(1000 * options.timeScale)));
  process.env.BLUEGREEN_POLL_MAX_MS = String(Math.max(20, Math.round(10_000 * options.timeScale)));
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
  const text = render(results, options);
  process.stdout.write(`\n${text}\n`);
  mkdirSync(options.outDir, { recursive: true });
  const file = join(options.outDir, `deploy-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const document = {
    benchmark: 'deploy',
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version, platform: process.platform },
    options: { ...options, pollMinMs: Number(process.env.BLUEGREEN_POLL_MIN_MS), pollMaxMs: Number(process.env.BLUEGREEN_POLL_MAX_MS) },
    healthCheck: DEMO_HEALTH_CHECK,
    callCounting:
      'calls: the measured deploy\'s own SDK call counter (src/aws/call-counter.ts; one per logical call, retries excluded). ' +
      'gatewayCalls: the sandbox gateway\'s counts for the same window (every HTTP attempt; only the deploy talks to the gateway then).',
    results,
  };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`\nresults: ${relative(process.cwd(), file)}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

// Exit explicitly: a deploy cut off by a deadline may still hold timers (lock renewal, retries) against a stopped sandbox.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${describeError(error)}\n`);
    process.exit(2);
  },
);
