import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { versionIdOf, type WriteCondition, type WrittenObject } from './write-types';

/** What a single PutObject sends. */
export interface SinglePutRequest {
  bucket: string;
  key: string;
  body: Buffer;
  sha256Hex: string;
  metadata: Record<string, string>;
  contentType: string;
  condition: WriteCondition;
  signal?: AbortSignal;
}

/**
 * Uploads a small artifact in one PutObject with its SHA-256 as the S3
 * checksum (full-object: S3 verifies it and rejects a corrupted body with
 * `BadDigest`) and a conditional header, so it never replaces an object it
 * did not inspect.
 */
export async function putWholeObject(s3: S3Client, request: SinglePutRequest): Promise<WrittenObject> {
  const checksum = Buffer.from(request.sha256Hex, 'hex').toString('base64');
  const response = await s3.send(
    new PutObjectCommand({
      Bucket: request.bucket,
      Key: request.key,
      Body: request.body,
      ContentLength: request.body.length,
      ContentType: request.contentType,
      Metadata: request.metadata,
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: checksum,
      ...conditionHeaders(request.condition),
    }),
    { abortSignal: request.signal },
  );
  return {
    etag: response.ETag ?? '',
    versionId: versionIdOf(response.VersionId),
    checksum: { algorithm: 'SHA256', type: 'FULL_OBJECT', value: response.ChecksumSHA256 ?? checksum },
    partCount: 1,
  };
}

/** The SDK fields for a write condition. */
export function conditionHeaders(condition: WriteCondition): { IfNoneMatch?: string; IfMatch?: string } {
  return condition.kind === 'absent' ? { IfNoneMatch: '*' } : { IfMatch: condition.etag };
}
