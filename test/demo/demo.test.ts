import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CANARY_STEP, PLANNED_STEPS } from '../../demo/scenario';

/**
 * `npm run demo` as a newcomer runs it: a child process, the real bundles,
 * real packer, the sandbox. Run serially: the probe's "0 failed" is the
 * point, so the demo should not share the machine with itself.
 */

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'demo', 'run-demo.ts');

interface DemoRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | NodeJS.Signals>;
}

function startDemo(args: string[], env: NodeJS.ProcessEnv = process.env): DemoRun {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | NodeJS.Signals>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? (signal as NodeJS.Signals))),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once the demo's stdout matches `pattern` (the ava timeout bounds the wait). */
function waitForOutput(run: DemoRun, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const match = pattern.exec(run.stdout());
      if (match) {
        run.child.stdout?.off('data', check);
        resolve(match);
      }
    };
    run.child.stdout?.on('data', check);
    void run.exit.then(() =>
      reject(new Error(`demo exited before printing ${pattern}:\n${run.stdout()}\n${run.stderr()}`)),
    );
    check();
  });
}

test.serial(
  'the demo runs the whole story: every step as expected, 0 failed requests outside the bad builds caught, exit 0',
  async (t) => {
    const run = startDemo(['--time-scale', '0.05']);
    const code = await run.exit;
    const out = run.stdout();
    const report = out.slice(out.lastIndexOf('bluegreen demo report'));
    t.log(report);
    t.is(code, 0, `${out.slice(-3000)}\n${run.stderr()}`);
    t.regex(report, /^ {2}failed requests: 0 \(outside the bad builds caught\)$/m);
    // The bad build the watch caught: time to detect, time to restore and what failed meanwhile are reported.
    t.regex(
      report,
      /^ {2}deploy 4\.0\.0 \(fails 30 %\): caught \d+(\.\d)?s after it first answered .*traffic back on the previous group \d+(\.\d)?s later; \d+ of \d+ requests failed meanwhile$/m,
    );
    // The canary: caught at its first step, failed requests against step share × error share.
    const canary = new RegExp(
      `^ {2}${CANARY_STEP}: caught .*; (\\d+) of (\\d+) requests failed meanwhile \\((\\d+\\.\\d) %; expected about 10\\.0 % × 20\\.0 % = 2\\.0 %\\)$`,
      'm',
    ).exec(report);
    t.truthy(canary, 'the report has the canary line');
    t.true(Number(canary?.[3]) <= 10, `the canary's failed share ${canary?.[3]} % is near step share × error share`);
    t.regex(report, /^result: PASS/m);
    for (const step of PLANNED_STEPS) {
      const line = report.split('\n').find((l) => l.startsWith(`${step.name} `));
      t.truthy(line, `report lists ${step.name}`);
      // Columns (two spaces or more apart): step, took, expected, result, detail.
      const [, took, expected, result] = (line ?? '').split(/ {2,}/);
      t.regex(took ?? '', /^\d+(\.\d)?s$|^\d+m\d\ds$/, line);
      t.is(expected, step.expected, line);
      t.is(result, step.expected, line);
    }
    t.regex(report, /served per version: 1\.0\.0: \d+, 2\.0\.0: \d+/);
    t.regex(report, /AWS calls made .*: \d+ total, \d+ mutating/);
  },
);

test.serial(
  'Ctrl-C during the bake: exit 130, the sandbox and the temp dir are gone, the report says what did not run',
  async (t) => {
    const run = startDemo(['--time-scale', '0.05']);
    const [, pid, dir] = await waitForOutput(run, /moto pid (\d+), temp dir (\S+)\)/);
    await waitForOutput(run, /\[bake:packer\]/);
    run.child.kill('SIGINT');
    const code = await run.exit;
    t.is(code, 130, run.stdout().slice(-3000));
    t.false(alive(Number(pid)), 'moto_server was stopped');
    t.false(existsSync(dir as string), 'the temp dir was removed');
    t.regex(run.stdout(), /interrupted by SIGINT/);
    t.regex(run.stdout(), /^deploy 1\.0\.0 +- +ok +not run/m);
  },
);

test.serial('moto_server or packer missing: one message with the install line, exit 2', async (t) => {
  const run = startDemo([], { ...process.env, PATH: '/nonexistent' });
  t.is(await run.exit, 2);
  t.regex(run.stderr(), /needs moto_server and packer on PATH/);
  t.regex(run.stderr(), /pip install "moto\[server\]"/);
  t.is(run.stdout(), '');
});
