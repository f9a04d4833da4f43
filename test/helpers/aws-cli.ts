import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * The AWS CLI v2, wherever it is. The tests and the bench talk to the sandbox
 * with it (v1, e.g. pip's `awscli` first on `PATH`, lacks commands and output
 * they read), so each asks this one helper instead of spawning `aws` or
 * `/usr/bin/aws`. scripts/setup.sh makes the same search and installs Debian's
 * `awscli` when it finds no v2.
 */

/** Where a v2 CLI is looked for after every `aws` on `PATH`: Debian's package and AWS's own installer. */
export const AWS_CLI_LOCATIONS: readonly string[] = ['/usr/bin/aws', '/usr/local/bin/aws'];

/** Bound on one `aws --version` (a broken shim must not hang a test). */
const VERSION_TIMEOUT_MS = 20_000;

/** Where to look: the `PATH` to search and the fixed locations after it. */
export interface AwsCliSearch {
  path?: string;
  locations?: readonly string[];
}

/** The major version an `aws --version` line names (`aws-cli/2.9.19 Python/…` → 2), or undefined. */
export function awsCliMajor(versionLine: string): number | undefined {
  const match = /^aws-cli\/(\d+)\./m.exec(versionLine);
  return match ? Number(match[1]) : undefined;
}

/** Every `aws` on `path`, in order, then `locations`, each once. */
export function awsCliCandidates(search: AwsCliSearch = {}): string[] {
  const path = search.path ?? process.env.PATH ?? '';
  const onPath = path
    .split(delimiter)
    .filter((folder) => isAbsolute(folder))
    .map((folder) => join(folder, 'aws'));
  return [...new Set([...onPath, ...(search.locations ?? AWS_CLI_LOCATIONS)])];
}

/** The first candidate whose `--version` says `aws-cli/2.…`, or undefined when there is none. */
export function findAwsCliV2(search: AwsCliSearch = {}): string | undefined {
  for (const candidate of awsCliCandidates(search)) {
    if (!existsSync(candidate)) continue;
    const run = spawnSync(candidate, ['--version'], { encoding: 'utf8', timeout: VERSION_TIMEOUT_MS });
    // v1 printed its version on stderr; v2 prints it on stdout.
    if (run.status === 0 && awsCliMajor(`${run.stdout}\n${run.stderr}`) === 2) return candidate;
  }
  return undefined;
}

let found: string | undefined;

/** The v2 CLI for a test to spawn; throws naming the fix when there is none (setup.sh installs it). */
export function awsCliV2(): string {
  found ??= findAwsCliV2();
  if (found === undefined)
    throw new Error(
      `no AWS CLI v2 found (looked at ${awsCliCandidates().join(', ')}): run bash scripts/setup.sh, which installs Debian's awscli`,
    );
  return found;
}
