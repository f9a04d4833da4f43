import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { awsErrorCode, httpStatusOf, isAccessDenied, isNoSuchBucket } from '../aws/errors';
import { InputError } from '../core/errors';
import { clusterKeyPrefix, ledgerUrl, type LedgerRef } from './ledger-ref';
import type { LedgerAws } from './ledger';
import { ledgerS3Error } from './s3-errors';

/**
 * Proves, read-only, that the ledger bucket is there and ours to use before a
 * run writes anything (the lock's PutObject is the first write): a missing or
 * forbidden bucket is bad input (exit 2) with nothing in AWS changed.
 *
 * It lists at most one key under the cluster's own prefix rather than sending
 * HeadBucket: both need `s3:ListBucket`, but HeadBucket carries no `s3:prefix`,
 * so the deploy policy would have to let every run list the whole bucket
 * (every cluster's records); this call passes the policy's prefix condition.
 */
export async function checkLedgerBucket(aws: LedgerAws, ledger: LedgerRef, cluster: string): Promise<void> {
  const prefix = clusterKeyPrefix(ledger, cluster);
  try {
    await aws.s3.send(new ListObjectsV2Command({ Bucket: ledger.bucket, Prefix: prefix, MaxKeys: 1 }));
  } catch (error) {
    const where = ledgerUrl(ledger, prefix);
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
        `access denied listing ${where} (checked before taking the lock, nothing changed): the bucket belongs to another account, or these credentials lack s3:ListBucket on it for the prefix (and s3:GetObject, s3:PutObject, s3:DeleteObject under it)`,
        { bucket: ledger.bucket, s3Code: awsErrorCode(error) },
      );
    }
    throw ledgerS3Error(error, ledger, 'checking the ledger bucket');
  }
}
