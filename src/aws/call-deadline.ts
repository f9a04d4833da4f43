import { OperationFailedError } from '../core/errors';

/**
 * A deadline on every AWS call, retries included. The SDK's own request
 * timeout only covers one attempt (and by default only warns); a call that
 * never answers would otherwise hang the run. At the deadline the call is
 * aborted and fails with `AwsCallTimeout` naming the service and action.
 */

/** Default deadline of one control-plane call (Auto Scaling, EC2, ELB, CloudWatch), retries included. */
export const CALL_TIMEOUT_MS = 90_000;
/** Default deadline of one S3 call: an upload part may take minutes on a slow link. */
export const S3_CALL_TIMEOUT_MS = 15 * 60_000;

/** The deadline for a call of `service` (`BLUEGREEN_AWS_CALL_TIMEOUT_MS` overrides both, read per call). */
export function callTimeoutMs(service: string): number {
  const fromEnv = Number(process.env.BLUEGREEN_AWS_CALL_TIMEOUT_MS);
  if (Number.isFinite(fromEnv) && fromEnv > 0) return fromEnv;
  return service === 's3' ? S3_CALL_TIMEOUT_MS : CALL_TIMEOUT_MS;
}

interface SendOptions {
  abortSignal?: AbortSignal;
}

interface SendingClient {
  send: (command: never, options?: never) => Promise<unknown>;
}

/** Wraps `client.send` so each call ends by its deadline (the SDK's callback form passes through untouched). */
export function addCallDeadline(service: string, client: SendingClient): void {
  const send = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const bounded = async (command: unknown, options?: unknown): Promise<unknown> => {
    if (typeof options === 'function') return send(command, options);
    const given = (options ?? {}) as SendOptions;
    const ms = callTimeoutMs(service);
    const action = ((command as { constructor?: { name?: string } }).constructor?.name ?? 'Unknown').replace(
      /Command$/,
      '',
    );
    const timer = new AbortController();
    const signal = given.abortSignal ? AbortSignal.any([given.abortSignal, timer.signal]) : timer.signal;
    let handle: NodeJS.Timeout | undefined;
    // The SDK sleeps between retries without watching the signal: the race ends the call at the deadline regardless.
    const deadline = new Promise<never>((_, reject) => {
      handle = setTimeout(() => {
        const error = new OperationFailedError(
          'AwsCallTimeout',
          `AWS call ${service} ${action} did not answer within ${Math.round(ms / 100) / 10}s (retries included); it was abandoned`,
          { service, action, timeoutMs: ms },
        );
        timer.abort(error);
        reject(error);
      }, ms);
      handle.unref();
    });
    try {
      return await Promise.race([send(command, { ...given, abortSignal: signal }), deadline]);
    } finally {
      clearTimeout(handle);
    }
  };
  (client as { send: unknown }).send = bounded;
}
