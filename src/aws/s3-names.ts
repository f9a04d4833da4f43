import { InputError } from '../core/errors';

/**
 * S3 bucket names, object keys and the URLs of an object, checked before any
 * AWS call so a typo is exit 2 with the field named, not an S3 error later.
 */

const IP_ADDRESS_PATTERN = /^\d{1,3}(\.\d{1,3}){3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];
/** S3 limits keys to 1024 bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

/**
 * Checks a general purpose bucket name against the S3 naming rules (3–63
 * characters, lowercase letters, digits, `.` and `-`, …) and returns it, or
 * throws {@link InputError} on `field` saying which rule fails. A number is
 * taken as its digits (flags and YAML turn `123` into one).
 */
export function checkBucketName(field: string, value: unknown): string {
  const name = typeof value === 'number' ? String(value) : value;
  if (typeof name !== 'string' || name === '')
    throw new InputError(field, 'is required: the name of an existing S3 bucket');
  if (/^s3:\/\//i.test(name) || name.includes('/')) {
    throw new InputError(field, `must be a bucket name only, without "s3://" or a key (got ${JSON.stringify(name)})`);
  }
  const problem = bucketNameProblem(name);
  if (problem) throw new InputError(field, `${JSON.stringify(name)} is not a valid S3 bucket name: ${problem}`);
  return name;
}

function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `must be 3 to 63 characters (got ${name.length})`;
  if (!/^[a-z0-9.-]+$/.test(name)) return 'may hold only lowercase letters, digits, "." and "-"';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'must begin and end with a letter or digit';
  if (name.includes('..')) return 'must not contain two adjacent periods';
  if (IP_ADDRESS_PATTERN.test(name)) return 'must not be formatted as an IP address';
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `must not start with "${prefix}" (reserved by AWS)`;
  const suffix = RESERVED_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `must not end with "${suffix}" (reserved by AWS for access points and directory buckets)`;
  return undefined;
}

/**
 * Checks an object key: 1–1024 bytes, no control characters, and none of the
 * shapes that make a key ambiguous as a path (`/` at either end, `//`, `.` or
 * `..` segments — HTTP clients and download tools normalise those away).
 */
export function checkObjectKey(field: string, value: string): string {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_KEY_BYTES)
    throw new InputError(field, `an S3 key must be at most ${MAX_KEY_BYTES} bytes (got ${bytes})`);
  const quoted = JSON.stringify(value);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw new InputError(field, `must not hold control characters (got ${quoted})`);
  if (value.startsWith('/')) throw new InputError(field, `must not start with "/" (got ${quoted})`);
  if (value.endsWith('/')) throw new InputError(field, `must name an object, not end with "/" (got ${quoted})`);
  if (value.includes('//')) throw new InputError(field, `must not hold an empty path segment "//" (got ${quoted})`);
  if (value.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new InputError(field, `must not hold "." or ".." path segments (got ${quoted})`);
  }
  return value;
}

/** `s3://bucket/key`, the form other stages (bake) take. */
export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/**
 * The object's HTTPS URL on AWS (always the AWS form, even when an emulator
 * endpoint is set). Virtual-hosted style, except for bucket names with dots,
 * which do not match the `*.s3` TLS certificate: those use path style.
 */
export function httpsUrl(bucket: string, key: string, region: string): string {
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  const path = key.split('/').map(encodeURIComponent).join('/');
  return bucket.includes('.')
    ? `https://s3.${region}.${domain}/${bucket}/${path}`
    : `https://${bucket}.s3.${region}.${domain}/${path}`;
}
