/**
 * The rows at AWS timings (issue #20): time scale 1 (boot 10 s, health checks
 * every 10 s × 3, deregistration delay 30 s, all real seconds), one v1 → v2
 * deploy of a small cluster by bluegreen and by the AWS CLI peer, each on a
 * fresh sandbox, under a probe of steady, slow (2 s) and long requests (most
 * of the deregistration delay: longer than anything the peer waits before it
 * deletes the old group). Measured: wall time of the deploy, failed requests,
 * the true cutover (sandbox timeline), and when the old group reached 0
 * instances after the deploy returned (nothing else runs meanwhile). For
 * bluegreen's true cutover median, more deploys follow once the old group is
 * at 0 (`cutoverRepeats`); the peer's is one deploy (its waiter polls every 15 s).
 *
 * Nothing here is scaled: these figures compare with each other and with AWS,
 * never with the time-scale-0.05 rows.
 */
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallCounter } from '../../src/aws/call-counter';
import type { AwsClients } from '../../src/aws/clients';
import { describeError } from '../../src/core/errors';
import { createLogger, type Logger } from '../../src/core/log';
import { deploy } from '../../src/deploy/deploy';
import { DEMO_HEALTH_CHECK } from '../../src/sandbox/demo-infra';
import { startProbe, type Probe } from '../../src/sandbox/probe';
import { sandboxClients, type Sandbox } from '../../src/sandbox/sandbox';
import { parseStageInput } from '../../src/stages/framework';
import { deployStage, singleRegionRequest } from '../../src/stages/deploy';
import { makeAppAmi } from '../../test/sandbox/fixtures';
import { seconds, table } from '../format';
import { deadline, rowSandbox, runPeerScript, stopRowSandbox, type ProbeTotals } from '../rows';
import { median, trueCutoverOf } from '../timeline-measures';

/** Options of the AWS-timings rows. */
export interface AwsTimingsOptions {
  instances: number;
  bootSeconds: number;
  /** Slow requests, ms each (the issue's probe: 2 s). */
  slowRequestMs: number;
  /** Long requests, ms each: most of the deregistration delay. */
  longRequestMs: number;
  /** bluegreen's deploys whose true cutover is measured (the median is reported); the first is the measured one. */
  cutoverRepeats: number;
  verbose: boolean;
}

/** One tool's row at AWS timings. */
export interface AwsTimingsRow {
  tool: 'bluegreen' | 'aws-cli';
  instances: number;
  ok: boolean;
  error?: string;
  /** The deploy (v1 → v2), wall time. */
  wallMs?: number;
  /** Last new target healthy → first call taking the old group out of service (sandbox timeline). */
  trueCutoverMs?: number;
  /** The calls in that window, ms after the last new target turned healthy (where the cutover time goes). */
  cutoverCalls?: string[];
  /** True cutover of every measured deploy (bluegreen: {@link AwsTimingsOptions.cutoverRepeats}); `trueCutoverMs` is their median. */
  trueCutoversMs?: number[];
  /** Deploy returned → the old group had 0 instances (no other run in between). */
  oldAtZeroAfterReturnMs?: number;
  probes?: { steady: ProbeTotals; slow: ProbeTotals; long: ProbeTotals };
}

const REGION = 'us-east-1';

/** The engine's clock at AWS timings: real seconds, polls from 1 s growing to 10 s (as in production). */
async function atAwsTimings<T>(work: () => Promise<T>): Promise<T> {
  const saved = {
    scale: process.env.BLUEGREEN_TIME_SCALE,
    min: process.env.BLUEGREEN_POLL_MIN_MS,
    max: process.env.BLUEGREEN_POLL_MAX_MS,
  };
  delete process.env.BLUEGREEN_TIME_SCALE;
  process.env.BLUEGREEN_POLL_MIN_MS = '1000';
  process.env.BLUEGREEN_POLL_MAX_MS = '10000';
  const restore = (name: string, value: string | undefined): void => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  try {
    return await work();
  } finally {
    restore('BLUEGREEN_TIME_SCALE', saved.scale);
    restore('BLUEGREEN_POLL_MIN_MS', saved.min);
    restore('BLUEGREEN_POLL_MAX_MS', saved.max);
  }
}

/** The three probes of a row: steady requests, slow ones, long ones. */
function startProbes(url: string, options: AwsTimingsOptions, limitMs: number): Probe[] {
  const probe = (path: string, concurrency: number, timeoutMs: number): Probe =>
    startProbe({
      url: `${url}${path}`,
      concurrency,
      maxDurationMs: limitMs,
      maxRequests: 10_000_000,
      requestTimeoutMs: timeoutMs,
    });
  return [
    probe('/', 2, 10_000),
    probe(`/?delay=${options.slowRequestMs}`, 4, options.slowRequestMs + 10_000),
    probe(`/?delay=${options.longRequestMs}`, 2, options.longRequestMs + 10_000),
  ];
}

async function stopProbes(probes: Probe[]): Promise<NonNullable<AwsTimingsRow['probes']>> {
  const [steady, slow, long] = await Promise.all(probes.map((p) => p.stop()));
  const totals = (r: Awaited<ReturnType<Probe['stop']>> | undefined): ProbeTotals => ({
    total: r?.total ?? 0,
    ok: r?.ok ?? 0,
    failed: r?.failed ?? 0,
    failures: r?.failures ?? {},
    perVersion: r?.perVersion ?? {},
    durationMs: r?.durationMs ?? 0,
  });
  return { steady: totals(steady), slow: totals(slow), long: totals(long) };
}

/** Polls until the group has no instance (or is gone); epoch ms of that, undefined at the deadline. */
async function zeroInstancesAt(aws: AwsClients, group: string, until: number): Promise<number | undefined> {
  while (Date.now() < until) {
    const out = await aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }));
    if ((out.AutoScalingGroups?.[0]?.Instances ?? []).length === 0) return Date.now();
    await sleep(500);
  }
  return undefined;
}

/** After the deploy returned: the old group to 0 within the deregistration delay + 60 s (+ slack for the bound). */
const ZERO_WAIT_MS = (DEMO_HEALTH_CHECK.deregistrationDelaySeconds + 60 + 30) * 1000;

/** Runs one tool's row on a fresh sandbox at time scale 1. */
async function runRow(
  tool: AwsTimingsRow['tool'],
  options: AwsTimingsOptions,
  log: Logger,
  first: (sandbox: Sandbox) => Promise<string>,
  measured: (sandbox: Sandbox) => Promise<string>,
  /** More deploys, once the old group is at 0, for the true cutover's median: each returns its new group. */
  more?: (sandbox: Sandbox, index: number) => Promise<string>,
  repeats = 1,
): Promise<AwsTimingsRow> {
  const row: AwsTimingsRow = { tool, instances: options.instances, ok: false };
  const limitMs = 600_000;
  const guard = deadline(limitMs, `${tool} at AWS timings`);
  let sandbox: Sandbox | undefined;
  try {
    await Promise.race([
      guard.promise,
      (async () => {
        sandbox = await rowSandbox({ timeScale: 1, bootSeconds: options.bootSeconds }, log);
        const old = await first(sandbox);
        log.info(`${tool} at AWS timings: v1 serving (${old}); measuring v1 → v2`);
        const probes = startProbes(sandbox.listenerUrl as string, options, limitMs);
        const t = Date.now();
        let serving: string;
        try {
          serving = await measured(sandbox);
        } finally {
          row.wallMs = Date.now() - t;
        }
        const returnedAt = Date.now();
        const zeroAt = await zeroInstancesAt(sandbox.clients(), old, returnedAt + ZERO_WAIT_MS);
        if (zeroAt !== undefined) row.oldAtZeroAfterReturnMs = zeroAt - returnedAt;
        const cutover = trueCutoverOf(sandbox.timeline(t).events, [old]);
        if (cutover) {
          row.cutoverCalls = sandbox
            .timeline(cutover.lastHealthyAt)
            .events.filter((e) => e.kind === 'call' && e.at <= cutover.cutoverAt)
            .map((e) => `+${e.at - cutover.lastHealthyAt} ${e.kind === 'call' ? e.action : ''}`);
        }
        const cutovers = cutover ? [cutover.ms] : [];
        for (let i = 1; i < repeats && more; i += 1) {
          const from = serving;
          const since = Date.now();
          serving = await more(sandbox, i);
          const next = trueCutoverOf(sandbox.timeline(since).events, [from]);
          if (next) cutovers.push(next.ms);
        }
        // In-flight requests finish (the probes wait for them) before the counts are read.
        row.probes = await stopProbes(probes);
        row.trueCutoversMs = cutovers;
        row.trueCutoverMs = median(cutovers);
        row.ok = zeroAt !== undefined && cutovers.length === repeats;
        if (!row.ok) row.error = zeroAt === undefined ? 'the old group never reached 0 instances' : 'no cutover seen';
      })(),
    ]);
  } catch (error) {
    row.error = describeError(error);
    log.error(`${tool} at AWS timings: ${row.error}`);
  } finally {
    guard.clear();
    await stopRowSandbox(sandbox, log, `${tool} at AWS timings`);
  }
  return row;
}

/** bluegreen's row: a first deploy, then the measured one. */
function bluegreenRow(options: AwsTimingsOptions, log: Logger): Promise<AwsTimingsRow> {
  const deployLog = options.verbose ? createLogger('deploy-aws-timings') : createLogger('deploy', () => undefined);
  let aws: AwsClients | undefined;
  const inputOf = (sandbox: Sandbox, ami: string, version: string) => {
    const infra = sandbox.infra as NonNullable<Sandbox['infra']>;
    return parseStageInput(
      deployStage,
      {
        app: 'bench',
        amiId: ami,
        version,
        targetGroups: [infra.targetGroupName],
        capacity: { min: options.instances, max: options.instances, desired: options.instances },
        instanceType: 't3.micro',
        subnets: infra.subnetIds,
        securityGroups: [infra.securityGroupId],
        ledger: { bucket: infra.ledgerBucket, prefix: 'bench' },
        healthTimeout: 600,
        lockLease: 600,
      },
      { env: { AWS_REGION: REGION } },
    ).input;
  };
  let v2 = '';
  return runRow(
    'bluegreen',
    options,
    log,
    async (sandbox) => {
      aws = sandboxClients(sandbox.endpoint, REGION, new CallCounter());
      const v1 = await makeAppAmi(sandbox.clients(), '1.0.0');
      v2 = await makeAppAmi(sandbox.clients(), '2.0.0');
      return (await deploy(aws, singleRegionRequest(inputOf(sandbox, v1, '1.0.0')), deployLog)).serverGroup;
    },
    async (sandbox) =>
      (await deploy(aws as AwsClients, singleRegionRequest(inputOf(sandbox, v2, '2.0.0')), deployLog)).serverGroup,
    async (sandbox, index) => {
      const version = `2.0.${index}`;
      const ami = await makeAppAmi(sandbox.clients(), version);
      return (await deploy(aws as AwsClients, singleRegionRequest(inputOf(sandbox, ami, version)), deployLog))
        .serverGroup;
    },
    options.cutoverRepeats,
  );
}

/** The AWS CLI peer's row: its script once for v1, once measured for v2. */
function peerRow(options: AwsTimingsOptions, log: Logger): Promise<AwsTimingsRow> {
  let v2 = '';
  return runRow(
    'aws-cli',
    options,
    log,
    async (sandbox) => {
      const v1 = await makeAppAmi(sandbox.clients(), '1.0.0');
      v2 = await makeAppAmi(sandbox.clients(), '2.0.0');
      const first = await runPeerScript(sandbox, v1, options.instances, {}, 600_000);
      if (first.code !== 0 || !first.group) throw new Error(`peer first deploy failed: ${first.output}`);
      return first.group;
    },
    async (sandbox) => {
      const second = await runPeerScript(sandbox, v2, options.instances, {}, 600_000);
      if (second.code !== 0 || !second.group) throw new Error(`peer deploy failed: ${second.output}`);
      return second.group;
    },
  );
}

/** Both rows, one after the other (never two sandboxes at once). The peer's only when an AWS CLI runs. */
export async function runAwsTimings(
  options: AwsTimingsOptions,
  log: Logger,
  withPeer: boolean,
): Promise<AwsTimingsRow[]> {
  return atAwsTimings(async () => {
    const rows = [await bluegreenRow(options, log)];
    if (withPeer) rows.push(await peerRow(options, log));
    return rows;
  });
}

/** The AWS-timings table. */
export function renderAwsTimings(rows: readonly AwsTimingsRow[], options: AwsTimingsOptions): string {
  const failed = (r: AwsTimingsRow): string =>
    r.probes ? `${r.probes.steady.failed}/${r.probes.slow.failed}/${r.probes.long.failed}` : '-';
  const requests = (r: AwsTimingsRow): string =>
    r.probes ? `${r.probes.steady.total}/${r.probes.slow.total}/${r.probes.long.total}` : '-';
  const body = rows.map((r) => [
    String(r.instances),
    r.tool,
    seconds(r.wallMs),
    failed(r),
    requests(r),
    r.trueCutoverMs === undefined
      ? '-'
      : `${Math.round(r.trueCutoverMs)}${(r.trueCutoversMs ?? []).length > 1 ? ` (median of ${r.trueCutoversMs?.join(', ')})` : ''}`,
    seconds(r.oldAtZeroAfterReturnMs),
    r.ok ? 'ok' : `FAILED: ${r.error ?? '?'}`,
  ]);
  return [
    `at AWS timings — time scale 1 (real seconds, nothing scaled): boot ${options.bootSeconds}s, health check ` +
      `${DEMO_HEALTH_CHECK.healthyThreshold}×${DEMO_HEALTH_CHECK.intervalSeconds}s, deregistration delay ` +
      `${DEMO_HEALTH_CHECK.deregistrationDelaySeconds}s; one v1 → v2 deploy per tool, each on a fresh sandbox; requests ` +
      `steady / slow ${options.slowRequestMs / 1000}s / long ${options.longRequestMs / 1000}s`,
    table(
      [
        'instances',
        'tool',
        'wall s',
        'failed req (steady/slow/long)',
        'requests',
        'true cutover ms',
        'old group at 0, s after return',
        'status',
      ],
      body,
    ),
  ].join('\n');
}
