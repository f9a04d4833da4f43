/**
 * The same bad build (a share of its requests fail, /health passes) deployed
 * twice on one sandbox: red/black with a 5XX alarm and a watch, then a canary.
 * Red/black puts all the traffic on it until the watch catches it; the canary
 * only its first step's share, so it should fail about step share × error
 * share of the requests while it serves.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AwsClients } from '../../src/aws/clients';
import { parseStageInput } from '../../src/stages/framework';
import { deployStage } from '../../src/stages/deploy';
import { type Sandbox } from '../../src/sandbox/sandbox';
import { alarmState, makeAppAmi, putTargetGroup5xxAlarm } from '../../test/sandbox/fixtures';
import { probeStopped, startRowProbe } from '../rows';
import type { CanaryComparison, BadBuildUnder } from '../results';
import { deployBadBuild, WATCH_ALARM_PERIOD_S, type ExtraRow } from './bad-builds';

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
  // The watched row's bad build may have left the alarm in ALARM: a deploy would refuse to start (exit 3).
  await alarmOutOfAlarm(sandbox, 'bench-5xx', 10 * WATCH_ALARM_PERIOD_S * row.options.timeScale * 1000);
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
  const { exitCode, code, step } = await deployBadBuild(aws, row, request, `compare-${row.size}`);
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

/** Waits until the alarm is out of ALARM, polling every second, for at most `limitMs` (then the deploy says why). */
async function alarmOutOfAlarm(sandbox: Sandbox, name: string, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while ((await alarmState(sandbox.clients(), name)) === 'ALARM' && Date.now() < deadline) await sleep(1_000);
}
