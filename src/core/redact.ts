/**
 * The one redaction function: everything bluegreen writes where others can
 * read it (log lines, output files, error messages, tags, ledger records)
 * passes through it, so a credential given as input never leaves the process.
 * It removes URL user info, the signing parameters of presigned URLs, AWS
 * access key ids, long mixed-case tokens, and `secret=…`-style assignments
 * in free text.
 */

/** What a removed secret is replaced with. */
export const REDACTED = 'REDACTED';

/** `scheme://user:password@host` → `scheme://host` (a URL keeps working without them where it matters to a reader). */
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s?#]+@/gi;

/**
 * Query parameters that carry a credential: SigV4 and SigV2 presigning, and
 * the usual token names of other signed URLs (Azure SAS `sig`, OAuth `access_token`, …).
 */
const SECRET_QUERY_PARAMETER =
  /([?&](?:X-Amz-Credential|X-Amz-Signature|X-Amz-Security-Token|Signature|AWSAccessKeyId|x-amz-security-token|sig|token|access_token|id_token|refresh_token|api_key|apikey|password|secret|client_secret|credential|auth)=)[^&#\s"']*/gi;

/** AWS access key ids (long-term `AKIA…`, temporary `ASIA…`, and the other unique-id prefixes). */
const ACCESS_KEY_ID = /\b(?:AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA|ABIA|ACCA)[A-Z0-9]{16}\b/g;

/** `password=…`, `secretAccessKey: …`, `"token": "…"` in free text (env dumps, error messages). */
const SECRET_ASSIGNMENT =
  /((?:password|passwd|secret[_-]?access[_-]?key|secret|session[_-]?token|security[_-]?token|access[_-]?token|api[_-]?key|private[_-]?key)["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi;

/**
 * A long base64-looking run mixing upper case, lower case and digits: a secret
 * access key (40) or a session token. Hex digests and ids (one case) do not match.
 */
const LONG_TOKEN =
  /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+=]*[A-Z])(?=[A-Za-z0-9/+=]*[a-z])(?=[A-Za-z0-9/+=]*\d)[A-Za-z0-9/+=]{40,}(?![A-Za-z0-9/+=])/g;

/** Keys whose value is a secret whatever it looks like (in records, details, outputs). */
export const SECRET_KEY = /password|passwd|secret|token|credential|private.?key|^user.?data$/i;

/** Returns `text` with every credential it holds removed (see the module comment). Idempotent. */
export function redact(text: string): string {
  return text
    .replace(URL_USER_INFO, '$1')
    .replace(SECRET_QUERY_PARAMETER, `$1${REDACTED}`)
    .replace(ACCESS_KEY_ID, REDACTED)
    .replace(SECRET_ASSIGNMENT, `$1${REDACTED}`)
    .replace(LONG_TOKEN, REDACTED);
}

/**
 * A deep copy of `value` with every string redacted, and the value of every
 * key that names a secret (`password`, `token`, …) replaced. For outputs,
 * records and error details: structures that may carry inputs.
 */
export function redactValue<T>(value: T): T {
  return redactInner(value, 0) as T;
}

function redactInner(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactInner(item, depth + 1));
  if (value instanceof Date) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] =
      SECRET_KEY.test(key) && (typeof inner === 'string' || typeof inner === 'number')
        ? REDACTED
        : redactInner(inner, depth + 1);
  }
  return copy;
}

/**
 * A URL for a tag or a record: {@link redact}ed, and a presigned query dropped
 * whole (without its signature it is of no use to a reader).
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const signed = q >= 0 && new RegExp(SECRET_QUERY_PARAMETER.source, 'i').test(url.slice(q));
  return redact(signed ? url.slice(0, q) : url);
}
