/** The AWS CLI peer's scaled rows (bench/peers/aws-cli-bluegreen.sh on a fresh sandbox). */
import { describeError } from '../../src/core/errors';
import { type Logger } from '../../src/core/log';
import { type Sandbox } from '../../src/sandbox/sandbox';
import { makeAppAmi } from '../../test/sandbox/fixtures';
import { brokenBuildTimesOf } from '../timeline-measures';
import {
  deadline,
  groupsInTargetGroup,
  rowSandbox,
  runPeerScript,
  startRowProbe,
  stopRowProbe,
  stopRowSandbox,
} from '../rows';
import { type BenchOptions, PeerResult } from '../results';
import { resultOfBroken } from './bad-builds';

/** The AWS CLI peer on a fresh sandbox: a first deploy, the measured one with the probe, then a broken build (when asked). */
export async function runPeer(size: number, options: BenchOptions, log: Logger): Promise<PeerResult> {
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
