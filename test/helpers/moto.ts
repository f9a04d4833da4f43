import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A running moto_server on a free loopback port. */
export interface MotoServer {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `moto_server` and waits until it answers. Fails with a clear message
 * when it is not installed. Always pair with `stop()` (test.after.always).
 */
export async function startMoto(): Promise<MotoServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`moto_server could not start (pip install "moto[server]"): ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`moto_server exited with ${code}: ${stderr}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await Promise.race([fetch(`${endpoint}/moto-api/`), exited]);
      if (response.status < 500) break;
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      if (Date.now() > deadline) throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr}`);
      await sleep(100);
    }
  }
  return {
    endpoint,
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Environment for an SDK client or a stage process talking to `endpoint`. */
export function emulatorEnv(endpoint: string, region = 'us-east-1'): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Points this process's SDK clients at `endpoint`. */
export function useEmulator(endpoint: string, region = 'us-east-1'): void {
  Object.assign(process.env, emulatorEnv(endpoint, region));
  delete process.env.AWS_PROFILE;
}
