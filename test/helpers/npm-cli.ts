import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root: where `npx bluegreen` finds the package's own bin. */
export const repoRoot = join(__dirname, '..', '..');
const cli = join(repoRoot, 'dist', 'cli.js');

/** Newest modification time of the files under `folder`. */
function newestMtime(folder: string): number {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((newest, entry) => Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs), 0);
}

/**
 * Makes sure `dist/cli.js` (the package's bin) is built from the current
 * source. `npm test` builds first (its bundles-fresh check); a test run alone
 * after an edit rebuilds only dist/cli.js, never the committed bundles that
 * other tests read.
 */
export function ensureBuiltCli(): void {
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestMtime(join(repoRoot, 'src'))) return;
  execFileSync(
    'npx',
    [
      'tsup',
      '--no-config',
      'src/cli.ts',
      '--format',
      'cjs',
      '--platform',
      'node',
      '--target',
      'node20',
      '--out-dir',
      'dist',
    ],
    {
      cwd: repoRoot,
      stdio: 'ignore',
      timeout: 120_000,
    },
  );
}

/** A `npx bluegreen …` process and what it printed. */
export interface NpxRun {
  child: ChildProcess;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Starts `npx --no -- bluegreen …` in the repository, as a user would
 * (`--no`: never fetch a package of that name). Killed with SIGKILL after
 * `timeoutMs`.
 */
export function startNpx(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): NpxRun {
  const child = spawn('npx', ['--no', '--', 'bluegreen', ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, exited };
}
