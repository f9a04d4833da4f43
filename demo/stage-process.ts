import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Runs one stage bundle as a Jenkins agent would: `node
 * resources/bluegreen/<stage>.js --input in.json --output out.json` with the
 * sandbox environment; its stderr log lines are handed to `onLine` as they
 * come. An abort signal stops the child (SIGTERM: the bake stage passes it
 * on to packer, which cleans up), SIGKILL after a grace period.
 */

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
  /** Wait this long after SIGTERM before SIGKILL (default 30 s: packer's cleanup). */
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
  const child: ChildProcess = spawn(process.execPath, [bundlePath(options.stage), '--input', inputPath, '--output', outputPath], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  lines.on('line', options.onLine);
  const stop = (): void => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), options.graceMs ?? 30_000).unref();
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
    lines.close();
  }
}
