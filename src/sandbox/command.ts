import { unlinkSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { parseDuration } from '../core/duration';
import { BluegreenError, ExitCode, InputError, describeError } from '../core/errors';
import { createLogger } from '../core/log';
import { routeProcessWarnings, writeJsonFile } from '../stages/framework';
import { parseFaultRule, type FaultRule } from './faults';
import { startProbe } from './probe';
import { startSandbox, type Sandbox } from './sandbox';

/**
 * `bluegreen sandbox`: local AWS with real traffic, in the foreground until
 * SIGINT/SIGTERM or until the process that started it goes away; `bluegreen sandbox probe`: steady traffic to a URL, with a
 * report of failures and versions.
 */

/** `--throttle [service:]Action=share` → a throttle rule. */
export function parseThrottleFlag(value: string): FaultRule {
  const match = /^(?:([\w-]+):)?([\w*]+)=([\d.]+)$/.exec(value);
  if (!match)
    throw new InputError(
      'throttle',
      `must look like DescribeAutoScalingGroups=0.3 or autoscaling:DescribeAutoScalingGroups=0.3 (got "${value}")`,
    );
  return parseFaultRule({ kind: 'throttle', service: match[1], action: match[2], share: Number(match[3]) });
}

/** `--fail [service:]Action=count:Code[:status]` → a fail-next rule. */
export function parseFailFlag(value: string): FaultRule {
  const match = /^(?:([\w-]+):)?([\w*]+)=(\d+):([\w.]+)(?::(\d{3}))?$/.exec(value);
  if (!match)
    throw new InputError(
      'fail',
      `must look like CreateAutoScalingGroup=2:InternalFailure or CreateAutoScalingGroup=1:LimitExceeded:400 (got "${value}")`,
    );
  return parseFaultRule({
    kind: 'fail',
    service: match[1],
    action: match[2],
    count: Number(match[3]),
    code: match[4],
    status: match[5] === undefined ? undefined : Number(match[5]),
  });
}

/** `--latency [service:]Action=ms` (Action may be `*`) → a latency rule. */
export function parseLatencyFlag(value: string): FaultRule {
  const match = /^(?:([\w-]+):)?([\w*]+)=(\d+)$/.exec(value);
  if (!match) throw new InputError('latency', `must look like DescribeTargetHealth=200 or *=50 (got "${value}")`);
  return parseFaultRule({ kind: 'latency', service: match[1], action: match[2], ms: Number(match[3]) });
}

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Waits for SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** How often the sandbox checks that its launcher still lives. */
const LAUNCHER_POLL_MS = 500;

/**
 * Resolves when the process that started this one is gone (we were
 * re-parented). That is how a `kill $!` of `npx bluegreen sandbox &` shows
 * here: npx dies of the SIGTERM without passing it on.
 */
function untilLauncherGone(): { gone: Promise<string>; cancel: () => void } {
  const launcher = process.ppid;
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<string>((resolve) => {
    timer = setInterval(() => {
      if (process.ppid !== launcher) resolve(`the launching process ${launcher} is gone`);
    }, LAUNCHER_POLL_MS);
    timer.unref();
  });
  return { gone, cancel: () => clearInterval(timer) };
}

function exitCodeOf(error: unknown): number {
  return error instanceof BluegreenError ? error.exitCode : ExitCode.failed;
}

async function runSandbox(argv: Record<string, unknown>): Promise<void> {
  const log = createLogger('sandbox');
  routeProcessWarnings(log);
  let sandbox: Sandbox | undefined;
  let launcher: ReturnType<typeof untilLauncherGone> | undefined;
  const stateFile = typeof argv.stateFile === 'string' ? argv.stateFile : undefined;
  try {
    const port = Number(argv.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new InputError('port', `must be a TCP port 0-65535 (got ${String(argv.port)})`);
    const timeScale = Number(argv.timeScale);
    if (!(timeScale > 0 && timeScale <= 100))
      throw new InputError('time-scale', `must be a number above 0, e.g. 0.05 (got ${String(argv.timeScale)})`);
    const bootSeconds = Number(argv.bootSeconds);
    if (!(bootSeconds >= 0))
      throw new InputError('boot-seconds', `must be 0 or more seconds (got ${String(argv.bootSeconds)})`);
    const faults = [
      ...list(argv.throttle).map(parseThrottleFlag),
      ...list(argv.fail).map(parseFailFlag),
      ...list(argv.latency).map(parseLatencyFlag),
    ];
    // Signals during start-up must not kill us before the children are stopped.
    const signal = untilSignal();
    launcher = untilLauncherGone();
    const stopReason = Promise.race([signal, launcher.gone]);
    sandbox = await startSandbox({
      port,
      region: String(argv.region),
      timeScale,
      bootSeconds,
      infra: argv.infra === 'demo' ? 'demo' : 'none',
      classicLoadBalancer: argv.classicLb === true,
      faults,
      log,
    });
    const { motoPid, ports } = sandbox.resources();
    const state = {
      endpoint: sandbox.endpoint,
      region: sandbox.region,
      timeScale,
      ...(sandbox.infra ? { infra: { ...sandbox.infra, listenerUrl: sandbox.listenerUrl } } : {}),
      // What to check is gone after a stop.
      processes: { sandbox: process.pid, moto: motoPid },
      ports,
    };
    if (stateFile) writeJsonFile(stateFile, state);
    log.info(
      `ready: AWS endpoint ${sandbox.endpoint}${sandbox.listenerUrl ? `, demo load balancer ${sandbox.listenerUrl}` : ''}; Ctrl-C stops everything, and so does the end of the process that started it`,
    );
    process.stdout.write(`${sandbox.endpoint}\n`);
    const received = await stopReason;
    log.info(`${received}: stopping`);
  } catch (error) {
    log.error(describeError(error));
    process.exitCode = exitCodeOf(error);
  } finally {
    launcher?.cancel();
    await sandbox?.stop();
    if (sandbox && stateFile) {
      try {
        unlinkSync(stateFile);
      } catch {
        // Already gone: nothing to clean.
      }
    }
  }
}

async function runProbe(argv: Record<string, unknown>): Promise<void> {
  const log = createLogger('probe');
  try {
    const durationSeconds = parseDuration('duration', argv.duration);
    const concurrency = Number(argv.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
      throw new InputError('concurrency', `must be a whole number 1-256 (got ${String(argv.concurrency)})`);
    const url = String(argv.url);
    if (!/^http:\/\/127\.0\.0\.1(:\d+)?(\/|$)/.test(url))
      throw new InputError('url', `must be an http://127.0.0.1:<port>/ URL of the sandbox (got "${url}")`);
    const probe = startProbe({
      url,
      concurrency,
      maxDurationMs: durationSeconds * 1000,
      ...(argv.maxRequests === undefined ? {} : { maxRequests: Number(argv.maxRequests) }),
    });
    const stopEarly = untilSignal().then(() => probe.stop());
    const report = await Promise.race([probe.done, stopEarly]);
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    log.info(`${report.total} requests, ${report.failed} failed; versions ${JSON.stringify(report.perVersion)}`);
    if (typeof argv.output === 'string') writeJsonFile(argv.output, report);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.exitCode = report.failed > 0 ? ExitCode.failed : ExitCode.ok;
  } catch (error) {
    log.error(describeError(error));
    process.exitCode = exitCodeOf(error);
  }
}

const probeCommand: CommandModule = {
  command: 'probe',
  describe: 'Send steady traffic to a URL and report failures and versions (exit 1 when any request failed)',
  builder: (yargs: Argv) =>
    yargs
      .options({
        url: {
          type: 'string',
          demandOption: true,
          describe: 'URL to probe (a sandbox listener, http://127.0.0.1:<port>/)',
        },
        duration: { type: 'string', default: '10s', describe: 'How long to probe: 30, "30s", "2m"' },
        concurrency: { type: 'number', default: 4, describe: 'Requests in flight at once' },
        'max-requests': { type: 'number', describe: 'Stop after this many requests' },
        output: { type: 'string', describe: 'Also write the JSON report here' },
      })
      .strict(),
  handler: (argv) => runProbe(argv as Record<string, unknown>),
};

/** The `bluegreen sandbox` command (with its `probe` subcommand). */
export const sandboxCommand: CommandModule = {
  command: 'sandbox',
  describe: 'Run local AWS (moto) with real traffic: instances that serve, health checks, load balancers that route',
  builder: (yargs: Argv) =>
    yargs
      .command(probeCommand)
      .options({
        port: { type: 'number', default: 4566, describe: 'Gateway port on 127.0.0.1 (0 = any free port)' },
        region: { type: 'string', default: 'us-east-1', describe: 'AWS region the sandbox pretends to be' },
        'time-scale': {
          type: 'number',
          default: 1,
          describe: 'Factor on every delay (boot, health interval, deregistration delay), e.g. 0.05',
        },
        'boot-seconds': {
          type: 'number',
          default: 10,
          describe: 'Instance boot time in AWS seconds (before --time-scale)',
        },
        infra: {
          choices: ['none', 'demo'],
          default: 'none',
          describe: 'demo: create a VPC, ALB + listener, target group and buckets',
        },
        'classic-lb': {
          type: 'boolean',
          default: false,
          describe: 'With --infra demo: also a classic load balancer (elb API), HTTP 80, same health check',
        },
        'state-file': {
          type: 'string',
          describe: 'Write endpoint and demo infra ids here (JSON) when ready; removed on stop',
        },
        throttle: {
          type: 'string',
          array: true,
          describe: 'Throttle a share of an action: [service:]Action=0.3 (repeatable)',
        },
        fail: {
          type: 'string',
          array: true,
          describe: 'Fail the next N calls: [service:]Action=N:Code[:status] (repeatable)',
        },
        latency: {
          type: 'string',
          array: true,
          describe: 'Delay an action: [service:]Action=ms, Action may be * (repeatable)',
        },
      })
      .strict(),
  handler: (argv) => runSandbox(argv as Record<string, unknown>),
};
