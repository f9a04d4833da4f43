import { startMotoProcess } from '../../src/sandbox/moto-process';
import { freeLoopbackPort } from '../../src/sandbox/ports';

/** A running moto_server on a free loopback port. */
export interface MotoServer {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export const freePort = freeLoopbackPort;

/**
 * Starts a plain `moto_server` (no sandbox traffic layer) and waits until it
 * answers; fails with the install line when it is missing. Always pair with
 * `stop()` (test.after.always).
 */
export function startMoto(): Promise<MotoServer> {
  return startMotoProcess();
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
