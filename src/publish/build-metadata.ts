import { InputError } from '../core/errors';

/**
 * The build facts stored as S3 user metadata on the artifact (`x-amz-meta-*`),
 * so anyone holding the object can trace it to its build. Metadata travels as
 * HTTP headers: values must be printable ASCII, and S3 caps the total at 2 KB.
 * Credentials never go there: a build URL carrying `user:password@` is refused.
 */

/** Build facts a publish may record. All optional. */
export interface BuildInfo {
  buildUrl?: string;
  gitCommit?: string;
  version?: string;
  app?: string;
  buildNumber?: string;
}

/** Metadata keys (S3 lowercases them); `sha256` is the content digest, hex. */
export const METADATA_KEYS = {
  sha256: 'sha256',
  buildUrl: 'build-url',
  gitCommit: 'git-commit',
  version: 'version',
  app: 'app',
  buildNumber: 'build-number',
  publishedBy: 'published-by',
} as const;

/** S3's limit on all user metadata of an object, keys and values, in bytes. */
const MAX_METADATA_BYTES = 2048;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
const GIT_COMMIT_PATTERN = /^[0-9a-fA-F]{7,64}$/;

/** A value S3 can carry in a metadata header. */
function checkHeaderValue(field: string, value: string, maxLength: number): string {
  if (!PRINTABLE_ASCII.test(value)) {
    throw new InputError(field, 'must be printable ASCII: it is stored as S3 object metadata (an HTTP header)');
  }
  if (value.length > maxLength)
    throw new InputError(field, `must be at most ${maxLength} characters (got ${value.length})`);
  return value;
}

/**
 * A Jenkins build URL: http(s), no credentials. The message never repeats the
 * URL when it holds credentials, so they do not reach the log either.
 */
export function checkBuildUrl(field: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(field, `must be an http(s) URL such as $BUILD_URL (got ${JSON.stringify(value)})`);
  }
  if (url.username || url.password) {
    throw new InputError(
      field,
      'must not carry credentials (user:password@): it is stored as object metadata; pass the plain $BUILD_URL',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(field, `must be an http(s) URL (got protocol ${JSON.stringify(url.protocol)})`);
  }
  return checkHeaderValue(field, value, 1024);
}

/** Validates the build facts, naming the field at fault. */
export function checkBuildInfo(info: BuildInfo): BuildInfo {
  const checked: BuildInfo = {};
  if (info.buildUrl !== undefined) checked.buildUrl = checkBuildUrl('buildUrl', info.buildUrl);
  if (info.gitCommit !== undefined) {
    if (!GIT_COMMIT_PATTERN.test(info.gitCommit)) {
      throw new InputError(
        'gitCommit',
        `must be a hex commit id of 7 to 64 characters (got ${JSON.stringify(info.gitCommit)})`,
      );
    }
    checked.gitCommit = info.gitCommit.toLowerCase();
  }
  if (info.version !== undefined) checked.version = checkHeaderValue('version', info.version, 128);
  if (info.app !== undefined) checked.app = checkHeaderValue('app', info.app, 128);
  if (info.buildNumber !== undefined) checked.buildNumber = checkHeaderValue('buildNumber', info.buildNumber, 64);
  return checked;
}

/** The object's user metadata: the content digest plus the build facts given. */
export function objectMetadata(sha256Hex: string, info: BuildInfo): Record<string, string> {
  const metadata: Record<string, string> = {
    [METADATA_KEYS.sha256]: sha256Hex,
    [METADATA_KEYS.publishedBy]: 'bluegreen',
  };
  if (info.buildUrl) metadata[METADATA_KEYS.buildUrl] = info.buildUrl;
  if (info.gitCommit) metadata[METADATA_KEYS.gitCommit] = info.gitCommit;
  if (info.version) metadata[METADATA_KEYS.version] = info.version;
  if (info.app) metadata[METADATA_KEYS.app] = info.app;
  if (info.buildNumber) metadata[METADATA_KEYS.buildNumber] = info.buildNumber;
  const bytes = Object.entries(metadata).reduce((sum, [key, value]) => sum + key.length + value.length, 0);
  if (bytes > MAX_METADATA_BYTES) {
    throw new InputError(
      'buildUrl',
      `build metadata is ${bytes} bytes; S3 allows ${MAX_METADATA_BYTES} bytes of user metadata in all`,
    );
  }
  return metadata;
}
