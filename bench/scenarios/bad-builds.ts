/** The bad-build rows: a watched build failing half its requests, a broken build (health check fails). */
import type { AwsClients } from '../../src/aws/clients';
import { BluegreenError, describeError } from '../../src/core/errors';
import { createLogger, type Logger } from '../../src/core/log';
import { deploy } from '../../src/deploy/deploy';
import { parseStageInput } from '../../src/stages/framework';
import { deployStage, singleRegionRequest } from '../../src/stages/deploy';
import { type Sandbox } from '../../src/sandbox/sandbox';
import { makeAppAmi, putTargetGroup5xxAlarm } from '../../test/sandbox/fixtures';
import { brokenBuildTimesOf, type BrokenBuildTimes } from '../timeline-measures';
import { groupsInTargetGroup, probeStopped, startRowProbe, stopRowProbe } from '../rows';
import { type BenchOptions, WatchedResult, BrokenResult, SizeResult } from '../results';

/** What a size's extra rows (watched and broken builds) deploy into. */
export interface ExtraRow {
  size: number;
  common: Record<string, unknown>;
  region: string;
  listenerUrl: string;
  limitMs: number;
  options: BenchOptions;
  log: Logger;
}

/** The watch's alarm: HTTPCode_Target_5XX_Count summed over one period of 60 AWS s (× the time scale on the sandbox). */
export const WATCH_ALARM_PERIOD_S = 60;

/** A build failing 50 % of real requests behind a healthy /health, deployed with a 5XX alarm and a watch: how fast it was caught and undone. */
export async function watchedDeploy(sandbox: Sandbox, aws: AwsClients, row: ExtraRow): Promise<WatchedResult> {
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
  const { exitCode, code, step } = await deployBadBuild(aws, row, request, `watch-${row.size}`);
  const report = await probe.stop();
  probeStopped();
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

/** How a bad build's deploy ended: its exit code, error code and failed step (when one was watched or analysed). */
export interface BadBuildOutcome {
  exitCode: number;
  code?: string;
  step?: { breachAt?: string; trafficBackMs?: number };
}

/** Deploys a bad build (logs on stderr with --verbose only) and tells how it ended. */
export async function deployBadBuild(
  aws: AwsClients,
  row: Pick<ExtraRow, 'options'>,
  request: Parameters<typeof singleRegionRequest>[0],
  label: string,
): Promise<BadBuildOutcome> {
  try {
    await deploy(
      aws,
      singleRegionRequest(request),
      row.options.verbose ? createLogger(label) : createLogger(label, () => undefined),
    );
    return { exitCode: 0 };
  } catch (error) {
    if (!(error instanceof BluegreenError)) return { exitCode: 2, code: describeError(error) };
    const verification = error.details.verification as
      { steps?: Array<{ verdict: string; breachAt?: string; trafficBackMs?: number }> } | undefined;
    const step = verification?.steps?.find((s) => s.verdict === 'failed');
    return { exitCode: error.exitCode, code: error.code, ...(step ? { step } : {}) };
  }
}

/** A broken build (every health check fails) deployed with healthTimeout 10m: when it was given up on, and what it left. */
export async function brokenDeploy(sandbox: Sandbox, aws: AwsClients, row: ExtraRow): Promise<BrokenResult> {
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

export function resultOfBroken(input: {
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
