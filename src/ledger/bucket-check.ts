import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { awsErrorCode, httpStatusOf, isAccessDenied, isNoSuchBucket } from '../aws/errors';
import { InputError } from '../core/errors';
import { ledgerUrl, type LedgerRef } from './ledger-ref';
import type { LedgerAws } from './ledger';
import { ledgerS3Error } from './s3-errors';

/**
 * Proves, read-only (`HeadBucket`, which IAM grants as `s3:ListBucket`), that
 * the ledger bucket is there and these credentials may use it, before a run
 * writes anything (the lock's PutObject is its first write): a missing or
 * forbidden bucket is bad input (exit 2) with nothing in AWS changed; a
 * bucket in another region is named by `ledgerS3Error` (`ledger.region`).
 */
export async function checkLedgerBucket(aws: LedgerAws, ledger: LedgerRef): Promise<void> {
  try {
    await aws.s3.send(new HeadBucketCommand({ Bucket: ledger.bucket }));
  } catch (error) {
    // HEAD answers carry no body: a missing bucket is a bare 404 (`NotFound`), a forbidden one a bare 403.
    if (isNoSuchBucket(error) || httpStatusOf(error) === 404) {
      throw new InputError(
        'ledger.bucket',
        `bucket ${JSON.stringify(ledger.bucket)} does not exist (checked before taking the lock, nothing changed): create it, or fix ledger.bucket`,
        { bucket: ledger.bucket, s3Code: awsErrorCode(error) },
      );
    }
    if (isAccessDenied(error)) {
      throw new InputError(
        'ledger.bucket',
        `access denied to ${ledgerUrl(ledger)} (HeadBucket, checked before taking the lock, nothing changed): the bucket belongs to another account, or these credentials lack s3:ListBucket on it (see resources/bluegreen/iam/deploy.json)`,
        { bucket: ledger.bucket, s3Code: awsErrorCode(error) },
      );
    }
    throw ledgerS3Error(error, ledger, 'checking the ledger bucket');
  }
}
