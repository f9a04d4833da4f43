/**
 * The scaled rows (issue 4): per cluster size a fresh sandbox, a first deploy (v1), then the measured
 * red/black deploys (v2) under the probe: AWS calls, cutover, total time against the floor, the probe.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CallCounter } from '../../src/aws/call-counter';
import type { AwsClients } from '../../src/aws/clients';
import { describeError } from '../../src/core/errors';
import { type Logger } from '../../src/core/log';
import { deploy, type DeployOutput } from '../../src/deploy/deploy';
import { parseStageInput } from '../../src/stages/framework';
import { deployStage, singleRegionRequest } from '../../src/stages/deploy';
import { costDelta } from '../../src/sandbox/cost-meter';
import { sandboxClients, type Sandbox } from '../../src/sandbox/sandbox';
import { makeAppAmi } from '../../test/sandbox/fixtures';
import { median, trueCutoverOf } from '../timeline-measures';
import { round } from '../format';
import { cpuSecondsOf, deadline, rowSandbox, startRowProbe, stopRowProbe, stopRowSandbox } from '../rows';
import { type BenchOptions, RepeatResult, SizeResult, floorOf } from '../results';
import { watchedDeploy, brokenDeploy } from './bad-builds';
import { canaryComparison } from './canary-comparison';
import { isFleet, makeFleet } from './fleet';

/** Wall time spent inside AWS calls, per `service:Action` (an SDK middleware of the bench). */
export class CallTimer {
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

/**
 * One scaled row. With `fleet`, the serving group is made the bench's fleet ({@link makeFleet}) after
 * the first deploy, and the bad-build rows are left to the plain row.
 */
export async function runSize(
  size: number,
  options: BenchOptions,
  log: Logger,
  variant: { fleet?: boolean } = {},
): Promise<SizeResult> {
  const floor = floorOf(options);
  const result: SizeResult = {
    size,
    ok: false,
    phasesMs: {},
    floor,
    repeats: [],
    ...(variant.fleet ? { fleet: true } : {}),
  };
  // The canary comparison adds two deploys with a watch and a canary step (about a minute at time scale 0.05).
  const comparisonSeconds =
    options.canarySizes.includes(size) && !variant.fleet ? 60 + Math.ceil(1800 * options.timeScale) : 0;
  const limitMs = (options.deadlineSeconds ?? 120 + 3 * size * (options.repeats + 1) + comparisonSeconds) * 1000;
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
        const firstOutput = await deploy(aws, singleRegionRequest(first), deployLog);
        let serving = firstOutput.serverGroup;
        if (variant.fleet && firstOutput.launchTemplate) await makeFleet(setup, serving, firstOutput.launchTemplate);
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

        // The bad-build rows of this size share its sandbox and settings.
        const row = { size, common, region, listenerUrl, limitMs, options, log };
        if (options.watchSizes.includes(size) && !variant.fleet)
          result.watched = await watchedDeploy(sandbox, aws, row);
        if (options.canarySizes.includes(size) && !variant.fleet)
          result.comparison = await canaryComparison(sandbox, aws, row);
        if (options.brokenSizes.includes(size) && !variant.fleet) result.broken = await brokenDeploy(sandbox, aws, row);
        const fleetKept = !variant.fleet || (await isFleet(setup, serving));
        result.ok =
          fleetKept &&
          result.repeats.every((x) => x.trueCutover !== undefined) &&
          (!result.broken || result.broken.exitCode === 1) &&
          (!result.comparison ||
            (result.comparison.redBlack.exitCode === 1 && result.comparison.canary.exitCode === 1));
        if (!result.ok)
          result.error = fleetKept
            ? 'a measured deploy had no cutover on the timeline, or a broken or bad build was not rolled back'
            : `${serving} lost the fleet (no mixed instances policy or warm pool)`;
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
export function sumProbes(
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
