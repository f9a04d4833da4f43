/**
 * The same bad build (a share of its requests fail, /health passes) deployed
 * twice on one sandbox: red/black with a 5XX alarm and a watch, then a canary.
 * Red/black puts all the traffic on it until the watch catches it; the canary
 * only its first step's share, so it should fail about step share × error
 * share of the requests while it serves.
 */
import type { AwsClients } from '../../src/aws/clients';
import { BluegreenError, describeError } from '../../src/core/errors';
import { createLogger } from '../../src/core/log';
import { deploy } from '../../src/deploy/deploy';
import { parseStageInput } from '../../src/stages/framework';
import { deployStage, singleRegionRequest } from '../../src/stages/deploy';
import { type Sandbox } from '../../src/sandbox/sandbox';
import { makeAppAmi, putTargetGroup5xxAlarm } from '../../test/sandbox/fixtures';
import { probeStopped, startRowProbe } from '../rows';
import type { CanaryComparison, BadBuildUnder } from '../results';
import { WATCH_ALARM_PERIOD_S, type ExtraRow } from './bad-builds';

/** The bad build's failing share of requests. */
export const COMPARISON_ERROR_SHARE = 0.2;
/** The canary's steps: its first step's share is what it should cost. */
export const COMPARISON_STEPS = [10, 100];
const VERSION = '7.7.7-errors';

/** Runs both deploys of the bad build on the row's sandbox. */
export async function canaryComparison(sandbox: Sandbox, aws: AwsClients, row: ExtraRow): Promise<CanaryComparison> {
  const infra = sandbox.infra;
  if (!infra) throw new Error('the sandbox has no demo infrastructure');
  const ami = await makeAppAmi(sandbox.clients(), VERSION, 'ok', { 'sandbox:errors': String(COMPARISON_ERROR_SHARE) });
  await putTargetGroup5xxAlarm(sandbox.clients(), infra, 'bench-5xx', WATCH_ALARM_PERIOD_S);
  // Both at AWS-like lengths on the sandbox clock: a 10-minute watch, 5-minute canary steps (at least 10 real seconds).
  const watchSeconds = Math.max(10, Math.ceil(600 * row.options.timeScale));
  const stepWatchSeconds = Math.max(10, Math.ceil(300 * row.options.timeScale));
  const redBlack = await badBuildUnder(aws, row, 'red/black + watch', 1, {
    amiId: ami,
    alarms: ['bench-5xx'],
    gates: false,
    watch: watchSeconds,
  });
  const canary = await badBuildUnder(
    aws,
    row,
    `canary [${COMPARISON_STEPS.join(', ')}]`,
    (COMPARISON_STEPS[0] ?? 100) / 100,
    {
      amiId: ami,
      strategy: 'canary',
      steps: COMPARISON_STEPS,
      stepWatch: stepWatchSeconds,
    },
  );
  return { errorShare: COMPARISON_ERROR_SHARE, watchSeconds, stepWatchSeconds, redBlack, canary };
}

/** One deploy of the bad build under a probe: the failed share while it served, against `trafficShare` × the error share. */
async function badBuildUnder(
  aws: AwsClients,
  row: ExtraRow,
  strategy: string,
  trafficShare: number,
  input: Record<string, unknown>,
): Promise<BadBuildUnder> {
  const { input: request } = parseStageInput(
    deployStage,
    { cluster: 'bench', version: VERSION, ...row.common, ...input },
    { env: { AWS_REGION: row.region } },
  );
  const probe = startRowProbe(row.listenerUrl, row.options, row.limitMs);
  let exitCode = 0;
  let code: string | undefined;
  let step: { breachAt?: string; trafficBackMs?: number } | undefined;
  try {
    const label = `compare-${row.size}`;
    await deploy(
      aws,
      singleRegionRequest(request),
      row.options.verbose ? createLogger(label) : createLogger(label, () => undefined),
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
  probeStopped();
  // While it served: its first answer → the breach plus the time to take it out (request start times).
  const from = report.versionSpans[VERSION]?.firstMs;
  const to =
    step?.breachAt !== undefined ? Date.parse(step.breachAt) - probe.startedAt + (step.trafficBackMs ?? 0) : undefined;
  const served =
    from !== undefined && to !== undefined
      ? {
          failed: report.failureTimesMs.filter((at) => at >= from && at <= to).length,
          requests: probe.startedBetween(from, to),
        }
      : { failed: 0, requests: 0 };
  return {
    strategy,
    exitCode,
    ...(code ? { code } : {}),
    ...served,
    expectedShare: trafficShare * COMPARISON_ERROR_SHARE,
    deployFailed: report.failed,
    deployRequests: report.total,
  };
}
