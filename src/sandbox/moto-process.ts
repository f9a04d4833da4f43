import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { BluegreenError, ExitCode } from '../core/errors';
import { pythonPathWith, writeMotoFleetPatch } from './moto-fleet-patch';
import { freeLoopbackPort } from './ports';

/** The line that installs what the sandbox needs, for error messages. */
export const MOTO_INSTALL_HINT = 'pip install "moto[server]"';

/** Raised when `moto_server` is not installed (exit 2: nothing was started). */
export class MotoMissingError extends BluegreenError {
  constructor(command: string) {
    super(
      'MotoMissing',
      ExitCode.badInput,
      `${command} was not found on PATH; the sandbox needs it: ${MOTO_INSTALL_HINT}`,
      {
        install: MOTO_INSTALL_HINT,
      },
    );
  }
}

/** A `moto_server` child process on a loopback port. */
export interface MotoProcess {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Exit code of {@link PDEATHSIG_WRAPPER} when the command is not found (as a shell's). */
const COMMAND_NOT_FOUND = 127;

/**
 * A few lines of Python that make the kernel send SIGTERM to moto when the
 * process that started it dies, whatever the way (even SIGKILL): Linux
 * `prctl(PR_SET_PDEATHSIG)`, which survives the exec of `moto_server` (itself
 * a Python script). Argument 1 is our pid: if we died before the prctl, exit.
 */
const PDEATHSIG_WRAPPER = `
import ctypes, os, signal, sys
PR_SET_PDEATHSIG = 1
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)
try:
    os.execvp(sys.argv[2], sys.argv[2:])
except FileNotFoundError:
    sys.exit(${COMMAND_NOT_FOUND})
`;

/**
 * Starts `moto_server` on a free 127.0.0.1 port and waits until it answers.
 * moto runs in a process group of its own (a terminal's Ctrl-C reaches the
 * sandbox, which stops moto in order) and never outlives this process (see
 * {@link PDEATHSIG_WRAPPER}). Throws {@link MotoMissingError} when the
 * command does not exist.
 */
export async function startMotoProcess(command = 'moto_server', readyTimeoutMs = 30_000): Promise<MotoProcess> {
  const port = await freeLoopbackPort();
  // Mixed instances groups launch as AWS would (see moto-fleet-patch.ts).
  const patch = writeMotoFleetPatch();
  const child: ChildProcess = spawn(
    'python3',
    ['-c', PDEATHSIG_WRAPPER, String(process.pid), command, '-H', '127.0.0.1', '-p', String(port)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      env: { ...process.env, PYTHONPATH: pythonPathWith(patch.dir) },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new MotoMissingError(command)
          : new Error(`${command} could not start: ${error.message}`),
      ),
    );
    child.once('exit', (code, signal) =>
      reject(
        code === COMMAND_NOT_FOUND
          ? new MotoMissingError(command)
          : new Error(`${command} exited (${signal ?? code}) before answering: ${stderr.trim()}`),
      ),
    );
  });
  failed.catch(() => undefined);
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    patch.remove();
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    killGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child.pid as number, 'SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    try {
      const response = await Promise.race([fetch(`${endpoint}/moto-api/`), failed]);
      await response.arrayBuffer();
      if (response.status < 500) break;
    } catch (error) {
      if (!(error instanceof TypeError)) {
        await stop();
        throw error;
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${command} did not answer on ${endpoint} within ${readyTimeoutMs} ms: ${stderr.trim()}`);
      }
      await sleep(100);
    }
  }
  // moto read the patch when it started: nothing of it is left on disk.
  patch.remove();
  return { endpoint, port, pid: child.pid as number, stop };
}

/** Signals moto's whole process group (anything it started goes too). */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: gone already.
  }
}
