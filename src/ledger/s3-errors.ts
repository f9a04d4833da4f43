import { awsErrorCode, isAccessDenied, isNoSuchBucket, isWrongRegion } from '../aws/errors';
import { InputError, OperationFailedError, describeError } from '../core/errors';
import { ledgerUrl, type LedgerRef } from './ledger-ref';

/**
 * The S3 configuration mistakes of a ledger a user can fix (no such bucket,
 * wrong region, no permission), turned into errors that say so. Telling S3
 * errors apart (conditional-write outcomes, missing keys) is `aws/errors`.
 */

/**
 * Turns an S3 error of a ledger call into an error a user can act on:
 * a missing bucket or a bucket in another region is bad input (exit 2),
 * missing permissions a failure naming what is needed (exit 1). Anything else
 * is returned as is.
 */
export function ledgerS3Error(error: unknown, ledger: LedgerRef, action: string): unknown {
  const code = awsErrorCode(error);
  const where = ledgerUrl(ledger);
  if (isNoSuchBucket(error)) {
    return new InputError(
      'ledger.bucket',
      `bucket ${JSON.stringify(ledger.bucket)} does not exist (${action} ${where}): create it, or fix ledger.bucket`,
      {
        bucket: ledger.bucket,
        s3Code: code,
      },
    );
  }
  if (isWrongRegion(error)) {
    return new InputError(
      'ledger.region',
      `bucket ${JSON.stringify(ledger.bucket)} is in another region than ${ledger.region ?? 'the stage region'} (${action} ${where}): set ledger.region to the bucket's region`,
      {
        bucket: ledger.bucket,
        s3Code: code,
      },
    );
  }
  if (isAccessDenied(error)) {
    return new OperationFailedError(
      'LedgerAccessDenied',
      `access denied ${action} ${where}: the ledger needs s3:ListBucket on the bucket and s3:GetObject, s3:PutObject, s3:DeleteObject under the prefix`,
      { bucket: ledger.bucket, prefix: ledger.prefix },
    );
  }
  if (error instanceof Error) return error;
  return new Error(`${action} ${where}: ${describeError(error)}`);
}
