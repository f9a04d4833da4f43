import { hostname } from 'node:os';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ConflictError, InputError } from '../core/errors';
import { silentLogger, type Logger } from '../core/log';
import type { LedgerAws } from './ledger';
import { ledgerUrl, lockKey, type LedgerRef } from './ledger-ref';
import { withoutUrlCredentials } from './record';
import { isConditionFailed, isNoSuchKey, ledgerS3Error } from './s3-errors';

/**
 * The cluster lock: one S3 object per cluster, `{prefix}/{cluster}/lock.json`,
 * created with `If-None-Match: *` (only one creator wins), renewed and
 * released with `If-Match: <our ETag>` (never someone else's lock). A lock
 * whose lease has expired is broken only when asked to, with `If-Match` on
 * the stale ETag, so of two breakers exactly one wins.
 */

/** The body of the lock object. */
export interface LockRecord {
  /** Who holds it: build URL, or user@host outside Jenkins. */
  owner: string;
  deploymentId: string;
  acquiredAt: string;
  renewedAt: string;
  leaseSeconds: number;
  /** The holder is presumed dead after this time unless it renews. */
  expiresAt: string;
  /** Machine and process of the holder (diagnostics). */
  host: string;
  pid: number;
  /** When this lock was taken over from an expired one: whose. */
  brokeExpiredLockOf?: { owner: string; deploymentId: string; expiresAt: string };
}

/** The lock as `readLock` sees it. */
export interface LockStatus extends LockRecord {
  cluster: string;
  /** `s3://bucket/key` of the lock object. */
  url: string;
  /** ETag of the lock object (what a conditional write must match). */
  etag: string;
  /** True when `expiresAt` has passed: the holder stopped renewing. */
  expired: boolean;
}

/**
 * Default lease (also the stages' `lockLease` default): renewed every third of it while a
 * run works, and short enough that a crashed run's lock is free again within minutes.
 */
export const DEFAULT_LEASE_SECONDS = 120;
const MAX_LEASE_SECONDS = 7 * 24 * 3600;

/** Options of {@link acquireLock}. */
export interface AcquireLockOptions {
  /** Who takes it: build URL, or user@host (credentials in a URL are stripped). */
  owner: string;
  deploymentId: string;
  /** Lease in seconds, 1–604800 (default {@link DEFAULT_LEASE_SECONDS}). Renew before it runs out. */
  leaseSeconds?: number;
  /** Take over a lock whose lease has expired (never a live one). Default false. */
  breakExpiredLock?: boolean;
  /** Clock (tests). */
  clock?: () => Date;
  log?: Logger;
}

/** A lock we hold. Renew it while working; release it when done. */
export interface HeldLock {
  readonly ledger: LedgerRef;
  readonly cluster: string;
  readonly key: string;
  /** The lock body as last written by us. */
  readonly record: LockRecord;
  /** ETag of our lock object (changes at each renewal). */
  readonly etag: string;
  /**
   * Extends the lease by `leaseSeconds` from now (conditional on our ETag).
   * Throws ConflictError `LockLost` when the lock is no longer ours.
   */
  renew(): Promise<LockRecord>;
  /**
   * Deletes the lock if it is still ours; true when deleted. When it was
   * broken or released meanwhile, nothing is deleted and it returns false.
   */
  release(): Promise<boolean>;
}

/** Reads the lock of a cluster: the holder, or null when free. */
export async function readLock(aws: LedgerAws, ledger: LedgerRef, cluster: string, options: { clock?: () => Date } = {}): Promise<LockStatus | null> {
  const key = lockKey(ledger, cluster);
  const now = (options.clock ?? (() => new Date()))();
  let text: string;
  let etag: string;
  try {
    const response = await aws.s3.send(new GetObjectCommand({ Bucket: ledger.bucket, Key: key }));
    text = (await response.Body?.transformToString('utf8')) ?? '';
    etag = response.ETag ?? '';
  } catch (error) {
    if (isNoSuchKey(error)) return null;
    throw ledgerS3Error(error, ledger, 'reading the lock in');
  }
  const record = parseLockRecord(text);
  return { ...record, cluster, url: ledgerUrl(ledger, key), etag, expired: now.getTime() >= Date.parse(record.expiresAt) };
}

/** A lock body we cannot read counts as expired at the epoch, so it can be broken (explicitly). */
function parseLockRecord(text: string): LockRecord {
  try {
    const parsed = JSON.parse(text) as Partial<LockRecord>;
    if (typeof parsed.owner === 'string' && typeof parsed.expiresAt === 'string' && Number.isFinite(Date.parse(parsed.expiresAt))) {
      return {
        owner: parsed.owner,
        deploymentId: String(parsed.deploymentId ?? 'unknown'),
        acquiredAt: String(parsed.acquiredAt ?? parsed.expiresAt),
        renewedAt: String(parsed.renewedAt ?? parsed.acquiredAt ?? parsed.expiresAt),
        leaseSeconds: Number(parsed.leaseSeconds ?? 0),
        expiresAt: parsed.expiresAt,
        host: String(parsed.host ?? 'unknown'),
        pid: Number(parsed.pid ?? 0),
        ...(parsed.brokeExpiredLockOf ? { brokeExpiredLockOf: parsed.brokeExpiredLockOf } : {}),
      };
    }
  } catch {
    // falls through
  }
  const epoch = new Date(0).toISOString();
  return { owner: 'unreadable lock object', deploymentId: 'unknown', acquiredAt: epoch, renewedAt: epoch, leaseSeconds: 0, expiresAt: epoch, host: 'unknown', pid: 0 };
}

function checkLeaseSeconds(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_LEASE_SECONDS) {
    throw new InputError('leaseSeconds', `must be a whole number of seconds from 1 to ${MAX_LEASE_SECONDS} (got ${value})`);
  }
  return value;
}

function lockBody(record: LockRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/**
 * Takes the cluster lock, or throws ConflictError `LockHeld` (exit 3) naming
 * the holder, since when, until when, and how to break it if it is stale.
 * With `breakExpiredLock`, a lock whose lease has expired is taken over
 * (conditionally: of concurrent breakers exactly one wins); a live lock is
 * never broken.
 */
export async function acquireLock(aws: LedgerAws, ledger: LedgerRef, cluster: string, options: AcquireLockOptions): Promise<HeldLock> {
  const clock = options.clock ?? (() => new Date());
  const log = options.log ?? silentLogger;
  const leaseSeconds = checkLeaseSeconds(options.leaseSeconds ?? DEFAULT_LEASE_SECONDS);
  if (typeof options.owner !== 'string' || options.owner.trim() === '') throw new InputError('owner', 'is required: a build URL or user@host');
  if (typeof options.deploymentId !== 'string' || options.deploymentId === '') throw new InputError('deploymentId', 'is required');
  const owner = withoutUrlCredentials(options.owner);
  const key = lockKey(ledger, cluster);
  const newRecord = (brokeExpiredLockOf?: LockRecord['brokeExpiredLockOf']): LockRecord => {
    const now = clock();
    return {
      owner,
      deploymentId: options.deploymentId,
      acquiredAt: now.toISOString(),
      renewedAt: now.toISOString(),
      leaseSeconds,
      expiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
      host: hostname(),
      pid: process.pid,
      ...(brokeExpiredLockOf ? { brokeExpiredLockOf } : {}),
    };
  };

  // A few rounds: the lock may be released or broken between our write and our read.
  for (let round = 1; round <= 5; round += 1) {
    const record = newRecord();
    try {
      const put = await aws.s3.send(
        new PutObjectCommand({ Bucket: ledger.bucket, Key: key, Body: lockBody(record), ContentType: 'application/json', IfNoneMatch: '*' }),
      );
      log.info(`locked cluster ${cluster} for deployment ${record.deploymentId} (lease ${leaseSeconds}s, ${ledgerUrl(ledger, key)})`);
      return new S3HeldLock(aws, ledger, cluster, key, record, put.ETag ?? '', clock, log);
    } catch (error) {
      if (!isConditionFailed(error)) throw ledgerS3Error(error, ledger, 'creating the lock in');
    }
    const current = await readLock(aws, ledger, cluster, { clock });
    if (!current) continue; // released meanwhile: try again
    if (!current.expired || !options.breakExpiredLock) throw lockHeldError(current, clock());
    const record2 = newRecord({ owner: current.owner, deploymentId: current.deploymentId, expiresAt: current.expiresAt });
    try {
      const put = await aws.s3.send(
        new PutObjectCommand({ Bucket: ledger.bucket, Key: key, Body: lockBody(record2), ContentType: 'application/json', IfMatch: current.etag }),
      );
      log.warn(
        `broke the expired lock of cluster ${cluster} held by ${current.owner} (deployment ${current.deploymentId}, lease expired at ${current.expiresAt}); ` +
          `locked for deployment ${record2.deploymentId}`,
      );
      return new S3HeldLock(aws, ledger, cluster, key, record2, put.ETag ?? '', clock, log);
    } catch (error) {
      // Another breaker won, or the holder renewed or released: look again.
      if (!isConditionFailed(error) && !isNoSuchKey(error)) throw ledgerS3Error(error, ledger, 'breaking the lock in');
    }
  }
  const current = await readLock(aws, ledger, cluster, { clock });
  if (current) throw lockHeldError(current, clock());
  throw new ConflictError('LockContended', `cluster ${cluster}: the lock kept changing hands while we tried to take it; try again`, { cluster });
}

/** The error for a lock held by someone else: who, since when, and what to do. */
export function lockHeldError(lock: LockStatus, now: Date = new Date()): ConflictError {
  const since = `since ${lock.acquiredAt} (${ago(now.getTime() - Date.parse(lock.acquiredAt))})`;
  const holder = `${lock.owner} (deployment ${lock.deploymentId}, host ${lock.host})`;
  const lease = lock.expired
    ? `its lease expired at ${lock.expiresAt} (${ago(now.getTime() - Date.parse(lock.expiresAt))}), so that run probably died`
    : `its lease runs until ${lock.expiresAt} (renewed ${lock.renewedAt})`;
  const recovery = lock.expired
    ? `if that run is really gone, run again with breakExpiredLock: true to take the lock over (it stays safe if two runs try)`
    : `wait for that run to finish; a lock whose lease has expired can be taken over with breakExpiredLock: true, a live one is never broken`;
  return new ConflictError('LockHeld', `cluster ${lock.cluster} is locked by ${holder} ${since}; ${lease}. To go on: ${recovery}`, {
    cluster: lock.cluster,
    holder: { owner: lock.owner, deploymentId: lock.deploymentId, acquiredAt: lock.acquiredAt, expiresAt: lock.expiresAt, host: lock.host },
    expired: lock.expired,
    lock: lock.url,
    recovery,
  });
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

class S3HeldLock implements HeldLock {
  constructor(
    private readonly aws: LedgerAws,
    readonly ledger: LedgerRef,
    readonly cluster: string,
    readonly key: string,
    private current: LockRecord,
    private currentEtag: string,
    private readonly clock: () => Date,
    private readonly log: Logger,
  ) {}

  get record(): LockRecord {
    return this.current;
  }

  get etag(): string {
    return this.currentEtag;
  }

  async renew(): Promise<LockRecord> {
    const now = this.clock();
    const next: LockRecord = {
      ...this.current,
      renewedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.current.leaseSeconds * 1000).toISOString(),
    };
    try {
      const put = await this.aws.s3.send(
        new PutObjectCommand({ Bucket: this.ledger.bucket, Key: this.key, Body: lockBody(next), ContentType: 'application/json', IfMatch: this.currentEtag }),
      );
      this.current = next;
      this.currentEtag = put.ETag ?? '';
      this.log.debug(`renewed the lock of cluster ${this.cluster} until ${next.expiresAt}`);
      return next;
    } catch (error) {
      if (isConditionFailed(error) || isNoSuchKey(error)) throw await this.lostError();
      throw ledgerS3Error(error, this.ledger, 'renewing the lock in');
    }
  }

  async release(): Promise<boolean> {
    return releaseLock(this.aws, this.ledger, this.cluster, this.currentEtag, this.log);
  }

  private async lostError(): Promise<ConflictError> {
    const now = await readLock(this.aws, this.ledger, this.cluster, { clock: this.clock }).catch(() => null);
    const by = now ? `it is now held by ${now.owner} (deployment ${now.deploymentId}) since ${now.acquiredAt}` : 'it was deleted';
    return new ConflictError('LockLost', `lost the lock of cluster ${this.cluster} (deployment ${this.current.deploymentId}): ${by}`, {
      cluster: this.cluster,
      lock: ledgerUrl(this.ledger, this.key),
    });
  }
}

/**
 * Deletes a cluster's lock only if its ETag is still `etag` (ours); true when
 * deleted. Someone else's lock (or none) is left alone and false returned.
 */
export async function releaseLock(aws: LedgerAws, ledger: LedgerRef, cluster: string, etag: string, log: Logger = silentLogger): Promise<boolean> {
  const key = lockKey(ledger, cluster);
  try {
    // Look first: a store that ignored If-Match on DELETE would still not delete a lock that is visibly not ours.
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: ledger.bucket, Key: key }));
    if (head.ETag !== etag) {
      log.warn(`did not release the lock of cluster ${cluster}: it is no longer ours (taken over by another run)`);
      return false;
    }
    await aws.s3.send(new DeleteObjectCommand({ Bucket: ledger.bucket, Key: key, IfMatch: etag }));
    log.info(`released the lock of cluster ${cluster}`);
    return true;
  } catch (error) {
    if (isNoSuchKey(error)) {
      log.warn(`did not release the lock of cluster ${cluster}: it was already gone`);
      return false;
    }
    if (isConditionFailed(error)) {
      log.warn(`did not release the lock of cluster ${cluster}: it is no longer ours (taken over by another run)`);
      return false;
    }
    throw ledgerS3Error(error, ledger, 'releasing the lock in');
  }
}

/**
 * Resumes a lock held under `deploymentId` (a restarted or recovering run),
 * or null when the cluster's lock is not held by that deployment.
 */
export async function adoptLock(
  aws: LedgerAws,
  ledger: LedgerRef,
  cluster: string,
  deploymentId: string,
  options: { clock?: () => Date; log?: Logger } = {},
): Promise<HeldLock | null> {
  const clock = options.clock ?? (() => new Date());
  const current = await readLock(aws, ledger, cluster, { clock });
  if (!current || current.deploymentId !== deploymentId) return null;
  const { cluster: _cluster, url: _url, etag, expired: _expired, ...record } = current;
  return new S3HeldLock(aws, ledger, cluster, lockKey(ledger, cluster), record, etag, clock, options.log ?? silentLogger);
}

/** The lock as stages report it: without the ETag, which only matters to conditional writes. */
export function publicLockStatus(lock: LockStatus | null): Omit<LockStatus, 'etag'> | null {
  if (!lock) return null;
  const { etag: _etag, ...rest } = lock;
  return rest;
}
