import { setTimeout as sleep } from 'node:timers/promises';
import type { AwsClients } from '../aws/clients';
import { BluegreenError, describeError } from '../core/errors';
import type { Logger } from '../core/log';
import {
  acquireLock,
  appendRecord,
  keepLockRenewed,
  ledgerAws,
  runIdentity,
  type HeldLock,
  type LedgerRef,
  type LockRenewal,
  type NewDeploymentRecord,
} from '../ledger';

/**
 * The deploy engine's view of the ledger and the cluster lock: take the lock
 * (optionally waiting for it), keep it renewed, append records without ever
 * failing a deploy because a record could not be written.
 */
export interface ClusterSession {
  lock: HeldLock;
  /** Appends a record; a failure is logged, never thrown (the cluster matters more than the log). */
  record(record: NewDeploymentRecord): Promise<void>;
  /** Stops renewing and releases the lock. */
  close(): Promise<void>;
  /** Set when the lock was lost (broken by someone else) while we worked. */
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
  const deadline = Date.now() + options.waitSeconds * 1000;
  let lock: HeldLock | undefined;
  let announced = false;
  while (!lock) {
    try {
      lock = await acquireLock(aws, options.ledger, options.cluster, {
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
  options.log.info(`lock on ${options.cluster} taken (lease ${options.leaseSeconds}s, renewed while this runs)`);
  const renewal: LockRenewal = keepLockRenewed(lock, { log: options.log });
  const held = lock;
  return {
    lock: held,
    async record(record) {
      try {
        await appendRecord(aws, options.ledger, record);
      } catch (error) {
        options.log.warn(`could not write the ledger record (${record.kind} ${record.result}): ${describeError(error)}`);
      }
    },
    async close() {
      await renewal.stop();
      try {
        await held.release();
      } catch (error) {
        options.log.warn(`could not release the lock on ${options.cluster}: ${describeError(error)}; it expires by its lease`);
      }
    },
    lost: () => renewal.lost,
  };
}
