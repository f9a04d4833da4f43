/**
 * When a write may land: only where no object is (`If-None-Match: *`, the
 * normal publish), or only over the exact object we inspected (`If-Match`,
 * an `overwrite`). Either way two concurrent publishers cannot both win.
 */
export type WriteCondition = { kind: 'absent' } | { kind: 'replaces'; etag: string };

/**
 * The S3 checksum stored with the object. SHA-256 single uploads are
 * `FULL_OBJECT` (the digest of the bytes); multipart SHA-256 uploads can only
 * be `COMPOSITE` in S3 (the digest of the part digests, written `…-N`).
 */
export interface StoredChecksum {
  algorithm: 'SHA256';
  type: 'FULL_OBJECT' | 'COMPOSITE';
  value: string;
}

/** What a finished write reports. */
export interface WrittenObject {
  etag: string;
  versionId: string | null;
  checksum: StoredChecksum;
  partCount: number;
}

/**
 * The object's version id, or null when the bucket does not version objects:
 * S3 then sends no id, or the literal `"null"` (versioning suspended; moto
 * also answers it for an unversioned bucket).
 */
export function versionIdOf(versionId: string | undefined): string | null {
  return versionId === undefined || versionId === '' || versionId === 'null' ? null : versionId;
}
