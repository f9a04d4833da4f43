import { HeadBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BluegreenError, ExitCode, InputError, describeError } from '../core/errors';
import { METADATA_KEYS } from './build-metadata';
import { isAccessDenied, isNotFound, isWrongRegion } from '../aws/errors';
import { versionIdOf } from './write-types';

/** What S3 says about an object already at the key. */
export interface ExistingObject {
  size: number;
  etag: string;
  /** Our `sha256` metadata (hex), when the object was published by us. */
  sha256?: string;
  /** S3's own checksum, e.g. base64 digest, or `digest-N` for a composite one. */
  checksumSha256?: string;
  checksumType?: string;
  versionId: string | null;
  lastModified?: Date;
  metadata: Record<string, string>;
}

/**
 * Heads the object at `bucket/key`: its facts, or `undefined` when there is no
 * object. A missing bucket is an {@link InputError} on `bucket` (HEAD answers
 * a bare 404 for both, so the bucket is headed to tell them apart).
 */
export async function headExistingObject(
  s3: S3Client,
  bucket: string,
  key: string,
  region: string,
): Promise<ExistingObject | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    return {
      size: head.ContentLength ?? 0,
      etag: head.ETag ?? '',
      sha256: head.Metadata?.[METADATA_KEYS.sha256],
      checksumSha256: head.ChecksumSHA256,
      checksumType: head.ChecksumType,
      versionId: versionIdOf(head.VersionId),
      lastModified: head.LastModified,
      metadata: head.Metadata ?? {},
    };
  } catch (error) {
    if (isNotFound(error)) {
      await checkBucketExists(s3, bucket, region);
      return undefined;
    }
    if (isWrongRegion(error)) {
      throw new InputError('region', `bucket "${bucket}" is not in ${region}: pass the bucket's region`);
    }
    if (isAccessDenied(error)) {
      throw new BluegreenError(
        'AccessDenied',
        ExitCode.failed,
        `access denied reading s3://${bucket}/${key}: publish needs s3:GetObject and s3:ListBucket (so a missing key answers 404, not 403) besides s3:PutObject`,
      );
    }
    throw error;
  }
}

async function checkBucketExists(s3: S3Client, bucket: string, region: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (isNotFound(error))
      throw new InputError('bucket', `bucket "${bucket}" does not exist (NoSuchBucket) in ${region}`);
    // 403 here: no s3:ListBucket on the bucket itself; the upload will tell whether it exists.
    if (isAccessDenied(error)) return;
    throw new BluegreenError(
      'BucketCheckFailed',
      ExitCode.failed,
      `cannot check bucket "${bucket}": ${describeError(error)}`,
    );
  }
}

/**
 * True when the existing object holds exactly our content: our `sha256`
 * metadata matches, or (for an object someone else uploaded whole with a
 * SHA-256 checksum) S3's full-object checksum does; and the size matches.
 */
export function holdsSameContent(existing: ExistingObject, sha256Hex: string, size: number): boolean {
  if (existing.size !== size) return false;
  if (existing.sha256 !== undefined) return existing.sha256.toLowerCase() === sha256Hex;
  const fullObject =
    existing.checksumSha256 !== undefined &&
    !existing.checksumSha256.includes('-') &&
    existing.checksumType !== 'COMPOSITE';
  return fullObject && existing.checksumSha256 === Buffer.from(sha256Hex, 'hex').toString('base64');
}
