import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Runs one stage bundle as a Jenkins agent would: `node
 * resources/bluegreen/<stage>.js --input in.json --output out.json` with the
 * sandbox environment; its stderr log lines are handed to `onLine` as they
 * come. An abort signal stops the child (SIGTERM: the bake stage passes it
 * on to packer, which cleans up), then SIGKILL to its whole process group
 * after a grace period.
 *
 * The child runs in its own process group: a terminal Ctrl-C reaches the
 * demo only, and the demo stops the stage once, in order (a stage getting
 * SIGINT from the terminal and SIGTERM from the demo, and packer both again
 * from the stage, made cleanups race). The group also lets the demo sweep a
 * packer left hanging (e.g. its AWS endpoint already gone).
 */

/** Direct children of `pid` (packer, which the bake stage starts in a process group of its own). */
function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // none, or no pgrep
  }
}

function killGroupOf(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // ESRCH: gone already.
    }
  }
}

/** Path of a committed stage bundle. */
export function bundlePath(stage: string): string {
  return join(__dirname, '..', 'resources', 'bluegreen', `${stage}.js`);
}

export interface StageProcessOptions {
  /** Bundle name: publish, bake, deploy, rollback, status. */
  stage: string;
  input: Record<string, unknown>;
  /** Folder for in.json / out.json of this run. */
  dir: string;
  env: Record<string, string>;
  onLine: (line: string) => void;
  signal: AbortSignal;
  /** Wait this long after SIGTERM before SIGKILL of the group (default 20 s: packer's cleanup). */
  graceMs?: number;
}

export interface StageProcessResult {
  exitCode: number;
  /** The output file (`{"error": …}` on failure); undefined if none was written. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each step reads its own keys
  output: any;
  durationMs: number;
}

export async function runStageProcess(options: StageProcessOptions): Promise<StageProcessResult> {
  options.signal.throwIfAborted();
  const inputPath = join(options.dir, 'in.json');
  const outputPath = join(options.dir, 'out.json');
  writeFileSync(inputPath, JSON.stringify(options.input, null, 2));
  const started = Date.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [bundlePath(options.stage), '--input', inputPath, '--output', outputPath],
    {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  // Packer runs in its own group: remembered at the abort, swept if it outlives the stage (e.g. its AWS endpoint died first).
  let grandchildren: number[] = [];
  const killGroup = (signal: NodeJS.Signals): void => {
    if (child.pid !== undefined) killGroupOf(child.pid, signal);
    for (const pid of grandchildren) killGroupOf(pid, signal);
  };
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  lines.on('line', options.onLine);
  let sweep: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (child.pid !== undefined) grandchildren = childPids(child.pid);
    child.kill('SIGTERM');
    sweep = setTimeout(() => killGroup('SIGKILL'), options.graceMs ?? 20_000);
  };
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    const output: unknown = existsSync(outputPath) ? JSON.parse(readFileSync(outputPath, 'utf8')) : undefined;
    return { exitCode, output, durationMs: Date.now() - started };
  } finally {
    options.signal.removeEventListener('abort', stop);
    clearTimeout(sweep);
    // Stopped early: whatever the stage left in its group (a packer that would not quit) goes too.
    if (options.signal.aborted) killGroup('SIGKILL');
    lines.close();
  }
}
