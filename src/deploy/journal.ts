import { setTimeout as sleep } from 'node:timers/promises';
import type { AwsClients } from '../aws/clients';
import { BluegreenError, describeError } from '../core/errors';
import type { Logger } from '../core/log';
import { currentRunScope } from '../core/run-scope';
import {
  acquireLock,
  checkLedgerBucket,
  keepLockRenewed,
  ledgerAws,
  LedgerWriter,
  runIdentity,
  type HeldLock,
  type LedgerRef,
  type LedgerStatus,
  type LockRenewal,
  type NewDeploymentRecord,
} from '../ledger';

/**
 * The deploy engine's view of the ledger and the cluster lock: take the lock
 * (optionally waiting for it), keep it renewed, and guard every change to
 * the cluster with it; append records without ever failing a deploy because
 * a record could not be written — but never silently: a record S3 refused is
 * kept pending, reported, and written by the next run (`LedgerWriter`).
 */
export interface ClusterSession {
  lock: HeldLock;
  /** Appends a record (retried); a failure is logged and the record kept pending, never thrown (the cluster matters more than the log). */
  record(record: NewDeploymentRecord): Promise<void>;
  /** Stops renewing, tries pending records once more, releases the lock; what reached the ledger. Idempotent. */
  close(): Promise<LedgerStatus>;
  /** Set when the lock was lost (broken by someone else) or its lease could not be renewed in time. */
  lost(): BluegreenError | undefined;
}

/** Throws the lock-lost error when someone broke our lock: a run checks before each step it must not take without it. */
export function assertLockHeld(session: ClusterSession): void {
  const lost = session.lost();
  if (lost) throw lost;
}

/** Who runs this: the build URL given as input, else the one Jenkins puts in the environment, else user@host. */
export function whoAmI(buildUrl?: string): string {
  return buildUrl ?? runIdentity().owner;
}

/** Options of {@link openClusterSession}. */
export interface SessionOptions {
  ledger: LedgerRef;
  cluster: string;
  /** The cluster's region: each region has its own lock. */
  region: string;
  owner: string;
  deploymentId: string;
  leaseSeconds: number;
  breakExpiredLock: boolean;
  /** Wait this long for a held lock before giving up with exit 3. */
  waitSeconds: number;
  log: Logger;
}

/** Takes the cluster lock (waiting up to `waitSeconds` for it) and starts renewing it. */
export async function openClusterSession(clusterAws: AwsClients, options: SessionOptions): Promise<ClusterSession> {
  // The ledger bucket may live in another region than the cluster.
  const aws = ledgerAws(options.ledger, clusterAws);
  // Read-only first: a missing or forbidden bucket is bad input before the lock's write (exit 2, nothing changed).
  await checkLedgerBucket(aws, options.ledger);
  const deadline = Date.now() + options.waitSeconds * 1000;
  let lock: HeldLock | undefined;
  let announced = false;
  while (!lock) {
    try {
      lock = await acquireLock(aws, options.ledger, options.cluster, {
        region: options.region,
        owner: options.owner,
        deploymentId: options.deploymentId,
        leaseSeconds: options.leaseSeconds,
        breakExpiredLock: options.breakExpiredLock,
        log: options.log,
      });
    } catch (error) {
      const held = error instanceof BluegreenError && error.code === 'LockHeld';
      if (!held || Date.now() >= deadline) throw error;
      if (!announced) options.log.info(`${describeError(error)} — waiting up to ${options.waitSeconds}s for it`);
      announced = true;
      await sleep(Math.min(2_000, Math.max(100, deadline - Date.now())));
    }
  }
  options.log.info(
    `lock on ${options.cluster} in ${options.region} taken (lease ${options.leaseSeconds}s, renewed while this runs)`,
  );
  const held = lock;
  // From here every change to the cluster (by this run's clients) first proves the lock; a lost lock also interrupts the run's waits.
  const scope = currentRunScope();
  if (scope) scope.lockGuard = held;
  const renewal: LockRenewal = keepLockRenewed(held, {
    log: options.log,
    onLost: (error) => scope?.interrupt?.(error),
  });
  const writer = new LedgerWriter(aws, clusterAws, options.ledger, options.cluster, options.log);
  await writer.writeLeftPending(options.deploymentId);
  let closed: Promise<LedgerStatus> | undefined;
  return {
    lock: held,
    record: (record) => writer.append(record),
    close() {
      closed ??= (async () => {
        await renewal.stop();
        const status = await writer.finish();
        try {
          await held.release();
        } catch (error) {
          options.log.warn(
            `could not release the lock on ${options.cluster}: ${describeError(error)}; it expires by its lease`,
          );
        }
        if (scope?.lockGuard === held) scope.lockGuard = undefined;
        return status;
      })();
      return closed;
    },
    lost: () => {
      if (renewal.lost ?? held.lost) return renewal.lost ?? held.lost;
      try {
        held.assertHeld('going on');
        return undefined;
      } catch (error) {
        return error instanceof BluegreenError ? error : undefined;
      }
    },
  };
}
