import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { BluegreenError, ExitCode } from '../core/errors';
import { freeLoopbackPort } from './ports';

/** The line that installs what the sandbox needs, for error messages. */
export const MOTO_INSTALL_HINT = 'pip install "moto[server]"';

/** Raised when `moto_server` is not installed (exit 2: nothing was started). */
export class MotoMissingError extends BluegreenError {
  constructor(command: string) {
    super('MotoMissing', ExitCode.badInput, `${command} was not found on PATH; the sandbox needs it: ${MOTO_INSTALL_HINT}`, {
      install: MOTO_INSTALL_HINT,
    });
  }
}

/** A `moto_server` child process on a loopback port. */
export interface MotoProcess {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `moto_server` on a free 127.0.0.1 port and waits until it answers.
 * Throws {@link MotoMissingError} when the command does not exist.
 */
export async function startMotoProcess(command = 'moto_server', readyTimeoutMs = 30_000): Promise<MotoProcess> {
  const port = await freeLoopbackPort();
  const child: ChildProcess = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new MotoMissingError(command) : new Error(`${command} could not start: ${error.message}`)),
    );
    child.once('exit', (code, signal) => reject(new Error(`${command} exited (${signal ?? code}) before answering: ${stderr.trim()}`)));
  });
  failed.catch(() => undefined);
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
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
  return { endpoint, port, pid: child.pid as number, stop };
}
