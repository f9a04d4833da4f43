import { checkRoleArn } from '../aws/assume-role';
import { checkBucketName } from '../aws/s3-names';
import { InputError } from '../core/errors';
import { checkObject, checkKnownKeys, checkRegion } from '../core/validate';

/**
 * Where the deployment ledger and the cluster locks live: one S3 bucket and a
 * key prefix. Every stage that reads or writes the ledger (deploy, rollback,
 * history, status) takes it as the `ledger` input, parsed here and only here.
 */
export interface LedgerRef {
  /** S3 bucket name. */
  bucket: string;
  /** Key prefix without leading or trailing slash; `''` means the bucket root. */
  prefix: string;
  /** Region of the bucket when it differs from the stage's region. */
  region?: string;
  /** A role (e.g. in a tools account) assumed for the ledger and lock calls, else the stage's credentials. */
  roleArn?: string;
}

/** Prefix used when the input names only a bucket. */
export const DEFAULT_LEDGER_PREFIX = 'bluegreen';

const LEDGER_KEYS = ['bucket', 'prefix', 'region', 'roleArn'] as const;
const MAX_PREFIX_LENGTH = 512;

/**
 * Checks a key prefix: no leading slash, no empty or `.`/`..` segments, no
 * control characters. A trailing slash is dropped. Returns the normalised prefix.
 */
export function checkLedgerPrefix(field: string, value: unknown): string {
  if (value === undefined || value === null) return DEFAULT_LEDGER_PREFIX;
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') throw new InputError(field, `must be a string (got ${typeof value})`);
  if (text.startsWith('/'))
    throw new InputError(field, `must not start with "/" (got ${JSON.stringify(text)}): S3 keys have no leading slash`);
  const prefix = text.replace(/\/+$/, '');
  if (prefix.length > MAX_PREFIX_LENGTH)
    throw new InputError(field, `must be at most ${MAX_PREFIX_LENGTH} characters (got ${prefix.length})`);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(prefix)) throw new InputError(field, 'must not contain control characters');
  if (prefix !== '' && prefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new InputError(field, `must not contain empty, "." or ".." segments (got ${JSON.stringify(text)})`);
  }
  return prefix;
}

/**
 * Parses the `ledger` input of a stage: an object `{bucket, prefix?, region?}`
 * (flags `--ledger.bucket` arrive as one) or a string `s3://bucket[/prefix]`.
 * Validates everything before any AWS call; errors name the field, e.g.
 * `ledger.bucket`. The prefix defaults to {@link DEFAULT_LEDGER_PREFIX}.
 */
export function parseLedgerRef(raw: unknown, field = 'ledger'): LedgerRef {
  if (raw === undefined || raw === null || raw === '') {
    throw new InputError(
      `${field}.bucket`,
      `is required: where deployments are recorded and clusters locked, e.g. {"${field}": {"bucket": "my-deploy-ledger"}}`,
    );
  }
  if (typeof raw === 'string') return parseLedgerUrl(raw, field);
  const object = checkObject(field, raw);
  checkKnownKeys(field, object, LEDGER_KEYS);
  const ref: LedgerRef = {
    bucket: checkBucketName(`${field}.bucket`, object.bucket),
    prefix: checkLedgerPrefix(`${field}.prefix`, object.prefix),
  };
  if (object.region !== undefined && object.region !== null && object.region !== '') {
    ref.region = checkRegion(`${field}.region`, object.region);
  }
  if (object.roleArn !== undefined && object.roleArn !== null && object.roleArn !== '') {
    ref.roleArn = checkRoleArn(`${field}.roleArn`, object.roleArn);
  }
  return ref;
}

/** Like {@link parseLedgerRef}, but an absent ledger is `undefined` (stages where it is optional). */
export function parseOptionalLedgerRef(raw: unknown, field = 'ledger'): LedgerRef | undefined {
  return raw === undefined || raw === null || raw === '' ? undefined : parseLedgerRef(raw, field);
}

function parseLedgerUrl(text: string, field: string): LedgerRef {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(text);
  if (!match)
    throw new InputError(
      field,
      `must be an object {"bucket": …, "prefix": …} or an s3://bucket/prefix URL (got ${JSON.stringify(text)})`,
    );
  return {
    bucket: checkBucketName(`${field}.bucket`, match[1]),
    prefix: match[2] === undefined ? DEFAULT_LEDGER_PREFIX : checkLedgerPrefix(`${field}.prefix`, match[2]),
  };
}

/** `s3://bucket/prefix` for messages. */
export function ledgerUrl(ledger: LedgerRef, key?: string): string {
  const path = key ?? ledger.prefix;
  return path ? `s3://${ledger.bucket}/${path}` : `s3://${ledger.bucket}`;
}

/** The key prefix holding everything about one cluster, ending with `/`. */
export function clusterKeyPrefix(ledger: LedgerRef, cluster: string): string {
  checkClusterForKey(cluster);
  return `${ledger.prefix ? `${ledger.prefix}/` : ''}${cluster}/`;
}

/** The key prefix of a cluster's deployment records, ending with `/`. */
export function recordsKeyPrefix(ledger: LedgerRef, cluster: string): string {
  return `${clusterKeyPrefix(ledger, cluster)}records/`;
}

/**
 * The key of a lock object: a cluster's in one region (`{cluster}/locks/{region}.json`: each region its own lock,
 * so a rollout's regions deploy at the same time), or the whole cluster's (`{cluster}/lock.json`) without one.
 */
export function lockKey(ledger: LedgerRef, cluster: string, region?: string): string {
  if (region === undefined) return `${clusterKeyPrefix(ledger, cluster)}lock.json`;
  if (!/^[a-z0-9-]{1,64}$/.test(region))
    throw new InputError('region', `is not a region name (got ${JSON.stringify(region)})`);
  return `${clusterKeyPrefix(ledger, cluster)}locks/${region}.json`;
}

/** How messages name what a lock guards: `web-prod in us-east-1`, or `web-prod`. */
export function lockLabel(cluster: string, region?: string): string {
  return region === undefined ? cluster : `${cluster} in ${region}`;
}

/** Cluster names are validated by the stages; this guards the key layout against anything else. */
function checkClusterForKey(cluster: string): void {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(cluster) || cluster === '.' || cluster === '..') {
    throw new InputError('cluster', `may hold only letters, digits, ".", "_" and "-" (got ${JSON.stringify(cluster)})`);
  }
}
