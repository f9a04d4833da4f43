import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AwsClients } from '../aws/clients';
import { InputError } from '../core/errors';
import { silentLogger, type Logger } from '../core/log';
import { recordsKeyPrefix, type LedgerRef } from './ledger-ref';
import { isConditionFailed, isNoSuchKey } from '../aws/errors';
import { ledgerS3Error } from './s3-errors';
import {
  looksLikeRecord,
  prepareRecord,
  type LedgerRecord,
  type NewDeploymentRecord,
  type RecordKind,
  type RecordResult,
} from './record';

/**
 * The deployment ledger: append-only, one S3 object per record, so concurrent
 * writers never lose each other's records (no read-modify-write anywhere).
 *
 * Key layout, under `{prefix}/{cluster}/records/`:
 *
 *     <13-digit inverted epoch ms>-<deploymentId>-<6 hex nonce>.json
 *
 * The inverted time (9999999999999 − ms) makes S3's ascending key order
 * newest first, so "the last N" is one ListObjectsV2 call of N keys plus N
 * GETs, whatever the history length. Each object is created with
 * `If-None-Match: *`: a record is never overwritten.
 */

/** The S3 side of the AWS clients: all the ledger needs. */
export interface LedgerAws {
  s3: S3Client;
}

const MAX_EPOCH_MS = 9_999_999_999_999;
const RECORD_NAME = /^(\d{13})-(.+)-([0-9a-f]{6})\.json$/;
/** S3's own maximum for one ListObjectsV2 page. */
export const MAX_PAGE_SIZE = 1000;
/** Record bodies fetched at once. */
const FETCH_CONCURRENCY = 16;

/** What a record key says without reading the object. */
export interface RecordKeyInfo {
  key: string;
  recordedAtMs: number;
  deploymentId: string;
}

/** The key for a record appended at `recordedAtMs`. */
export function recordKey(
  ledger: LedgerRef,
  cluster: string,
  recordedAtMs: number,
  deploymentId: string,
  nonce = randomBytes(3).toString('hex'),
): string {
  const inverted = String(MAX_EPOCH_MS - recordedAtMs).padStart(13, '0');
  return `${recordsKeyPrefix(ledger, cluster)}${inverted}-${deploymentId}-${nonce}.json`;
}

/** Parses a record key (full key or name), or undefined when it is not one. */
export function parseRecordKey(key: string): RecordKeyInfo | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const match = RECORD_NAME.exec(name);
  if (!match) return undefined;
  return { key, recordedAtMs: MAX_EPOCH_MS - Number(match[1]), deploymentId: match[2] as string };
}

let lastRecordedMs = 0;

/** Now in ms, strictly increasing within this process, so one run's records keep their order. */
function monotonicNow(clock: () => Date): number {
  const now = Math.max(clock().getTime(), lastRecordedMs + 1);
  lastRecordedMs = now;
  return now;
}

/** Options of {@link appendRecord}. */
export interface AppendOptions {
  /** Clock for `recordedAt` (tests). */
  clock?: () => Date;
  log?: Logger;
}

/**
 * Appends one record (a new S3 object; never overwrites). `recordedAt` is set
 * to now unless given. Returns the stored record with its key. Throws
 * InputError on a malformed record or a missing bucket (`ledger.bucket`).
 */
export async function appendRecord(
  aws: LedgerAws,
  ledger: LedgerRef,
  record: NewDeploymentRecord,
  options: AppendOptions = {},
): Promise<LedgerRecord> {
  const clock = options.clock ?? (() => new Date());
  const recordedAtMs = record.recordedAt !== undefined ? Date.parse(record.recordedAt) : monotonicNow(clock);
  if (!Number.isFinite(recordedAtMs))
    throw new InputError('record.recordedAt', `must be an ISO-8601 time (got ${JSON.stringify(record.recordedAt)})`);
  const stored = prepareRecord(record, new Date(recordedAtMs).toISOString());
  const body = `${JSON.stringify(stored, null, 2)}\n`;
  for (let attempt = 1; ; attempt += 1) {
    const key = recordKey(ledger, stored.cluster, recordedAtMs, stored.deploymentId);
    try {
      await aws.s3.send(
        new PutObjectCommand({
          Bucket: ledger.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
      options.log?.debug(
        `recorded ${stored.kind} ${stored.result} of ${stored.deploymentId} at s3://${ledger.bucket}/${key}`,
      );
      return { ...stored, key };
    } catch (error) {
      // Same key taken (a 1-in-16M nonce clash within the same ms): pick another nonce.
      if (isConditionFailed(error) && attempt < 5) continue;
      throw ledgerS3Error(error, ledger, 'appending a record to');
    }
  }
}

/** Options of {@link scanRecords}. */
export interface ScanOptions {
  /** Keys per ListObjectsV2 call, 1–1000 (default 1000). */
  pageSize?: number;
  /** Stop after listing this many keys (default 10 000): scans stay bounded. */
  maxKeys?: number;
  /** Stop after yielding this many records; pages and reads are sized so no more is read than needed. */
  limit?: number;
  /** Skip keys before reading their objects (e.g. by deployment id). */
  keyFilter?: (info: RecordKeyInfo) => boolean;
  log?: Logger;
}

/**
 * Reads a cluster's records newest first, page by page, fetching bodies a few
 * at a time, so a caller that stops early reads little. Objects that are not
 * records (foreign files, unreadable JSON) are skipped with a warning.
 */
export async function* scanRecords(
  aws: LedgerAws,
  ledger: LedgerRef,
  cluster: string,
  options: ScanOptions = {},
): AsyncGenerator<LedgerRecord> {
  const pageSize = Math.min(Math.max(1, Math.floor(options.pageSize ?? MAX_PAGE_SIZE)), MAX_PAGE_SIZE);
  const maxKeys = options.maxKeys ?? 10_000;
  const log = options.log ?? silentLogger;
  const prefix = recordsKeyPrefix(ledger, cluster);
  let continuationToken: string | undefined;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let listed = 0;
  let yielded = 0;
  do {
    // Without a key filter every key is (normally) a record: list no more keys than records still wanted.
    const stillWanted = options.keyFilter ? pageSize : limit - yielded;
    const wanted = Math.min(pageSize, maxKeys - listed, stillWanted);
    if (wanted <= 0) {
      log.debug(`stopped reading ${cluster}'s records after ${listed} keys (maxKeys)`);
      return;
    }
    let page;
    try {
      page = await aws.s3.send(
        new ListObjectsV2Command({
          Bucket: ledger.bucket,
          Prefix: prefix,
          MaxKeys: wanted,
          ContinuationToken: continuationToken,
        }),
      );
    } catch (error) {
      throw ledgerS3Error(error, ledger, 'listing records in');
    }
    const infos: RecordKeyInfo[] = [];
    for (const object of page.Contents ?? []) {
      if (!object.Key) continue;
      listed += 1;
      const info = parseRecordKey(object.Key);
      if (!info) log.debug(`skipping s3://${ledger.bucket}/${object.Key}: not a record key`);
      else if (!options.keyFilter || options.keyFilter(info)) infos.push(info);
    }
    for (let i = 0; i < infos.length;) {
      const size = Math.min(FETCH_CONCURRENCY, limit - yielded);
      if (size <= 0) return;
      const batch = await Promise.all(infos.slice(i, i + size).map((info) => readRecord(aws, ledger, info.key, log)));
      i += size;
      for (const record of batch) {
        if (!record) continue;
        yield record;
        yielded += 1;
      }
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken && yielded < limit);
}

/** Reads one record object; undefined when it vanished or is not a record. */
async function readRecord(
  aws: LedgerAws,
  ledger: LedgerRef,
  key: string,
  log: Logger,
): Promise<LedgerRecord | undefined> {
  let text: string;
  try {
    const response = await aws.s3.send(new GetObjectCommand({ Bucket: ledger.bucket, Key: key }));
    text = (await response.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if (isNoSuchKey(error)) return undefined; // expired by a lifecycle rule between list and get
    throw ledgerS3Error(error, ledger, 'reading a record from');
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (looksLikeRecord(parsed)) return { ...parsed, key };
  } catch {
    // reported below
  }
  log.warn(`skipping s3://${ledger.bucket}/${key}: not a ledger record`);
  return undefined;
}

/** Options of {@link listRecords}. */
export interface ListOptions {
  /** How many records, newest first (default 10). */
  limit?: number;
  /** Keys per ListObjectsV2 call (default: as many as needed, at most 1000). */
  pageSize?: number;
  log?: Logger;
}

/** The last `limit` records of a cluster, newest first (by append time). */
export async function listRecords(
  aws: LedgerAws,
  ledger: LedgerRef,
  cluster: string,
  options: ListOptions = {},
): Promise<LedgerRecord[]> {
  const limit = options.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1)
    throw new InputError('limit', `must be a whole number of at least 1 (got ${limit})`);
  const records: LedgerRecord[] = [];
  // Unreadable objects are skipped, so list a little beyond `limit` when needed (bounded by maxKeys).
  for await (const record of scanRecords(aws, ledger, cluster, {
    pageSize: options.pageSize,
    maxKeys: limit + 1000,
    limit,
    log: options.log,
  })) {
    records.push(record);
  }
  return records;
}

/** The newest record of one deployment (its current state), or null. */
export async function latestRecordFor(
  aws: LedgerAws,
  ledger: LedgerRef,
  cluster: string,
  deploymentId: string,
  options: Pick<ScanOptions, 'maxKeys' | 'log'> = {},
): Promise<LedgerRecord | null> {
  for await (const record of scanRecords(aws, ledger, cluster, {
    ...options,
    limit: 1,
    keyFilter: (info) => info.deploymentId === deploymentId,
  })) {
    return record;
  }
  return null;
}

/** What to look for with {@link findDeployment}; every given criterion must match. */
export interface DeploymentQuery {
  deploymentId?: string;
  version?: string;
  amiId?: string;
  serverGroup?: string;
  /** Results that count (default `succeeded`); `'any'` for every record. */
  result?: RecordResult | readonly RecordResult[] | 'any';
  /** Kinds that count (default deploy and rollback: the runs that put a server group in service). */
  kind?: RecordKind | readonly RecordKind[] | 'any';
}

/**
 * The newest record matching `query`, or null: e.g. the AMI and launch
 * settings recorded for server group `web-prod-v007`, or for version `1.4.2`,
 * to redeploy them. Server group names repeat (numbers wrap at 1000), so the
 * newest match is the one that counts. Scans at most `maxKeys` records
 * (default 2000).
 */
export async function findDeployment(
  aws: LedgerAws,
  ledger: LedgerRef,
  cluster: string,
  query: DeploymentQuery,
  options: Pick<ScanOptions, 'maxKeys' | 'log'> = {},
): Promise<LedgerRecord | null> {
  const { deploymentId, version, amiId, serverGroup } = query;
  if ([deploymentId, version, amiId, serverGroup].every((value) => value === undefined)) {
    throw new InputError('query', 'give at least one of deploymentId, version, amiId, serverGroup');
  }
  const results = query.result === 'any' ? undefined : toList(query.result ?? 'succeeded');
  const kinds = query.kind === 'any' ? undefined : toList(query.kind ?? ['deploy', 'rollback']);
  const scan = scanRecords(aws, ledger, cluster, {
    maxKeys: options.maxKeys ?? 2000,
    log: options.log,
    keyFilter: deploymentId === undefined ? undefined : (info) => info.deploymentId === deploymentId,
  });
  for await (const record of scan) {
    if (version !== undefined && record.version !== version) continue;
    if (amiId !== undefined && record.amiId !== amiId) continue;
    if (serverGroup !== undefined && record.serverGroup !== serverGroup) continue;
    if (results && !results.includes(record.result)) continue;
    if (kinds && !kinds.includes(record.kind)) continue;
    return record;
  }
  return null;
}

function toList<T extends string>(value: T | readonly T[]): readonly T[] {
  return typeof value === 'string' ? [value] : value;
}

/** The newest record of each deployment in `records` (newest first in, newest first out). */
export function latestPerDeployment(records: readonly LedgerRecord[]): LedgerRecord[] {
  const seen = new Set<string>();
  return records.filter((record) => !seen.has(record.deploymentId) && seen.add(record.deploymentId) !== undefined);
}

/**
 * The S3 client for a ledger, from the caller's clients (same endpoint,
 * credentials, retry and timeouts): in the ledger's own region when it names
 * one, else the cluster's; with the ledger's own role when it names one
 * (e.g. a tools account's). Never from the environment.
 */
export function ledgerAws(ledger: LedgerRef, clusterAws: AwsClients): LedgerAws {
  const regional =
    ledger.region && ledger.region !== clusterAws.region ? clusterAws.forRegion(ledger.region) : clusterAws;
  return ledger.roleArn ? regional.asRole({ roleArn: ledger.roleArn }) : regional;
}
