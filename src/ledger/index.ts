/** The deployment ledger and cluster lock (S3): the engine side, no CLI in it. */
export * from './ledger-ref';
export * from './deployment-id';
export * from './record';
export * from './ledger';
export * from './lock';
export * from './lock-renewal';
export { formatHistory, formatLockLine } from './format';
export { ledgerS3Error } from './s3-errors';
export { checkLedgerBucket } from './bucket-check';
export * from './identity';
export * from './ledger-writer';
