/**
 * The two-region row (issue #24): one release to two regions as a rollout,
 * against two single-region deploys. On a fresh two-region sandbox (each
 * region its own demo infra, listener and probe): a first rollout (v1, not
 * measured), then a single-region deploy in each region one after the other
 * (v2: the sum of their wall times), then a rollout in two waves (v3: wall
 * time), then a rollout in one wave, both regions at the same time (v4: each
 * region has its own lock). Every measured run with a probe in each region.
 */
import { describeError } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import type { Sandbox } from '../../src/sandbox/sandbox';
import { executeStage } from '../../src/stages/framework';
import { deployStage } from '../../src/stages/deploy';
import { makeAppAmi } from '../../test/sandbox/fixtures';
import type { BenchOptions } from '../results';
import { deadline, rowSandbox, startRowProbe, stopRowProbe, stopRowSandbox, type ProbeTotals } from '../rows';

const REGIONS = ['us-east-1', 'eu-west-1'] as const;
const INSTANCES = 2;

/** What the two-region row measured (wall times in ms, real). */
export interface RegionsResult {
  ok: boolean;
  instances: number;
  /** Each region's single-region deploy. */
  singleMs?: Record<string, number>;
  /** The rollout in two waves (one region each). */
  twoWavesMs?: number;
  /** The rollout in one wave (both regions at the same time). */
  oneWaveMs?: number;
  /** Each region's probe over every measured run. */
  probes?: Record<string, ProbeTotals>;
  error?: string;
}

/** Runs the two-region row on a fresh sandbox; bounded by its own deadline. */
export async function runRegions(options: BenchOptions, log: Logger): Promise<RegionsResult> {
  const result: RegionsResult = { ok: false, instances: INSTANCES };
  const limitMs = (options.deadlineSeconds ?? 300) * 1000;
  const guard = deadline(limitMs, 'two regions');
  let sandbox: Sandbox | undefined;
  try {
    await Promise.race([guard.promise, measure(options, log, limitMs, result, (s) => (sandbox = s))]);
    result.ok = true;
  } catch (error) {
    result.error = describeError(error);
    log.error(`two regions: ${result.error}`);
  } finally {
    guard.clear();
    await stopRowSandbox(sandbox, log, 'two regions');
  }
  return result;
}

async function measure(
  options: BenchOptions,
  log: Logger,
  limitMs: number,
  result: RegionsResult,
  started: (sandbox: Sandbox) => void,
): Promise<void> {
  const sandbox = await rowSandbox({ ...options, regions: [...REGIONS] }, log);
  started(sandbox);
  const infraOf = (region: string) => {
    const infra = sandbox.infraByRegion?.[region];
    if (!infra?.listenerUrl) throw new Error(`no demo infra with a listener in ${region}`);
    return infra;
  };
  const amis: Record<string, Record<string, string>> = {};
  for (const version of ['1.0.0', '2.0.0', '3.0.0', '4.0.0'])
    for (const region of REGIONS) (amis[version] ??= {})[region] = await makeAppAmi(sandbox.clients(region), version);
  const placement = (region: string) => ({
    targetGroups: [infraOf(region).targetGroupName],
    subnets: infraOf(region).subnetIds,
    securityGroups: [infraOf(region).securityGroupId],
  });
  const common = {
    app: 'bench',
    capacity: { min: INSTANCES, max: INSTANCES, desired: INSTANCES },
    instanceType: 't3.micro',
    ledger: { bucket: infraOf(REGIONS[0]).ledgerBucket, prefix: 'bench', region: REGIONS[0] },
    // Real seconds: the deploy does not know about the time scale.
    healthTimeout: Math.ceil(limitMs / 1000),
    lockLease: 600,
  };
  const deployLog = log.child('two-regions');
  const run = async (input: Record<string, unknown>): Promise<number> => {
    const t = Date.now();
    const outcome = await executeStage(deployStage, input, deployLog, {
      clients: (region) => sandbox.clients(region),
    });
    if (outcome.exitCode !== 0) throw new Error(`deploy exit ${outcome.exitCode}: ${JSON.stringify(outcome.output)}`);
    return Date.now() - t;
  };
  const rollout = (version: string, waves: string[][]) =>
    run({
      ...common,
      region: REGIONS[0],
      version,
      amis: amis[version],
      regions: Object.fromEntries(REGIONS.map((region) => [region, placement(region)])),
      waves,
    });

  await rollout('1.0.0', [[...REGIONS]]);
  const probes = REGIONS.map((region) => startRowProbe(infraOf(region).listenerUrl!, options, limitMs));
  try {
    result.singleMs = {};
    for (const region of REGIONS)
      result.singleMs[region] = await run({
        ...common,
        ...placement(region),
        region,
        version: '2.0.0',
        amiId: amis['2.0.0']![region],
      });
    result.twoWavesMs = await rollout(
      '3.0.0',
      REGIONS.map((region) => [region]),
    );
    result.oneWaveMs = await rollout('4.0.0', [[...REGIONS]]);
  } finally {
    const reports = await Promise.all(probes.map((probe) => stopRowProbe(probe)));
    result.probes = Object.fromEntries(REGIONS.map((region, index) => [region, reports[index]!]));
  }
  const failed = Object.values(result.probes).reduce((sum, probe) => sum + probe.failed, 0);
  if (failed > 0) throw new Error(`${failed} failed requests: ${JSON.stringify(result.probes)}`);
}

/** The row as text: the sum of the single-region deploys beside the rollout's two waves and its one wave. */
export function renderRegions(result: RegionsResult, timeScale: number): string {
  const seconds = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(1));
  const single = Object.values(result.singleMs ?? {});
  const sum = single.length === REGIONS.length ? single.reduce((a, b) => a + b, 0) : undefined;
  const requests = Object.values(result.probes ?? {}).reduce((total, probe) => total + probe.total, 0);
  const failed = Object.values(result.probes ?? {}).reduce((total, probe) => total + probe.failed, 0);
  return [
    `two regions (${REGIONS.join(' + ')}, ${result.instances} instances each, time scale ${timeScale}; wall s, real)`,
    'single deploys (sum)   rollout 2 waves   rollout 1 wave   probe req   failed   status',
    `${seconds(sum).padEnd(23)}${seconds(result.twoWavesMs).padEnd(18)}${seconds(result.oneWaveMs).padEnd(17)}${String(requests).padEnd(12)}${String(failed).padEnd(9)}${result.ok ? 'ok' : `FAILED: ${result.error ?? ''}`}`,
  ].join('\n');
}
