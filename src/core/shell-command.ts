import { spawn } from 'node:child_process';
import { redact } from './redact';

/** How a user's shell command ended. */
export interface ShellCommandResult {
  /** The exit code; null when it was killed (timeout or signal). */
  exitCode: number | null;
  /** True when it ran past its timeout and its process group was killed. */
  timedOut: boolean;
  /** The last lines of its output (stdout and stderr interleaved), redacted. */
  lastLines: string[];
}

/** Options of {@link runShellCommand}. */
export interface ShellCommandOptions {
  /** The command, run by `sh -c`. */
  command: string;
  /** Variables added to this process's environment. */
  env: Record<string, string>;
  timeoutSeconds: number;
  /** Receives every output line, redacted, as it comes. */
  onLine: (line: string) => void;
  /** How many last lines to keep for the error (default 20). */
  keepLines?: number;
  /** After SIGTERM to the group, how long before SIGKILL (ms, default 2000). */
  killGraceMs?: number;
}

/**
 * Runs a user's command with `sh -c` in its own process group, bounded in
 * time: past `timeoutSeconds` the whole group (the shell and what it started)
 * gets SIGTERM, then SIGKILL. Output lines are redacted before they reach
 * `onLine` or the kept tail, so a secret the command prints never leaves the
 * process. Never throws for the command's failure: the caller decides.
 */
export function runShellCommand(options: ShellCommandOptions): Promise<ShellCommandResult> {
  const keep = options.keepLines ?? 20;
  const lastLines: string[] = [];
  const emit = (raw: string): void => {
    const line = redact(raw);
    options.onLine(line);
    lastLines.push(line);
    if (lastLines.length > keep) lastLines.shift();
  };
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', options.command], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a timeout kills what the shell started too.
      detached: true,
    });
    const pending = { stdout: '', stderr: '' };
    const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = pending[stream] + chunk.toString('utf8');
      const lines = text.split(/\r?\n/);
      pending[stream] = lines.pop() ?? '';
      for (const line of lines) emit(line);
    };
    child.stdout.on('data', onData('stdout'));
    child.stderr.on('data', onData('stderr'));
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? 2000);
    }, options.timeoutSeconds * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      // A child of the shell may still hold the group: it goes with the command.
      killGroup('SIGKILL');
      for (const stream of ['stdout', 'stderr'] as const) if (pending[stream]) emit(pending[stream]);
      resolve({ exitCode: timedOut ? null : code, timedOut, lastLines });
    });
  });
}
