/**
 * Reading AWS SDK errors, in one place: every module that must tell one AWS
 * failure from another (missing, lost a conditional write, throttled, not
 * allowed) asks here instead of matching codes or messages itself.
 *
 * SDK v3 errors carry the service's error code as `name` (and often `Code`)
 * and the HTTP status in `$metadata.httpStatusCode`. Some failures arrive
 * only as a status: S3 HEAD responses have no body, so a missing bucket and a
 * missing key are both a bare 404 `NotFound`.
 */

interface SdkErrorShape {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};
}

/** The service's error code (`NoSuchBucket`, `InvalidAMIID.NotFound`, …), else the error's name. */
export function awsErrorCode(error: unknown): string | undefined {
  const s = shape(error);
  return s.Code ?? s.name;
}

/** The HTTP status of an SDK error, if it has one. */
export function httpStatusOf(error: unknown): number | undefined {
  return shape(error).$metadata?.httpStatusCode;
}

/** True when the error code matches `pattern` (for codes that name what is missing, e.g. `/^InvalidSubnet/`). */
export function hasErrorCode(error: unknown, pattern: RegExp): boolean {
  return pattern.test(awsErrorCode(error) ?? '');
}

/**
 * The thing asked for is not there: any 404 (`NotFound`, `NoSuchKey`,
 * `NoSuchBucket`), an EC2/ELB code ending in `NotFound`
 * (`InvalidLaunchTemplateId.NotFound`, `TargetGroupNotFound`, …), or an Auto
 * Scaling `ValidationError` saying the group is not found (ASG has no
 * not-found code of its own).
 */
export function isNotFound(error: unknown): boolean {
  const code = awsErrorCode(error) ?? '';
  if (httpStatusOf(error) === 404 || ['NotFound', 'NoSuchKey', 'NoSuchBucket'].includes(code)) return true;
  if (/NotFound(Exception)?$/i.test(code)) return true;
  return code === 'ValidationError' && /not found|does not exist/i.test(shape(error).message ?? '');
}

/** The S3 object (not the bucket) is not there. */
export function isNoSuchKey(error: unknown): boolean {
  const code = awsErrorCode(error);
  return code === 'NoSuchKey' || (code === 'NotFound' && httpStatusOf(error) === 404);
}

/** The S3 bucket itself is missing (only GET/PUT/POST responses can say so; HEAD says a bare 404). */
export function isNoSuchBucket(error: unknown): boolean {
  return awsErrorCode(error) === 'NoSuchBucket';
}

/**
 * The S3 bucket lives in another region than the client's: a 301
 * (`PermanentRedirect`; HEAD has only the status), or a signature for the
 * wrong region (`AuthorizationHeaderMalformed`, `IllegalLocationConstraintException`).
 */
export function isWrongRegion(error: unknown): boolean {
  const code = awsErrorCode(error) ?? '';
  return (
    httpStatusOf(error) === 301 ||
    ['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException'].includes(code)
  );
}

/**
 * A conditional S3 write lost: `If-None-Match: *` found an object or
 * `If-Match` found another ETag (412 `PreconditionFailed`), or S3 saw a
 * concurrent conditional write on the same key (409
 * `ConditionalRequestConflict`, or `OperationAborted`: "a conflicting
 * conditional operation is currently in progress"). `OperationAborted` counts
 * too: our write did not take effect because another writer raced us on the
 * key — the same outcome as losing the race, so the caller re-reads and
 * decides (the lock reports who holds it, an append retries, a publish
 * compares content) instead of failing as if S3 were broken.
 */
export function isConditionFailed(error: unknown): boolean {
  const code = awsErrorCode(error);
  return (
    httpStatusOf(error) === 412 ||
    code === 'PreconditionFailed' ||
    code === 'ConditionalRequestConflict' ||
    code === 'OperationAborted'
  );
}

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
]);

/** AWS asked us to slow down (429, `Throttling`, `RequestLimitExceeded`, S3 `SlowDown`, …). */
export function isThrottled(error: unknown): boolean {
  const s = shape(error);
  return (
    httpStatusOf(error) === 429 || THROTTLING_CODES.has(awsErrorCode(error) ?? '') || s.$retryable?.throttling === true
  );
}

/** 403: the credentials may not do this (or, for an S3 HEAD without ListBucket, the key is missing). */
export function isAccessDenied(error: unknown): boolean {
  return (
    httpStatusOf(error) === 403 ||
    ['AccessDenied', 'AccessDeniedException', 'Forbidden', 'UnauthorizedOperation'].includes(awsErrorCode(error) ?? '')
  );
}

/** The request was cancelled through its AbortSignal. */
export function isAbort(error: unknown): boolean {
  return shape(error).name === 'AbortError';
}
