/**
 * `npm run demo`: the main job on the sandbox, end to end, as a newcomer
 * watches it. Starts the sandbox (moto + traffic layer + demo infrastructure),
 * runs the real stage bundles as a Jenkins agent would (publish, bake with
 * real Packer, deploy, rollback) with traffic flowing through the load
 * balancer, and ends with a report. Exit 0 only if every step had its
 * expected outcome and no request failed; 2 if moto_server or packer is
 * missing; 130 on Ctrl-C. Everything it starts is stopped, whatever happens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeError } from '../src/core/errors';
import { createLogger } from '../src/core/log';
import type { Probe } from '../src/sandbox/probe';
import { startSandbox, type Sandbox } from '../src/sandbox/sandbox';
import { createDemoConsole } from './console';
import { missingMessage, missingPrerequisites } from './prerequisites';
import {
  failureReasons,
  passed,
  renderReport,
  watchedWithProbe,
  type DemoReport,
  type StepResult,
  type WatchedDraft,
} from './report';
import { PLANNED_STEPS, runScenario, UnexpectedOutcome } from './scenario';

interface DemoOptions {
  timeScale: number;
  deadlineSeconds: number;
  verbose: boolean;
}

function parseOptions(argv: string[]): DemoOptions {
  const parsed = yargs(argv)
    .scriptName('npm run demo --')
    .usage('$0 [--time-scale 0.1] [--deadline 600]')
    .options({
      'time-scale': {
        type: 'number',
        default: 0.1,
        describe: 'Factor on every sandbox delay (boot, health checks, draining); 1 = AWS-like',
      },
      deadline: {
        type: 'number',
        describe: 'Stop everything after this many seconds (default 300 + 2400 × time scale)',
      },
      verbose: {
        type: 'boolean',
        default: false,
        describe: 'Show every stage log line (packer tag lines, every SDK warning)',
      },
    })
    .strict()
    .help()
    .version(false)
    .parseSync();
  const timeScale = parsed['time-scale'];
  if (!(timeScale > 0 && timeScale <= 1)) throw new RangeError(`--time-scale must be in (0, 1] (got ${timeScale})`);
  const deadlineSeconds = parsed.deadline ?? Math.ceil(300 + 2400 * timeScale);
  if (!(deadlineSeconds > 0))
    throw new RangeError(`--deadline must be a positive number of seconds (got ${deadlineSeconds})`);
  return { timeScale, deadlineSeconds, verbose: parsed.verbose };
}

/** Fills in the steps that never ran, so the report always lists the whole story. */
function withUnrun(steps: StepResult[]): StepResult[] {
  return PLANNED_STEPS.map(
    (planned) =>
      steps.find((s) => s.name === planned.name) ?? { ...planned, outcome: 'not run', durationMs: 0, detail: '' },
  );
}

async function main(): Promise<number> {
  const options = parseOptions(hideBin(process.argv));
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    process.stderr.write(`demo: ${missingMessage(missing)}\n`);
    return 2;
  }
  const started = Date.now();
  const demoConsole = createDemoConsole((text) => process.stdout.write(text), started, options.verbose);
  const show = demoConsole.show;
  // The SDK's Node-version warning of this process: not the demo's business.
  process.removeAllListeners('warning');
  process.on('warning', () => undefined);

  const abort = new AbortController();
  let interrupted: string | undefined;
  let interruptedAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    // tsx relays the terminal's SIGINT that this process also got: one Ctrl-C can arrive twice within milliseconds.
    if (interrupted && Date.now() - interruptedAt < 2_000) return;
    if (interrupted) {
      process.stderr.write(`${signal} again: exiting without cleaning up\n`);
      process.exit(130);
    }
    interrupted = signal;
    interruptedAt = Date.now();
    show('demo', `${signal}: stopping the stage, the probe and the sandbox (Ctrl-C again to force)`);
    abort.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const deadline = setTimeout(() => {
    show('demo', `deadline of ${options.deadlineSeconds}s passed: stopping`);
    abort.abort(new Error(`the overall deadline of ${options.deadlineSeconds}s passed`));
  }, options.deadlineSeconds * 1000);

  const dir = mkdtempSync(join(tmpdir(), 'bluegreen-demo-'));
  const steps: StepResult[] = [];
  const report: DemoReport = { timeScale: options.timeScale, totalMs: 0, steps, caught: [] };
  let sandbox: Sandbox | undefined;
  let probe: Probe | undefined;
  const caught: WatchedDraft[] = [];
  try {
    show(
      'demo',
      `starting the sandbox (moto + traffic layer, time scale ${options.timeScale}) with demo infrastructure`,
    );
    const sandboxLog = createLogger('sandbox', (line) => show('sandbox', line));
    sandbox = await startSandbox({ timeScale: options.timeScale, infra: 'demo', log: sandboxLog });
    abort.signal.throwIfAborted();
    show(
      'demo',
      `sandbox ready: AWS endpoint ${sandbox.endpoint}, load balancer ${sandbox.listenerUrl ?? '?'} (moto pid ${sandbox.resources().motoPid}, temp dir ${dir})`,
    );
    await runScenario({
      sandbox,
      dir,
      timeScale: options.timeScale,
      signal: abort.signal,
      show,
      steps,
      onProbe: (p) => (probe = p),
      onWatched: (w) => caught.push(w),
    });
    // A little traffic after the rollback shows where it ends up.
    await new Promise((resolve) => setTimeout(resolve, 500));
  } catch (error) {
    if (abort.signal.aborted) report.failure = describeError(abort.signal.reason);
    else if (error instanceof UnexpectedOutcome) report.failure = error.message;
    else report.failure = describeError(error);
    show('demo', `stopped: ${report.failure}`);
  } finally {
    clearTimeout(deadline);
    report.probe = await (probe as Probe | undefined)?.stop();
    const probed = report.probe;
    if (probed) report.caught = caught.map((draft) => watchedWithProbe(draft, probed));
    report.calls = (sandbox as Sandbox | undefined)?.calls();
    show('demo', 'stopping the sandbox');
    await (sandbox as Sandbox | undefined)
      ?.stop()
      .catch((error: unknown) => show('demo', `sandbox stop: ${describeError(error)}`));
    rmSync(dir, { recursive: true, force: true });
  }
  report.steps = withUnrun(steps);
  report.totalMs = Date.now() - started;
  process.stdout.write(`\n${renderReport(report)}\n`);
  if (interrupted) return 130;
  if (passed(report)) return 0;
  process.stderr.write(`demo failed: ${failureReasons(report).join('; ')}\n`);
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything was stopped; if a stray handle still holds the loop, do not hang a newcomer's terminal.
    setTimeout(() => process.exit(code), 5_000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${describeError(error)}\n`);
    process.exitCode = 2;
  },
);
