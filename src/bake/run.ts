import { spawn } from 'node:child_process';
import { OperationFailedError } from '../core/errors';
import {
  packerBuildFailed,
  packerCommandFailed,
  packerNotFound,
  packerNotStarted,
  type PackerFailureReason,
} from './packer-errors';
import {
  LineSplitter,
  parseMachineReadableLine,
  readableLine,
  summarizeMachineReadable,
  type MachineReadableRecord,
} from './machine-readable';
import { lastManifestRun, readManifest } from './manifest';
import { defaultPackerPath, runPackerCommand } from './packer-cli';
import type { BuildDir } from './render';

/** Options of {@link runPacker}. */
export interface RunPackerOptions {
  /** The packer executable (default `PACKER_PATH` or `packer`). */
  packerPath?: string;
  /** Receives Packer's log as readable lines (machine-readable records turned back into text). */
  onLog?: (line: string) => void;
  /** Receives every machine-readable record. */
  onRecord?: (record: MachineReadableRecord) => void;
  /** Give up after this long: SIGINT packer, wait `graceMs`, then kill it. Default 2 h. */
  timeoutMs?: number;
  /** How long packer may clean up after SIGINT before it is killed. Default 10 min. */
  graceMs?: number;
  /** Forward SIGINT/SIGTERM received by this process to packer (default true). */
  forwardSignals?: boolean;
  /** Aborting sends SIGINT to packer (like a forwarded signal). */
  signal?: AbortSignal;
  /** Environment of packer (default process.env). AWS credentials come only from here. */
  env?: NodeJS.ProcessEnv;
  /** Applies tags Packer cannot carry (values holding `{{`) to the AMIs; see literal-tags.ts. */
  applyLiteralTags?: (amis: Record<string, string>, tags: Record<string, string>) => Promise<void>;
  /** Shares the AMIs and their snapshots with the bake's `amiUsers`, in every region; see share-ami.ts. */
  shareAmi?: (amis: Record<string, string>, accounts: readonly string[]) => Promise<void>;
}

/** What a bake made. */
export interface BakeResult {
  /** AMI in the build region. */
  amiId: string;
  /** Build region. */
  region: string;
  /** Region → AMI, the build region and every copy. */
  amis: Record<string, string>;
  amiName: string;
  /** Packer's run id (from the manifest), when known. */
  packerRunUuid?: string;
  /** Packer's exit code. */
  exitCode: number;
  /**
   * Set when Packer failed after making the AMI(s) (e.g. a post-processor
   * failed, or the literal tags could not be applied): the AMIs exist and
   * are reported, but the bake did not finish cleanly.
   */
  failure?: { message: string; errors: string[] };
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

async function checked(
  packerPath: string,
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  onLog?: (l: string) => void,
): Promise<void> {
  const out = await runPackerCommand(packerPath, args, { cwd, env });
  for (const line of (out.stdout + out.stderr).split('\n'))
    if (line.trim() !== '') onLog?.(`packer ${command}: ${line}`);
  if (out.exitCode !== 0) throw packerCommandFailed(command, out.exitCode, out.stdout + out.stderr);
}

/** Outcome of the `packer build` process. */
interface BuildProcess {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  records: MachineReadableRecord[];
  stopReason?: Exclude<PackerFailureReason, 'failed'>;
  stopDetail?: string;
}

function runBuildProcess(
  packerPath: string,
  buildDir: BuildDir,
  options: RunPackerOptions,
  env: NodeJS.ProcessEnv,
): Promise<BuildProcess> {
  return new Promise((resolve, reject) => {
    const records: MachineReadableRecord[] = [];
    const result: BuildProcess = { exitCode: null, exitSignal: null, records };
    const log = options.onLog ?? (() => undefined);
    // Own process group: a Ctrl-C on the terminal reaches us only, and we
    // forward one SIGINT to packer's group, so it cancels once and cleans up.
    const child = spawn(packerPath, ['build', '-machine-readable', '-color=false', '.'], {
      cwd: buildDir.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const out = new LineSplitter((line) => {
      const record = parseMachineReadableLine(line);
      if (record === undefined) {
        if (line.trim() !== '') log(line);
        return;
      }
      records.push(record);
      options.onRecord?.(record);
      const text = readableLine(record);
      if (text !== undefined) for (const l of text.split('\n')) log(l);
    });
    const err = new LineSplitter((line) => {
      if (line.trim() !== '') log(line);
    });
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));

    // Packer runs as two processes (panicwrap: the parent ignores SIGINT and
    // expects the terminal to signal its whole group), plus its plugins: so
    // signals go to packer's process group, which holds packer alone.
    const signalPacker = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        child.kill(signal);
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (reason: Exclude<PackerFailureReason, 'failed'>, signal: NodeJS.Signals, detail: string) => {
      if (result.stopReason === undefined) {
        result.stopReason = reason;
        result.stopDetail = detail;
      }
      log(`bluegreen: sending ${signal} to packer (${detail}); waiting for it to clean up`);
      signalPacker(signal);
      killTimer ??= setTimeout(() => {
        log(`bluegreen: packer still running ${options.graceMs ?? 600_000} ms after ${signal}: killing it`);
        signalPacker('SIGKILL');
      }, options.graceMs ?? 600_000);
    };
    const onSignal = (signal: NodeJS.Signals) => stop('interrupted', signal, `received ${signal}`);
    if (options.forwardSignals !== false) for (const s of SIGNALS) process.on(s, onSignal);
    const onAbort = () => stop('interrupted', 'SIGINT', 'aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted === true) onAbort();
    const timeoutMs = options.timeoutMs ?? 2 * 3600_000;
    const timeout = setTimeout(() => stop('timeout', 'SIGINT', `after ${timeoutMs} ms`), timeoutMs);

    const cleanup = () => {
      clearTimeout(timeout);
      if (killTimer !== undefined) clearTimeout(killTimer);
      for (const s of SIGNALS) process.off(s, onSignal);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      cleanup();
      reject(e.code === 'ENOENT' || e.code === 'EACCES' ? packerNotFound(packerPath) : packerNotStarted(packerPath, e));
    });
    child.on('close', (code, signal) => {
      cleanup();
      out.end();
      err.end();
      result.exitCode = code;
      result.exitSignal = signal;
      resolve(result);
    });
  });
}

/**
 * Runs Packer on a rendered build directory: `packer init` (Packer ≥ 1.7),
 * `packer validate`, then `packer build -machine-readable -color=false`.
 * The AMIs come from the manifest of this run (`last_run_uuid`), else from
 * the machine-readable artifacts, else from Packer's `AMI: ami-…` message.
 *
 * Throws an InputError when packer is missing or `init`/`validate` fail
 * (nothing was built), an OperationFailedError (`BakeFailed`, `BakeTimedOut`,
 * `BakeInterrupted`) when no AMI was made.
 * When Packer fails after making an AMI it returns a result with `failure`.
 */
export async function runPacker(buildDir: BuildDir, options: RunPackerOptions = {}): Promise<BakeResult> {
  const env = { ...(options.env ?? process.env), CHECKPOINT_DISABLE: '1' };
  const packerPath = options.packerPath ?? defaultPackerPath(env);
  const region = buildDir.bake.region;
  if (buildDir.needsInit) await checked(packerPath, 'init', ['init', '.'], buildDir.dir, env, options.onLog);
  await checked(packerPath, 'validate', ['validate', '.'], buildDir.dir, env, options.onLog);

  const build = await runBuildProcess(packerPath, buildDir, options, env);
  const summary = summarizeMachineReadable(build.records, region);
  const manifest = await readManifest(buildDir.manifestPath).catch(() => undefined);
  const run = manifest === undefined ? undefined : lastManifestRun(manifest);
  // The manifest is only this run's if it was written now (a rerun in the same dir appends).
  const manifestAmis =
    run !== undefined && Object.keys(run.amis).length > 0 && build.records.length > 0 ? run.amis : undefined;
  const amis = { ...summary.amis, ...manifestAmis };
  const amiId = amis[region] ?? summary.createdAmiIds[0];

  if (amiId === undefined) {
    if (build.stopReason !== undefined)
      throw packerBuildFailed(build.stopReason, build.exitCode, summary.errors, build.stopDetail);
    if (build.exitCode === 0)
      throw new OperationFailedError(
        'BakeFailed',
        'packer build succeeded but reported no AMI (does the template build an amazon-ebs source?)',
        { errors: [] },
      );
    throw packerBuildFailed('failed', build.exitCode, summary.errors);
  }
  if (amis[region] === undefined) amis[region] = amiId;

  const result: BakeResult = {
    amiId,
    region,
    amis,
    amiName: buildDir.bake.amiName,
    packerRunUuid: manifestAmis !== undefined ? run?.packerRunUuid : undefined,
    exitCode: build.exitCode ?? -1,
  };
  const failures: string[] = [];
  if (build.exitCode !== 0) {
    failures.push(
      build.stopReason !== undefined
        ? `packer build ${build.stopReason === 'timeout' ? 'timed out' : 'was interrupted'} (${build.stopDetail}) after creating ${amiId}`
        : `packer build failed (exit ${build.exitCode ?? build.exitSignal}) after creating ${amiId}`,
    );
  }
  const literal = buildDir.bake.literalTags;
  if (Object.keys(literal).length > 0) {
    if (options.applyLiteralTags === undefined) {
      failures.push(`tags holding "{{" were not applied (no applyLiteralTags): ${Object.keys(literal).join(', ')}`);
    } else {
      try {
        await options.applyLiteralTags(amis, literal);
      } catch (e) {
        failures.push(`applying tags holding "{{" failed: ${(e as Error).message}`);
      }
    }
  }
  const accounts = buildDir.bake.amiUsers;
  if (accounts.length > 0) {
    if (options.shareAmi === undefined) {
      failures.push(`the AMIs were not shared with ${accounts.join(', ')} (no shareAmi)`);
    } else {
      try {
        await options.shareAmi(amis, accounts);
      } catch (e) {
        failures.push(`sharing the AMIs with ${accounts.join(', ')} failed: ${(e as Error).message}`);
      }
    }
  }
  if (failures.length > 0) result.failure = { message: failures.join('; '), errors: summary.errors };
  return result;
}
