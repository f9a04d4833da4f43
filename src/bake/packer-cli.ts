import { packerCommandFailed, packerNotFound, packerNotStarted } from './packer-errors';

/** A Packer version, as `packer version` prints it. */
export interface PackerVersion {
  major: number;
  minor: number;
  patch: number;
  /** e.g. `1.6.6` */
  text: string;
}

/** The `packer` to run: `PACKER_PATH`, else `packer` on PATH. */
export function defaultPackerPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PACKER_PATH ?? 'packer';
}

/** Parses `Packer v1.6.6` (and the `1.6.6` of `-machine-readable version`). */
export function parsePackerVersion(output: string): PackerVersion | undefined {
  const m = /(?:Packer v|,version,)(\d+)\.(\d+)\.(\d+)/.exec(output) ?? /^v?(\d+)\.(\d+)\.(\d+)/m.exec(output.trim());
  if (m === null) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return { major, minor, patch, text: `${major}.${minor}.${patch}` };
}

/**
 * Packer ≥ 1.7 loads plugins declared in `packer { required_plugins }` and
 * needs `packer init`; 1.6.x has the amazon builder built in and rejects the
 * block.
 */
export function usesPluginBlock(version: PackerVersion): boolean {
  return version.major > 1 || (version.major === 1 && version.minor >= 7);
}

/** Result of a short packer command. */
export interface CommandOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a short packer command (version, init, validate, fmt) through
 * `@actions/exec` and returns its output; the exit code is not checked.
 * Throws an InputError on `packer` when the executable is missing.
 */
export async function runPackerCommand(
  packerPath: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandOutput> {
  // @actions/exec 3 is ESM only: a dynamic import keeps this CommonJS package loadable.
  const { getExecOutput } = await import('@actions/exec');
  try {
    const env = Object.fromEntries(
      Object.entries({ ...process.env, ...options.env, CHECKPOINT_DISABLE: '1' }).filter(
        (e): e is [string, string] => e[1] !== undefined,
      ),
    );
    return await getExecOutput(packerPath, args, { cwd: options.cwd, env, silent: true, ignoreReturnCode: true });
  } catch (err) {
    if (err instanceof Error && /Unable to locate executable|ENOENT|EACCES/.test(err.message)) {
      throw packerNotFound(packerPath);
    }
    throw packerNotStarted(packerPath, err);
  }
}

/** Runs `packer version` and parses it. */
export async function detectPackerVersion(packerPath: string = defaultPackerPath()): Promise<PackerVersion> {
  const out = await runPackerCommand(packerPath, ['version']);
  const version = parsePackerVersion(out.stdout);
  if (out.exitCode !== 0 || version === undefined) {
    throw packerCommandFailed('version', out.exitCode, out.stdout + out.stderr);
  }
  return version;
}
