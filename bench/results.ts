/** What the scaled rows of `npm run bench` measure: options, results, the floor. */
import { type DeployOutput } from '../src/deploy/deploy';
import { type CostSnapshot } from '../src/sandbox/cost-meter';
import { DEMO_HEALTH_CHECK } from '../src/sandbox/demo-infra';
import type { ProbeReport } from '../src/sandbox/probe';
import { type TrueCutover } from './timeline-measures';
import { type Leftovers } from './rows';

export interface BenchOptions {
  sizes: number[];
  /** Measured deploys per size (the true cutover is their median). */
  repeats: number;
  /** Sizes that also deploy a broken build (health check fails) with healthTimeout 10m. */
  brokenSizes: number[];
  /** Sizes that also run the AWS CLI peer script (bench/peers/aws-cli-bluegreen.sh) on a fresh sandbox. */
  peerSizes: number[];
  /** Sizes measured again with the serving group a fleet: a mixed instances policy and a warm pool (issue #22). */
  fleetSizes: number[];
  /** Real seconds the peer's waiter may run on a broken build (its own limit is 40 × 15 s = 600 s). */
  peerWaitCap: number;
  timeScale: number;
  bootSeconds: number;
  probeConcurrency: number;
  /** Real seconds allowed for one size (sandbox start, both deploys, stop). */
  deadlineSeconds: number | undefined;
  /** Sizes that also deploy a build failing 50 % of real requests behind a healthy /health, watched with a 5XX alarm. */
  watchSizes: number[];
  /** Sizes that also deploy one bad build (20 % of requests fail) under red/black + watch and under a canary. */
  canarySizes: number[];
  /** Measured runs per command of the cold-start table (0: no table). */
  coldStartRuns: number;
  /** The rows at --time-scale (false: only the other tables). */
  scaled: boolean;
  /** The rows at AWS timings (time scale 1: bluegreen beside the AWS CLI peer); `npm run bench` turns them on. */
  awsTimings: boolean;
  awsTimingsInstances: number;
  /** The two-region row (bench/scenarios/regions.ts). */
  twoRegions: boolean;
  verbose: boolean;
  outDir: string;
}

/** The sandbox's intrinsic delays (real ms, scaled): what any deploy must wait for. */
export interface Floor {
  bootMs: number;
  healthyMs: number;
  drainMs: number;
  totalMs: number;
}

/** One measured deploy of a size. */
export interface RepeatResult {
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
export interface WatchedResult {
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

/** One deploy of the comparison's bad build. */
export interface BadBuildUnder {
  /** `red/black + watch` or `canary [10, 100]`. */
  strategy: string;
  exitCode: number;
  code?: string;
  /** Requests that started while it served (its first answer → breach + traffic back), and how many of them failed. */
  failed: number;
  requests: number;
  /** The share to expect failed while it served: its traffic share × the error share. */
  expectedShare: number;
  /** The whole deploy under the probe. */
  deployFailed: number;
  deployRequests: number;
}

/** The same bad build under red/black + watch and under a canary. */
export interface CanaryComparison {
  errorShare: number;
  /** Real seconds (AWS-like lengths × the time scale). */
  watchSeconds: number;
  stepWatchSeconds: number;
  redBlack: BadBuildUnder;
  canary: BadBuildUnder;
}

export interface BrokenResult {
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
export interface PeerResult {
  size: number;
  ok: boolean;
  error?: string;
  durationMs?: number;
  gatewayTotal?: number;
  probe?: Pick<ProbeReport, 'total' | 'ok' | 'failed' | 'failures' | 'perVersion' | 'durationMs'>;
  broken?: BrokenResult;
}

export interface SizeResult {
  size: number;
  /** The row's serving group was a fleet (mixed instances policy and warm pool, copied by each deploy). */
  fleet?: boolean;
  ok: boolean;
  /** Every measured deploy (the first one's calls and timings are the ones reported below). */
  repeats: RepeatResult[];
  /** Median of the repeats' true cutover. */
  trueCutoverMedianMs?: number;
  broken?: BrokenResult;
  watched?: WatchedResult;
  comparison?: CanaryComparison;
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
  leftovers?: Leftovers;
  /** The probes of every measured deploy, summed. */
  probe?: Pick<ProbeReport, 'total' | 'ok' | 'failed' | 'failures' | 'perVersion' | 'durationMs'>;
  deployOutput?: Pick<
    DeployOutput,
    'serverGroup' | 'previousServerGroup' | 'disabledServerGroups' | 'scaledDownServerGroups' | 'destroyedServerGroups'
  >;
}

export function floorOf(options: BenchOptions): Floor {
  const s = options.timeScale * 1000;
  const bootMs = options.bootSeconds * s;
  const healthyMs = DEMO_HEALTH_CHECK.healthyThreshold * DEMO_HEALTH_CHECK.intervalSeconds * s;
  const drainMs = DEMO_HEALTH_CHECK.deregistrationDelaySeconds * s;
  // The deploy returns at cutover: the drain ends after it (a scheduled action scales the old group down).
  return { bootMs, healthyMs, drainMs, totalMs: bootMs + healthyMs };
}

/** A row's name in the tables: its size, `fleet` after it for the fleet variant. */
export function rowLabel(result: Pick<SizeResult, 'size' | 'fleet'>): string {
  return result.fleet ? `${result.size} fleet` : String(result.size);
}
