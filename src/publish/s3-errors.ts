/**
 * Reading AWS SDK errors: S3 reports some failures only by HTTP status (HEAD
 * responses have no body, so a missing bucket and a missing key both arrive
 * as a bare 404 `NotFound`).
 */

interface SdkErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The HTTP status of an SDK error, if it has one. */
export function httpStatusOf(error: unknown): number | undefined {
  return (error as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/** The S3 error code (`NoSuchBucket`, `PreconditionFailed`, …) or the SDK error name. */
export function errorCodeOf(error: unknown): string | undefined {
  const shape = error as SdkErrorShape | undefined;
  return shape?.Code ?? shape?.name;
}

/** 404 of any kind (`NotFound`, `NoSuchKey`, `NoSuchBucket`). */
export function isNotFound(error: unknown): boolean {
  return httpStatusOf(error) === 404 || ['NotFound', 'NoSuchKey', 'NoSuchBucket'].includes(errorCodeOf(error) ?? '');
}

/** The bucket itself is missing (only GET/PUT/POST responses can say so). */
export function isNoSuchBucket(error: unknown): boolean {
  return errorCodeOf(error) === 'NoSuchBucket';
}

/** 403: the credentials may not do this (or, for a HEAD without ListBucket, the key is missing). */
export function isAccessDenied(error: unknown): boolean {
  return httpStatusOf(error) === 403 || ['AccessDenied', 'Forbidden'].includes(errorCodeOf(error) ?? '');
}

/**
 * A conditional write lost: `If-None-Match: *` found an object, `If-Match`
 * found another ETag (412), or S3 saw a concurrent conditional write (409).
 */
export function isConditionFailure(error: unknown): boolean {
  const code = errorCodeOf(error);
  return httpStatusOf(error) === 412 || code === 'PreconditionFailed' || code === 'ConditionalRequestConflict';
}

/** The request was cancelled through its AbortSignal. */
export function isAbort(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'AbortError';
}
