import type { AwsClients } from '../aws/clients';
import { ConflictError, InputError, OperationFailedError } from '../core/errors';
import type { Logger } from '../core/log';
import { checkArtifactFile, readSmallFile, sha256OfFile, type ArtifactFile } from './artifact-file';
import { objectMetadata, type BuildInfo } from './build-metadata';
import { headExistingObject, holdsSameContent, type ExistingObject } from './existing-object';
import { partSizeFor, uploadInParts } from './multipart';
import { formatBytes, formatRate } from './progress';
import { httpsUrl, s3Url } from '../aws/s3-names';
import { isAbort, isConditionFailed, isNoSuchBucket } from '../aws/errors';
import { putWholeObject } from './single-put';
import type { StoredChecksum, WriteCondition, WrittenObject } from './write-types';

/**
 * Publishing a build artifact to S3, immutably: the same content at the same
 * key is a no-op, different content there is refused unless `overwrite`, and
 * every write is conditional so concurrent publishers cannot both win.
 *
 * How often the file is read: a file up to `multipartThreshold` is read once
 * (into memory, hashed, sent from that buffer). A bigger one is read twice,
 * by necessity: its SHA-256 must be known *before* anything is written —
 * to decide no-op / conflict, and because S3 takes the `sha256` metadata only
 * when the multipart upload is created. The second (upload) pass hashes again
 * and aborts if the bytes differ, so a file rewritten mid-publish is caught.
 *
 * Checksums: the SHA-256 goes to S3 as the object checksum (`ChecksumAlgorithm:
 * SHA256`), which S3 verifies on receipt. A single PutObject gets a FULL_OBJECT
 * checksum (the file's digest). Multipart gets a COMPOSITE one (the digest of
 * the part digests, `…-N`; every part carries and is checked against its own
 * digest): S3 offers FULL_OBJECT multipart checksums only for CRC32, CRC32C and
 * CRC64NVME, not SHA-256. The file's plain SHA-256 is therefore also stored as
 * `sha256` metadata, the value users and the no-op check compare. moto 5.2
 * stores the checksums we send without verifying them, computes the composite
 * itself from the parts, and answers it without the `-N` suffix AWS adds.
 */

/** Sizes that trade memory for speed. */
export interface PublishTuning {
  /** Files bigger than this go multipart (bytes). */
  multipartThreshold: number;
  /** Preferred part size (bytes); grows for files that would need over 10,000 parts. */
  partSize: number;
  /** Parts in flight at once; memory for file data is about `partSize × concurrency`. */
  concurrency: number;
}

const MIB = 1024 * 1024;

/** 16 MiB threshold, 8 MiB parts, 4 in flight: at most 32 MiB of file data in memory. */
export const DEFAULT_PUBLISH_TUNING: PublishTuning = {
  multipartThreshold: 16 * MIB,
  partSize: 8 * MIB,
  concurrency: 4,
};

/** What to publish and where. */
export interface PublishRequest {
  file: string;
  bucket: string;
  key: string;
  region: string;
  /** Replace different content already at the key (default: refuse, exit 3). */
  overwrite: boolean;
  /** Defaults to a guess from the file name. */
  contentType: string;
  build: BuildInfo;
}

/** How to run it. */
export interface PublishOptions {
  log: Logger;
  tuning?: Partial<PublishTuning>;
  /** Cancels the upload (SIGTERM from a Jenkins abort); a multipart upload is aborted. */
  signal?: AbortSignal;
}

/** The stage output (docs/architecture.md, "Stage contract"): where the artifact is and what it is. */
export interface PublishResult {
  /** `s3://bucket/key`: what `bake` takes. */
  artifactUrl: string;
  httpsUrl: string;
  bucket: string;
  key: string;
  region: string;
  /** SHA-256 of the content, hex (also the object's `sha256` metadata). */
  sha256: string;
  size: number;
  /** The object version, or null when the bucket is not versioned. */
  versionId: string | null;
  etag: string;
  contentType: string;
  /** S3's own checksum of the object, when it has a SHA-256 one. */
  s3Checksum: StoredChecksum | null;
  /** True when this run wrote the object. */
  published: boolean;
  /** True when the same content was already there (nothing written). */
  alreadyPublished: boolean;
  /** True when `overwrite` replaced different content. */
  replaced: boolean;
  partCount: number;
  durationSeconds: number;
}

/**
 * Publishes `request.file` to `s3://bucket/key`. Throws {@link InputError}
 * (exit 2) for a bad file or a missing bucket, {@link ConflictError} (exit 3)
 * when different content holds the key, {@link OperationFailedError} (exit 1)
 * when the upload fails or is cancelled (a multipart upload is aborted).
 */
export async function publishArtifact(
  aws: AwsClients,
  request: PublishRequest,
  options: PublishOptions,
): Promise<PublishResult> {
  const { log } = options;
  const tuning = { ...DEFAULT_PUBLISH_TUNING, ...options.tuning };
  const startedAt = Date.now();
  const file = checkArtifactFile('file', request.file);
  const target = s3Url(request.bucket, request.key);
  log.info(`publishing ${file.path} (${formatBytes(file.size)}) to ${target}`);

  const existing = await headExistingObject(aws.s3, request.bucket, request.key, request.region);
  const small = file.size <= tuning.multipartThreshold;
  const content: { sha256: string; size: number; body?: Buffer } = small
    ? await readSmallFile(file.path)
    : await hashBigFile(file, log);
  if (content.size !== file.size) {
    throw new OperationFailedError(
      'FileChanged',
      `${file.path} changed while it was being read (${content.size} bytes, was ${file.size}); nothing was published`,
    );
  }
  const base = { request, file, sha256: content.sha256, startedAt };

  let condition: WriteCondition = { kind: 'absent' };
  if (existing) {
    if (holdsSameContent(existing, content.sha256, file.size)) return alreadyPublished(base, existing, log);
    if (!request.overwrite) throw differentContent(target, existing, content.sha256);
    log.warn(`replacing ${target} (sha256 ${existing.sha256 ?? 'unknown'}) because overwrite is set`);
    condition = { kind: 'replaces', etag: existing.etag };
  }

  const metadata = objectMetadata(content.sha256, request.build);
  let written: WrittenObject;
  try {
    if (content.body) {
      written = await putWholeObject(aws.s3, {
        bucket: request.bucket,
        key: request.key,
        body: content.body,
        sha256Hex: content.sha256,
        metadata,
        contentType: request.contentType,
        condition,
        signal: options.signal,
      });
    } else {
      const partSize = partSizeFor(file.size, tuning.partSize);
      log.info(
        `uploading in ${Math.ceil(file.size / partSize)} parts of ${formatBytes(partSize)}, ${tuning.concurrency} at a time`,
      );
      written = await uploadInParts(aws.s3, {
        bucket: request.bucket,
        key: request.key,
        path: file.path,
        size: file.size,
        sha256Hex: content.sha256,
        metadata,
        contentType: request.contentType,
        condition,
        partSize,
        concurrency: tuning.concurrency,
        log,
        signal: options.signal,
      });
    }
  } catch (error) {
    if (isConditionFailed(error)) return lostTheRace(aws, base, target, log);
    if (isNoSuchBucket(error))
      throw new InputError('bucket', `bucket "${request.bucket}" does not exist (NoSuchBucket) in ${request.region}`);
    if (options.signal?.aborted || isAbort(error)) {
      throw new OperationFailedError('Interrupted', `publishing ${target} was cancelled; nothing was published`);
    }
    throw error;
  }

  const elapsed = Date.now() - startedAt;
  log.info(
    `published ${target}: ${formatBytes(file.size)} in ${(elapsed / 1000).toFixed(1)} s (${formatRate(file.size, elapsed)}), ` +
      `sha256 ${content.sha256}${written.versionId ? `, version ${written.versionId}` : ''}`,
  );
  return {
    ...locate(request),
    sha256: content.sha256,
    size: file.size,
    versionId: written.versionId,
    etag: written.etag,
    contentType: request.contentType,
    s3Checksum: written.checksum,
    published: true,
    alreadyPublished: false,
    replaced: condition.kind === 'replaces',
    partCount: written.partCount,
    durationSeconds: seconds(startedAt),
  };
}

interface ResultBase {
  request: PublishRequest;
  file: ArtifactFile;
  sha256: string;
  startedAt: number;
}

async function hashBigFile(file: ArtifactFile, log: Logger): Promise<{ sha256: string; size: number }> {
  const started = Date.now();
  const { sha256, bytes } = await sha256OfFile(file.path);
  log.info(`sha256 ${sha256} (hashed ${formatBytes(bytes)} at ${formatRate(bytes, Date.now() - started)})`);
  return { sha256, size: bytes };
}

function locate(request: PublishRequest) {
  return {
    artifactUrl: s3Url(request.bucket, request.key),
    httpsUrl: httpsUrl(request.bucket, request.key, request.region),
    bucket: request.bucket,
    key: request.key,
    region: request.region,
  };
}

function seconds(startedAt: number): number {
  return Math.round((Date.now() - startedAt) / 100) / 10;
}

function alreadyPublished(base: ResultBase, existing: ExistingObject, log: Logger): PublishResult {
  const target = s3Url(base.request.bucket, base.request.key);
  log.info(
    `already published: ${target} holds the same content (sha256 ${base.sha256}${existing.versionId ? `, version ${existing.versionId}` : ''}); nothing written`,
  );
  return {
    ...locate(base.request),
    sha256: base.sha256,
    size: base.file.size,
    versionId: existing.versionId,
    etag: existing.etag,
    contentType: base.request.contentType,
    s3Checksum: existingChecksum(existing),
    published: false,
    alreadyPublished: true,
    replaced: false,
    partCount: existingPartCount(existing),
    durationSeconds: seconds(base.startedAt),
  };
}

function existingChecksum(existing: ExistingObject): StoredChecksum | null {
  if (!existing.checksumSha256) return null;
  const composite = existing.checksumType === 'COMPOSITE' || existing.checksumSha256.includes('-');
  return { algorithm: 'SHA256', type: composite ? 'COMPOSITE' : 'FULL_OBJECT', value: existing.checksumSha256 };
}

function existingPartCount(existing: ExistingObject): number {
  const match = /-(\d+)"?$/.exec(existing.etag);
  return match ? Number(match[1]) : 1;
}

function differentContent(target: string, existing: ExistingObject, sha256: string): ConflictError {
  const theirs = existing.sha256 ? `sha256 ${existing.sha256}` : 'no sha256 metadata';
  return new ConflictError(
    'ArtifactExists',
    `${target} already holds different content (${theirs}, ${existing.size} bytes; ours: sha256 ${sha256}). ` +
      'Published artifacts are immutable: bump the version (a new key), or set overwrite: true to replace it.',
    { existingSha256: existing.sha256 ?? null, existingVersionId: existing.versionId, sha256 },
  );
}

/**
 * A conditional write lost: someone else wrote the key between our check and
 * our write. Same content: fine, report theirs. Otherwise: conflict.
 */
async function lostTheRace(aws: AwsClients, base: ResultBase, target: string, log: Logger): Promise<PublishResult> {
  const now = await headExistingObject(aws.s3, base.request.bucket, base.request.key, base.request.region);
  if (now && holdsSameContent(now, base.sha256, base.file.size)) return alreadyPublished(base, now, log);
  throw new ConflictError(
    'ConcurrentPublish',
    `another publisher wrote ${target} while we were publishing it, with different content (sha256 ${now?.sha256 ?? 'unknown'}); ` +
      'nothing of ours was written. Check which build owns this version.',
    { existingSha256: now?.sha256 ?? null, existingVersionId: now?.versionId ?? null, sha256: base.sha256 },
  );
}
