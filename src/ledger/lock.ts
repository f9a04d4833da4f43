// Longer than most files on purpose: the lock protocol (acquire, renew, release, break, owner tokens,
// S3's clock against the monotonic one) has invariants that only hold when read together.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BluegreenError, ConflictError, InputError, OperationFailedError } from '../core/errors';
import { silentLogger, type Logger } from '../core/log';
import type { LedgerAws } from './ledger';
import { ledgerUrl, lockKey, lockLabel, type LedgerRef } from './ledger-ref';
import { redact } from '../core/redact';
import { isConditionFailed, isNoSuchKey } from '../aws/errors';
import { ledgerS3Error } from './s3-errors';

/**
 * The cluster lock: one S3 object per cluster and region,
 * `{prefix}/{cluster}/locks/{region}.json` (or the cluster's own `lock.json`,
 * a rollout's, without a region; see ledger-ref.ts `lockKey`),
 * created with `If-None-Match: *` (only one creator wins), renewed and
 * released with `If-Match: <our ETag>` (never someone else's lock). A lock
 * whose lease has expired is broken only when asked to, with `If-Match` on
 * the stale ETag, so of two breakers exactly one wins.
 *
 * Time: whether someone else's lease has expired is judged on S3's clock
 * (the object's LastModified plus its lease, against the response's Date),
 * never on the reader's or the writer's wall clock, so agents whose clocks
 * differ cannot take a live lock. Whether our own lease still holds is judged
 * on this process's monotonic clock: from the moment the last successful
 * write was sent, less a safety margin (S3 timestamps have 1 s resolution).
 * A conditional write whose answer was lost and whose SDK retry got 412 is
 * resolved by reading the lock's owner token: ours means the write landed.
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
  /** Random token of this holding (one per acquisition): tells our own write from another run's. */
  token?: string;
}

/** The lock as `readLock` sees it. */
export interface LockStatus extends LockRecord {
  cluster: string;
  /** The region whose lock this is (absent: the whole cluster's). */
  region?: string;
  /** `s3://bucket/key` of the lock object. */
  url: string;
  /** ETag of the lock object (what a conditional write must match). */
  etag: string;
  /** When the lease ends on S3's clock: last write (LastModified) plus the lease. */
  leaseEndsAt: string;
  /** True when the lease has ended on S3's clock: the holder stopped renewing. */
  expired: boolean;
}

/**
 * Default lease, 120 s, renewed every sixth of it (20 s): five renewals in a
 * row may fail (an S3 blip of about 100 s, each call bounded in time) before
 * the run must stop, while a run that died holds the cluster for only two
 * minutes. The one default: stages take it from here.
 */
export const DEFAULT_LEASE_SECONDS = 120;
/** Renewals per lease (see {@link DEFAULT_LEASE_SECONDS}). */
export const RENEWALS_PER_LEASE = 6;
/**
 * Our lease is counted as over this long before it ends. S3's LastModified
 * and Date are whole seconds, so another reader may see our lease end up to
 * 1 s early; the rest is headroom.
 */
export function leaseSafetyMarginMs(leaseSeconds: number): number {
  return Math.max(1_500, leaseSeconds * 100);
}
const MAX_LEASE_SECONDS = 7 * 24 * 3600;

/** Options of {@link acquireLock}. */
export interface AcquireLockOptions {
  /** The region of the cluster to lock (each region its own lock); absent: the whole cluster. */
  region?: string;
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
  /** The region locked (absent: the whole cluster). */
  readonly region: string | undefined;
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
  /**
   * Throws unless the lock is provably still ours: `LockLost` (exit 3) when
   * another run took it, `LockLeaseExpired` (exit 1) when no renewal has
   * succeeded for a lease (on the monotonic clock). `action` names what was refused.
   */
  assertHeld(action: string): void;
  /** Milliseconds the lease is still proven for (≤ 0: not any more). */
  provenForMs(): number;
  /** The error that ended our holding, if it ended. */
  readonly lost: BluegreenError | undefined;
}

/** Bound on one lock call (S3 may hang): as long as waiting can still help, at least 2 s; a renewal that fails is retried at the next tick. */
function lockCallSignal(boundMs: number): AbortSignal {
  return AbortSignal.timeout(Math.round(Math.max(2_000, boundMs)));
}

/** The response's `Date` header (S3's clock), via a middleware on one command. */
function captureServerDate(command: {
  middlewareStack: { add: (m: never, o: { step: 'deserialize'; name: string }) => void };
}): () => number | undefined {
  let serverMs: number | undefined;
  const middleware =
    (next: (args: unknown) => Promise<{ response?: { headers?: Record<string, string> } }>) =>
    async (args: unknown) => {
      const result = await next(args);
      const date = Date.parse(result.response?.headers?.date ?? '');
      if (Number.isFinite(date)) serverMs = date;
      return result;
    };
  command.middlewareStack.add(middleware as never, { step: 'deserialize', name: 'bluegreenServerDate' });
  return () => serverMs;
}

/**
 * Reads the lock of a cluster: the holder, or null when free. `expired` is
 * judged on S3's clock; `clock` (tests) only matters when S3 sends no Date.
 */
export async function readLock(
  aws: LedgerAws,
  ledger: LedgerRef,
  cluster: string,
  options: { clock?: () => Date; region?: string } = {},
): Promise<LockStatus | null> {
  const key = lockKey(ledger, cluster, options.region);
  let text: string;
  let etag: string;
  let lastModifiedMs: number;
  let serverNowMs: number;
  try {
    const command = new GetObjectCommand({ Bucket: ledger.bucket, Key: key });
    const serverDate = captureServerDate(command);
    const response = await aws.s3.send(command);
    text = (await response.Body?.transformToString('utf8')) ?? '';
    etag = response.ETag ?? '';
    serverNowMs = serverDate() ?? (options.clock ?? (() => new Date()))().getTime();
    lastModifiedMs = response.LastModified?.getTime() ?? serverNowMs;
  } catch (error) {
    if (isNoSuchKey(error)) return null;
    throw ledgerS3Error(error, ledger, 'reading the lock in');
  }
  const record = parseLockRecord(text);
  const leaseEndsMs = lastModifiedMs + record.leaseSeconds * 1000;
  return {
    ...record,
    cluster,
    ...(options.region !== undefined ? { region: options.region } : {}),
    url: ledgerUrl(ledger, key),
    etag,
    leaseEndsAt: new Date(leaseEndsMs).toISOString(),
    expired: serverNowMs >= leaseEndsMs,
  };
}

/** A lock body we cannot read counts as expired at the epoch, so it can be broken (explicitly). */
function parseLockRecord(text: string): LockRecord {
  try {
    const parsed = JSON.parse(text) as Partial<LockRecord>;
    if (
      typeof parsed.owner === 'string' &&
      typeof parsed.expiresAt === 'string' &&
      Number.isFinite(Date.parse(parsed.expiresAt))
    ) {
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
        ...(typeof parsed.token === 'string' ? { token: parsed.token } : {}),
      };
    }
  } catch {
    // falls through
  }
  const epoch = new Date(0).toISOString();
  return {
    owner: 'unreadable lock object',
    deploymentId: 'unknown',
    acquiredAt: epoch,
    renewedAt: epoch,
    leaseSeconds: 0,
    expiresAt: epoch,
    host: 'unknown',
    pid: 0,
  };
}

function checkLeaseSeconds(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_LEASE_SECONDS) {
    throw new InputError(
      'leaseSeconds',
      `must be a whole number of seconds from 1 to ${MAX_LEASE_SECONDS} (got ${value})`,
    );
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
export async function acquireLock(
  aws: LedgerAws,
  ledger: LedgerRef,
  cluster: string,
  options: AcquireLockOptions,
): Promise<HeldLock> {
  const clock = options.clock ?? (() => new Date());
  const log = options.log ?? silentLogger;
  const leaseSeconds = checkLeaseSeconds(options.leaseSeconds ?? DEFAULT_LEASE_SECONDS);
  if (typeof options.owner !== 'string' || options.owner.trim() === '')
    throw new InputError('owner', 'is required: a build URL or user@host');
  if (typeof options.deploymentId !== 'string' || options.deploymentId === '')
    throw new InputError('deploymentId', 'is required');
  const owner = redact(options.owner);
  const { region } = options;
  const key = lockKey(ledger, cluster, region);
  const label = lockLabel(cluster, region);
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
      token: randomBytes(12).toString('hex'),
    };
  };
  const held = (record: LockRecord, etag: string, sentAt: number) =>
    new S3HeldLock(aws, ledger, cluster, region, key, record, etag, sentAt, clock, log);

  // A few rounds: the lock may be released or broken between our write and our read.
  for (let round = 1; round <= 5; round += 1) {
    const record = newRecord();
    const sentAt = performance.now();
    try {
      const put = await aws.s3.send(
        new PutObjectCommand({
          Bucket: ledger.bucket,
          Key: key,
          Body: lockBody(record),
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
        { abortSignal: lockCallSignal(leaseSeconds * 500) },
      );
      log.info(
        `locked cluster ${label} for deployment ${record.deploymentId} (lease ${leaseSeconds}s, ${ledgerUrl(ledger, key)})`,
      );
      return held(record, put.ETag ?? '', sentAt);
    } catch (error) {
      if (!isConditionFailed(error)) throw ledgerS3Error(error, ledger, 'creating the lock in');
    }
    const current = await readLock(aws, ledger, cluster, { clock, region });
    if (!current) continue; // released meanwhile: try again
    // Our write landed but its answer was lost, and the SDK's retry found our own lock.
    if (current.token === record.token) return held(storedRecord(current), current.etag, sentAt);
    if (!current.expired || !options.breakExpiredLock) throw lockHeldError(current, clock());
    const record2 = newRecord({
      owner: current.owner,
      deploymentId: current.deploymentId,
      expiresAt: current.leaseEndsAt,
    });
    const sentAt2 = performance.now();
    try {
      const put = await aws.s3.send(
        new PutObjectCommand({
          Bucket: ledger.bucket,
          Key: key,
          Body: lockBody(record2),
          ContentType: 'application/json',
          IfMatch: current.etag,
        }),
        { abortSignal: lockCallSignal(leaseSeconds * 500) },
      );
      log.warn(
        `broke the expired lock of cluster ${label} held by ${current.owner} (deployment ${current.deploymentId}, lease ended at ${current.leaseEndsAt} by S3's clock); ` +
          `locked for deployment ${record2.deploymentId}`,
      );
      return held(record2, put.ETag ?? '', sentAt2);
    } catch (error) {
      // Another breaker won, or the holder renewed or released: look again.
      if (!isConditionFailed(error) && !isNoSuchKey(error)) throw ledgerS3Error(error, ledger, 'breaking the lock in');
      const after = await readLock(aws, ledger, cluster, { clock, region });
      if (after && after.token === record2.token) return held(storedRecord(after), after.etag, sentAt2);
    }
  }
  const current = await readLock(aws, ledger, cluster, { clock, region });
  if (current) throw lockHeldError(current, clock());
  throw new ConflictError(
    'LockContended',
    `cluster ${label}: the lock kept changing hands while we tried to take it; try again`,
    { cluster, ...(region !== undefined ? { region } : {}) },
  );
}

/** The lock body of a status (without what `readLock` adds). */
function storedRecord(status: LockStatus): LockRecord {
  const {
    cluster: _cluster,
    region: _region,
    url: _url,
    etag: _etag,
    expired: _expired,
    leaseEndsAt: _leaseEndsAt,
    ...record
  } = status;
  return record;
}

/** The error for a lock held by someone else: who, since when, and what to do. */
export function lockHeldError(lock: LockStatus, now: Date = new Date()): ConflictError {
  const since = `since ${lock.acquiredAt} (${ago(now.getTime() - Date.parse(lock.acquiredAt))})`;
  const holder = `${lock.owner} (deployment ${lock.deploymentId}, host ${lock.host})`;
  const lease = lock.expired
    ? `its lease expired at ${lock.leaseEndsAt} (${ago(now.getTime() - Date.parse(lock.leaseEndsAt))}, by S3's clock), so that run probably died`
    : `its lease runs until ${lock.leaseEndsAt} (by S3's clock; renewed ${lock.renewedAt})`;
  const recovery = lock.expired
    ? `if that run is really gone, run again with breakExpiredLock: true to take the lock over (it stays safe if two runs try)`
    : `wait for that run to finish; a lock whose lease has expired can be taken over with breakExpiredLock: true, a live one is never broken`;
  return new ConflictError(
    'LockHeld',
    `cluster ${lockLabel(lock.cluster, lock.region)} is locked by ${holder} ${since}; ${lease}. To go on: ${recovery}`,
    {
      cluster: lock.cluster,
      ...(lock.region !== undefined ? { region: lock.region } : {}),
      holder: {
        owner: lock.owner,
        deploymentId: lock.deploymentId,
        acquiredAt: lock.acquiredAt,
        expiresAt: lock.leaseEndsAt,
        host: lock.host,
      },
      expired: lock.expired,
      lock: lock.url,
      recovery,
    },
  );
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

class S3HeldLock implements HeldLock {
  /** Monotonic time (performance.now) when the lease we last wrote was sent: it ran from no earlier than that. */
  private leaseFrom: number;
  private lostError: BluegreenError | undefined;

  /** How messages name what this lock guards. */
  private get label(): string {
    return lockLabel(this.cluster, this.region);
  }

  constructor(
    private readonly aws: LedgerAws,
    readonly ledger: LedgerRef,
    readonly cluster: string,
    readonly region: string | undefined,
    readonly key: string,
    private current: LockRecord,
    private currentEtag: string,
    sentAt: number,
    private readonly clock: () => Date,
    private readonly log: Logger,
  ) {
    this.leaseFrom = sentAt;
  }

  get record(): LockRecord {
    return this.current;
  }

  get etag(): string {
    return this.currentEtag;
  }

  get lost(): BluegreenError | undefined {
    return this.lostError;
  }

  provenForMs(): number {
    if (this.lostError) return 0;
    return (
      this.leaseFrom +
      this.current.leaseSeconds * 1000 -
      leaseSafetyMarginMs(this.current.leaseSeconds) -
      performance.now()
    );
  }

  assertHeld(action: string): void {
    if (this.lostError) throw this.lostError;
    if (this.provenForMs() > 0) return;
    const since = Math.round((performance.now() - this.leaseFrom) / 1000);
    this.lostError = new OperationFailedError(
      'LockLeaseExpired',
      `refused ${action}: the lock of cluster ${this.label} (deployment ${this.current.deploymentId}) was last renewed ${since}s ago, ` +
        `too long for its ${this.current.leaseSeconds}s lease (S3 did not accept the renewals), so another run may hold it now; this run stops changing the cluster`,
      {
        cluster: this.cluster,
        ...(this.region !== undefined ? { region: this.region } : {}),
        lock: ledgerUrl(this.ledger, this.key),
        refused: action,
        recovery:
          'check that S3 is reachable, then run deploy (or cleanup) again: it settles what this run left, from the tags on the server groups; ' +
          'if the lock is still there and its lease has ended, add breakExpiredLock: true',
      },
    );
    throw this.lostError;
  }

  async renew(): Promise<LockRecord> {
    if (this.lostError) throw this.lostError;
    const now = this.clock();
    const next: LockRecord = {
      ...this.current,
      renewedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.current.leaseSeconds * 1000).toISOString(),
    };
    const sentAt = performance.now();
    try {
      const put = await this.aws.s3.send(
        new PutObjectCommand({
          Bucket: this.ledger.bucket,
          Key: this.key,
          Body: lockBody(next),
          ContentType: 'application/json',
          IfMatch: this.currentEtag,
        }),
        { abortSignal: lockCallSignal(this.provenForMs()) },
      );
      return this.renewed(next, put.ETag ?? '', sentAt);
    } catch (error) {
      if (!isConditionFailed(error) && !isNoSuchKey(error))
        throw ledgerS3Error(error, this.ledger, 'renewing the lock in');
    }
    // 412: someone else's lock now — or our own renewal landed, its answer was lost, and the SDK's retry found it.
    const seen = await readLock(this.aws, this.ledger, this.cluster, { clock: this.clock, region: this.region });
    if (seen && seen.token !== undefined && seen.token === this.current.token) {
      this.log.debug(`the lock of cluster ${this.label} is still ours (a renewal landed although its answer was lost)`);
      return this.renewed(storedRecord(seen), seen.etag, sentAt);
    }
    const by = seen
      ? `it is now held by ${seen.owner} (deployment ${seen.deploymentId}) since ${seen.acquiredAt}`
      : 'it was deleted';
    this.lostError = new ConflictError(
      'LockLost',
      `lost the lock of cluster ${this.label} (deployment ${this.current.deploymentId}): ${by}`,
      {
        cluster: this.cluster,
        ...(this.region !== undefined ? { region: this.region } : {}),
        lock: ledgerUrl(this.ledger, this.key),
        recovery:
          'another run took the cluster over; this run stopped changing it. See the status of the cluster; the run holding the lock settles it',
      },
    );
    throw this.lostError;
  }

  private renewed(record: LockRecord, etag: string, sentAt: number): LockRecord {
    this.current = record;
    this.currentEtag = etag;
    this.leaseFrom = sentAt;
    this.log.debug(`renewed the lock of cluster ${this.label} until ${record.expiresAt}`);
    return record;
  }

  async release(): Promise<boolean> {
    if (await releaseLock(this.aws, this.ledger, this.cluster, this.currentEtag, silentLogger, this.region)) {
      this.log.info(`released the lock of cluster ${this.label}`);
      return true;
    }
    // A renewal whose answer we never got may have landed (new ETag): the token tells whether the lock is still ours.
    const seen = await readLock(this.aws, this.ledger, this.cluster, { clock: this.clock, region: this.region });
    if (seen && seen.token !== undefined && seen.token === this.current.token)
      return releaseLock(this.aws, this.ledger, this.cluster, seen.etag, this.log, this.region);
    this.log.warn(
      `did not release the lock of cluster ${this.label}: ${seen ? 'it is no longer ours (taken over by another run)' : 'it was already gone'}`,
    );
    return false;
  }
}

/**
 * Deletes a cluster's lock only if its ETag is still `etag` (ours); true when
 * deleted. Someone else's lock (or none) is left alone and false returned.
 */
export async function releaseLock(
  aws: LedgerAws,
  ledger: LedgerRef,
  cluster: string,
  etag: string,
  log: Logger = silentLogger,
  region?: string,
): Promise<boolean> {
  const key = lockKey(ledger, cluster, region);
  const label = lockLabel(cluster, region);
  try {
    // Look first: a store that ignored If-Match on DELETE would still not delete a lock that is visibly not ours.
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: ledger.bucket, Key: key }));
    if (head.ETag !== etag) {
      log.warn(`did not release the lock of cluster ${label}: it is no longer ours (taken over by another run)`);
      return false;
    }
    await aws.s3.send(new DeleteObjectCommand({ Bucket: ledger.bucket, Key: key, IfMatch: etag }));
    log.info(`released the lock of cluster ${label}`);
    return true;
  } catch (error) {
    if (isNoSuchKey(error)) {
      log.warn(`did not release the lock of cluster ${label}: it was already gone`);
      return false;
    }
    if (isConditionFailed(error)) {
      log.warn(`did not release the lock of cluster ${label}: it is no longer ours (taken over by another run)`);
      return false;
    }
    throw ledgerS3Error(error, ledger, 'releasing the lock in');
  }
}

/**
 * Resumes a lock held under `deploymentId` (a restarted or recovering run),
 * or null when the cluster's lock is not held by that deployment. Renew it
 * before changing anything: until then `assertHeld` refuses.
 */
export async function adoptLock(
  aws: LedgerAws,
  ledger: LedgerRef,
  cluster: string,
  deploymentId: string,
  options: { clock?: () => Date; log?: Logger; region?: string } = {},
): Promise<HeldLock | null> {
  const clock = options.clock ?? (() => new Date());
  const { region } = options;
  const current = await readLock(aws, ledger, cluster, { clock, region });
  if (!current || current.deploymentId !== deploymentId) return null;
  // We did not write it in this process: the lease is not proven until our first renewal.
  const sentAt = performance.now() - current.leaseSeconds * 1000;
  return new S3HeldLock(
    aws,
    ledger,
    cluster,
    region,
    lockKey(ledger, cluster, region),
    storedRecord(current),
    current.etag,
    sentAt,
    clock,
    options.log ?? silentLogger,
  );
}

/** The lock as stages report it: without the ETag and owner token, which only matter to conditional writes. */
export function publicLockStatus(lock: LockStatus | null): Omit<LockStatus, 'etag' | 'token'> | null {
  if (!lock) return null;
  const { etag: _etag, token: _token, ...rest } = lock;
  return rest;
}
