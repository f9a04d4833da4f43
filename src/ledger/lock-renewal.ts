import { BluegreenError, describeError } from '../core/errors';
import { silentLogger, type Logger } from '../core/log';
import type { LedgerAws } from './ledger';
import { lockLabel, type LedgerRef } from './ledger-ref';
import { acquireLock, RENEWALS_PER_LEASE, type AcquireLockOptions, type HeldLock } from './lock';

/**
 * Keeps a held lock's lease alive while a long run works: renews on an
 * interval, tolerates transient S3 errors (retried at the next tick) while
 * the lease is still proven, and stops for good when the lock is lost
 * (someone broke it) or when renewals failed for a whole lease, telling the caller.
 */

/** Options of {@link keepLockRenewed}. */
export interface LockRenewalOptions {
  /** Seconds between renewals, fractions allowed (default: a sixth of the lease, at least 1). */
  intervalSeconds?: number;
  /**
   * Called once if the lock is lost (ConflictError `LockLost`) or its lease
   * ran out without a successful renewal (`LockLeaseExpired`); the run must stop changing the cluster.
   */
  onLost?: (error: BluegreenError) => void;
  log?: Logger;
}

/** A running renewal loop. */
export interface LockRenewal {
  /** Stops renewing and waits for a renewal in flight. Idempotent. */
  stop(): Promise<void>;
  /** The error that ended renewal because the lock was lost, if it was. */
  readonly lost: BluegreenError | undefined;
  /** Renewals that succeeded so far. */
  readonly renewals: number;
}

/** Starts renewing `lock` every `intervalSeconds` until `stop()` or until the lock is lost. */
export function keepLockRenewed(lock: HeldLock, options: LockRenewalOptions = {}): LockRenewal {
  const log = options.log ?? silentLogger;
  const intervalMs = Math.max(
    10,
    (options.intervalSeconds ?? Math.max(1, lock.record.leaseSeconds / RENEWALS_PER_LEASE)) * 1000,
  );
  let stopped = false;
  let lost: BluegreenError | undefined;
  let renewals = 0;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const giveUp = (error: BluegreenError): void => {
    lost = error;
    stopped = true;
    log.error(error.message);
    options.onLost?.(error);
  };
  const tick = async (): Promise<void> => {
    try {
      await lock.renew();
      renewals += 1;
    } catch (error) {
      if (error instanceof BluegreenError && error.code === 'LockLost') return giveUp(error);
      if (lock.provenForMs() <= 0) {
        try {
          lock.assertHeld('renewing the lock');
        } catch (expired) {
          if (expired instanceof BluegreenError) return giveUp(expired);
        }
      }
      log.warn(
        `could not renew the lock of cluster ${lockLabel(lock.cluster, lock.region)} (will retry; the lease holds ${Math.max(0, Math.round(lock.provenForMs() / 1000))}s more): ${describeError(error)}`,
      );
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = tick().then(schedule);
    }, intervalMs);
    // A renewal loop alone must not keep the process alive.
    timer.unref();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
    get lost() {
      return lost;
    },
    get renewals() {
      return renewals;
    },
  };
}

/** Options of {@link withClusterLock}. */
export interface WithLockOptions extends AcquireLockOptions {
  /** Seconds between renewals (default: a sixth of the lease). */
  renewEverySeconds?: number;
}

/**
 * Runs `work` holding the cluster lock: acquires it (ConflictError `LockHeld`
 * when taken), renews it while `work` runs, and releases it afterwards,
 * whether `work` succeeded or threw. If the lock is lost meanwhile, `signal`
 * aborts (its reason is the `LockLost` or `LockLeaseExpired` error): stop changing the cluster.
 * A failed release is logged, never masks `work`'s own result or error.
 */
export async function withClusterLock<T>(
  aws: LedgerAws,
  ledger: LedgerRef,
  cluster: string,
  options: WithLockOptions,
  work: (lock: HeldLock, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const log = options.log ?? silentLogger;
  const lock = await acquireLock(aws, ledger, cluster, options);
  const controller = new AbortController();
  const renewal = keepLockRenewed(lock, {
    ...(options.renewEverySeconds !== undefined ? { intervalSeconds: options.renewEverySeconds } : {}),
    log,
    onLost: (error) => controller.abort(error),
  });
  try {
    return await work(lock, controller.signal);
  } finally {
    await renewal.stop();
    if (!renewal.lost) {
      await lock.release().catch((error: unknown) => {
        log.warn(
          `could not release the lock of cluster ${lockLabel(cluster, options.region)} (its lease ends at ${lock.record.expiresAt}): ${describeError(error)}`,
        );
      });
    }
  }
}
