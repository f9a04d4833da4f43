import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { OperationFailedError, describeError } from '../core/errors';
import type { Logger } from '../core/log';
import { ProgressReporter } from './progress';
import { conditionHeaders } from './single-put';
import { versionIdOf, type WriteCondition, type WrittenObject } from './write-types';

/**
 * Multipart upload with a bounded memory footprint: the file is read in order
 * into a fixed pool of `concurrency` part buffers, so at most
 * `concurrency × partSize` bytes of the file are in memory at once, however
 * big it is. Each part carries its own SHA-256 (S3 verifies every part), the
 * object gets S3's COMPOSITE SHA-256 checksum, and the whole-file SHA-256 is
 * recomputed on the way to prove the bytes sent are the bytes hashed before.
 * Any failure aborts the multipart upload: no parts are left billed.
 */

/** S3 limits: parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 parts. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
export const MAX_PARTS = 10_000;

/**
 * The part size for a file: `preferred` unless the file would need more than
 * 10,000 parts, then the smallest whole number of MiB that fits.
 */
export function partSizeFor(fileSize: number, preferred: number): number {
  const mib = 1024 * 1024;
  const needed = Math.ceil(fileSize / MAX_PARTS / mib) * mib;
  return Math.min(MAX_PART_SIZE, Math.max(MIN_PART_SIZE, preferred, needed));
}

/** What a multipart upload needs. */
export interface MultipartRequest {
  bucket: string;
  key: string;
  path: string;
  size: number;
  /** Whole-file SHA-256 (hex) from the hash pass; the upload pass must see the same bytes. */
  sha256Hex: string;
  metadata: Record<string, string>;
  contentType: string;
  condition: WriteCondition;
  partSize: number;
  concurrency: number;
  log: Logger;
  signal?: AbortSignal;
}

interface UploadedPart extends CompletedPart {
  PartNumber: number;
  ETag: string;
  ChecksumSHA256: string;
}

/**
 * Uploads `request.path` in parts. Resolves with the written object; on any
 * failure (part error, file changed, cancelled, condition lost at completion)
 * aborts the upload and rethrows.
 */
export async function uploadInParts(s3: S3Client, request: MultipartRequest): Promise<WrittenObject> {
  const partCount = Math.ceil(request.size / request.partSize);
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: request.bucket,
      Key: request.key,
      ContentType: request.contentType,
      Metadata: request.metadata,
      ChecksumAlgorithm: 'SHA256',
      ChecksumType: 'COMPOSITE',
    }),
    { abortSignal: request.signal },
  );
  const uploadId = created.UploadId;
  if (!uploadId)
    throw new OperationFailedError(
      'MultipartFailed',
      `S3 returned no UploadId for s3://${request.bucket}/${request.key}`,
    );
  request.log.debug(
    `multipart upload ${uploadId}: ${partCount} parts of ${request.partSize} bytes, ${request.concurrency} in flight`,
  );
  try {
    const parts = await uploadParts(s3, request, uploadId, partCount);
    const partDigests = Buffer.concat(parts.map((part) => Buffer.from(part.ChecksumSHA256, 'base64')));
    const composite = `${createHash('sha256').update(partDigests).digest('base64')}-${partCount}`;
    const completed = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: request.bucket,
        Key: request.key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        ChecksumType: 'COMPOSITE',
        MpuObjectSize: request.size,
        ...conditionHeaders(request.condition),
      }),
      { abortSignal: request.signal },
    );
    return {
      etag: completed.ETag ?? '',
      versionId: versionIdOf(completed.VersionId),
      checksum: { algorithm: 'SHA256', type: 'COMPOSITE', value: completed.ChecksumSHA256 ?? composite },
      partCount,
    };
  } catch (error) {
    await abortUpload(s3, request, uploadId);
    throw error;
  }
}

/** Best-effort abort; a failure is logged with what a human needs to clean up. */
async function abortUpload(s3: S3Client, request: MultipartRequest, uploadId: string): Promise<void> {
  try {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: request.bucket, Key: request.key, UploadId: uploadId }));
    request.log.info(`aborted multipart upload ${uploadId}: no parts left in s3://${request.bucket}`);
  } catch (error) {
    request.log.warn(
      `could not abort multipart upload ${uploadId} of s3://${request.bucket}/${request.key} (${describeError(error)}); ` +
        'its parts are billed until aborted: aws s3api abort-multipart-upload, or a bucket lifecycle rule AbortIncompleteMultipartUpload',
    );
  }
}

/**
 * Reads parts in order into the buffer pool and keeps up to `concurrency`
 * UploadPart calls in flight. The first failure cancels the others.
 */
async function uploadParts(
  s3: S3Client,
  request: MultipartRequest,
  uploadId: string,
  partCount: number,
): Promise<UploadedPart[]> {
  const cancel = new AbortController();
  const onOuterAbort = (): void => cancel.abort(request.signal?.reason);
  request.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const freeBuffers: Buffer[] = [];
  let buffersMade = 0;
  const uploaded: UploadedPart[] = new Array(partCount);
  const inFlight = new Set<Promise<void>>();
  const progress = new ProgressReporter(request.log, request.size);
  const wholeFile = createHash('sha256');
  let failure: unknown;
  let partsDone = 0;
  const file = await open(request.path, 'r');
  try {
    for (let partNumber = 1; partNumber <= partCount && failure === undefined; partNumber += 1) {
      while (inFlight.size >= request.concurrency) await Promise.race(inFlight);
      if (failure !== undefined) break;
      if (cancel.signal.aborted) {
        failure = cancel.signal.reason ?? new Error('cancelled');
        break;
      }
      const buffer = freeBuffers.pop() ?? (buffersMade++, Buffer.allocUnsafe(request.partSize));
      const offset = (partNumber - 1) * request.partSize;
      const length = Math.min(request.partSize, request.size - offset);
      const body = buffer.subarray(0, length);
      await readExactly(file, body, offset, request.path);
      wholeFile.update(body);
      const partChecksum = createHash('sha256').update(body).digest('base64');
      const number = partNumber;
      const task = s3
        .send(
          new UploadPartCommand({
            Bucket: request.bucket,
            Key: request.key,
            UploadId: uploadId,
            PartNumber: number,
            Body: body,
            ContentLength: length,
            ChecksumAlgorithm: 'SHA256',
            ChecksumSHA256: partChecksum,
          }),
          { abortSignal: cancel.signal },
        )
        .then((response) => {
          uploaded[number - 1] = { PartNumber: number, ETag: response.ETag ?? '', ChecksumSHA256: partChecksum };
          partsDone += 1;
          progress.advance(length, partsDone, partCount);
        })
        .catch((error: unknown) => {
          failure ??= error;
          cancel.abort(error);
        })
        .finally(() => {
          freeBuffers.push(buffer);
          inFlight.delete(task);
        });
      inFlight.add(task);
    }
    await Promise.all(inFlight);
    if (failure === undefined) await checkNothingAfter(file, request.size, request.path);
  } catch (error) {
    failure ??= error;
    cancel.abort(error);
    await Promise.all(inFlight);
  } finally {
    request.signal?.removeEventListener('abort', onOuterAbort);
    await file.close();
  }
  if (failure !== undefined) throw failure;
  request.log.debug(`${buffersMade} part buffers of ${request.partSize} bytes were used`);
  const digest = wholeFile.digest('hex');
  if (digest !== request.sha256Hex) {
    throw fileChanged(request.path, `its SHA-256 is now ${digest}, was ${request.sha256Hex}`);
  }
  return uploaded;
}

function fileChanged(path: string, how: string): OperationFailedError {
  return new OperationFailedError(
    'FileChanged',
    `${path} changed while it was being published (${how}); nothing was published. Publish a file nothing else writes to.`,
  );
}

/** Fills `target` from `position`; a short file means it was truncated under us. */
async function readExactly(file: FileHandle, target: Buffer, position: number, path: string): Promise<void> {
  let filled = 0;
  while (filled < target.length) {
    const { bytesRead } = await file.read(target, filled, target.length - filled, position + filled);
    if (bytesRead === 0) throw fileChanged(path, `it ended at ${position + filled} bytes`);
    filled += bytesRead;
  }
}

/** The file must end where it ended when hashed. */
async function checkNothingAfter(file: FileHandle, size: number, path: string): Promise<void> {
  const { bytesRead } = await file.read(Buffer.alloc(1), 0, 1, size);
  if (bytesRead > 0) throw fileChanged(path, `it grew beyond ${size} bytes`);
}
