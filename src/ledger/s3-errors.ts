import { InputError, OperationFailedError, describeError } from '../core/errors';
import { ledgerUrl, type LedgerRef } from './ledger-ref';

/**
 * Reading S3 errors of the ledger: conditional-write outcomes, and the
 * configuration mistakes a user can fix (no such bucket, wrong region, no
 * permission) turned into errors that say so.
 */

interface S3ErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function shape(error: unknown): S3ErrorShape {
  return typeof error === 'object' && error !== null ? (error as S3ErrorShape) : {};
}

function errorCode(error: unknown): string | undefined {
  const s = shape(error);
  return s.Code ?? s.name;
}

function httpStatus(error: unknown): number | undefined {
  return shape(error).$metadata?.httpStatusCode;
}

/**
 * True when a conditional write lost: `If-None-Match: *` found an object, or
 * `If-Match` found another ETag (412), or S3 saw a concurrent conditional
 * write on the same key (409 ConditionalRequestConflict / OperationAborted).
 */
export function isConditionFailed(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'PreconditionFailed' || code === 'ConditionalRequestConflict' || code === 'OperationAborted' || httpStatus(error) === 412;
}

/** True when the object (not the bucket) is not there. */
export function isNoSuchKey(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'NoSuchKey' || (code === 'NotFound' && httpStatus(error) === 404);
}

/**
 * Turns an S3 error of a ledger call into an error a user can act on:
 * a missing bucket or a bucket in another region is bad input (exit 2),
 * missing permissions a failure naming what is needed (exit 1). Anything else
 * is returned as is.
 */
export function ledgerS3Error(error: unknown, ledger: LedgerRef, action: string): unknown {
  const code = errorCode(error);
  const where = ledgerUrl(ledger);
  if (code === 'NoSuchBucket') {
    return new InputError('ledger.bucket', `bucket ${JSON.stringify(ledger.bucket)} does not exist (${action} ${where}): create it, or fix ledger.bucket`, {
      bucket: ledger.bucket,
      s3Code: code,
    });
  }
  if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || code === 'IllegalLocationConstraintException') {
    return new InputError('ledger.region', `bucket ${JSON.stringify(ledger.bucket)} is in another region than ${ledger.region ?? 'the stage region'} (${action} ${where}): set ledger.region to the bucket's region`, {
      bucket: ledger.bucket,
      s3Code: code,
    });
  }
  if (code === 'AccessDenied' || code === 'Forbidden' || httpStatus(error) === 403) {
    return new OperationFailedError(
      'LedgerAccessDenied',
      `access denied ${action} ${where}: the ledger needs s3:ListBucket on the bucket and s3:GetObject, s3:PutObject, s3:DeleteObject under the prefix`,
      { bucket: ledger.bucket, prefix: ledger.prefix },
    );
  }
  if (error instanceof Error) return error;
  return new Error(`${action} ${where}: ${describeError(error)}`);
}
