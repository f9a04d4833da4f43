import { InputError } from './errors';

/**
 * Small field validators. Each throws {@link InputError} naming the field and
 * what is wrong, so a stage validates everything before any AWS call.
 */

const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

/** A region such as `us-east-1`. */
export function checkRegion(field: string, value: unknown): string {
  const region = checkString(field, value);
  if (!REGION_PATTERN.test(region)) {
    throw new InputError(field, `must be an AWS region such as "us-east-1" (got ${JSON.stringify(value)})`);
  }
  return region;
}

/** A non-empty string. */
export function checkString(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new InputError(field, `must be a string (got ${describeType(value)})`);
  if (value.trim() === '') throw new InputError(field, 'must not be empty');
  return value;
}

/** An optional non-empty string. */
export function optionalString(field: string, value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : checkString(field, value);
}

/** A string matching `pattern`, described by `shape` in the message. */
export function checkPattern(field: string, value: unknown, pattern: RegExp, shape: string): string {
  const text = checkString(field, value);
  if (!pattern.test(text)) throw new InputError(field, `must look like ${shape} (got ${JSON.stringify(text)})`);
  return text;
}

/** An integer within bounds; numeric strings are accepted (flags arrive as strings). */
export function checkInteger(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const number = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) {
    throw new InputError(field, `must be a whole number (got ${JSON.stringify(value)})`);
  }
  if (number < min || number > max) {
    throw new InputError(field, `must be between ${min} and ${max} (got ${number})`);
  }
  return number;
}

/** A boolean; `"true"`/`"false"` strings are accepted. */
export function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new InputError(field, `must be true or false (got ${JSON.stringify(value)})`);
}

/** A list of non-empty strings; a comma-separated string is accepted too. */
export function checkStringList(field: string, value: unknown): string[] {
  const items =
    typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : value;
  if (!Array.isArray(items)) throw new InputError(field, `must be a list of strings (got ${describeType(value)})`);
  return items.map((item, index) => checkString(`${field}[${index}]`, item));
}

/** A plain object (not an array, not null). */
export function checkObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(field, `must be an object (got ${describeType(value)})`);
  }
  return value as Record<string, unknown>;
}

/** Rejects keys of `value` that are not in `allowed`, naming the first one. */
export function checkKnownKeys(field: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const where = field ? `${field}.${key}` : key;
      throw new InputError(where, `is not a known key (known: ${allowed.join(', ')})`);
    }
  }
}

/** A string map for AWS tags: keys ≤ 128, values ≤ 256 characters, no `aws:` prefix. */
export function checkTags(field: string, value: unknown): Record<string, string> {
  const tags = checkObject(field, value);
  const result: Record<string, string> = {};
  for (const [key, tagValue] of Object.entries(tags)) {
    if (key.length === 0 || key.length > 128)
      throw new InputError(`${field}.${key}`, 'tag keys must be 1 to 128 characters');
    if (key.toLowerCase().startsWith('aws:'))
      throw new InputError(`${field}.${key}`, 'tag keys must not start with "aws:" (reserved by AWS)');
    if (typeof tagValue !== 'string')
      throw new InputError(`${field}.${key}`, `tag values must be strings (got ${describeType(tagValue)})`);
    if (tagValue.length > 256)
      throw new InputError(`${field}.${key}`, `tag values must be at most 256 characters (got ${tagValue.length})`);
    result[key] = tagValue;
  }
  return result;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Letters, digits, `.`, `_`, `+`, `-`, 1-128 characters: safe in names, tags and shells. */
export const VERSION_PATTERN = /^[\w.+-]{1,128}$/;

/** An application version such as `1.2.3` or `1.2.3+build.7`. */
export function checkVersion(field: string, value: unknown): string {
  return checkPattern(field, value, VERSION_PATTERN, '1.2.3 (1-128 letters, digits, . _ + -)');
}

/** An optional string where `""` means not given (as a blank Jenkins parameter arrives). */
export function optionalNonBlank(field: string, value: unknown): string | undefined {
  return value === '' ? undefined : optionalString(field, value);
}

/** An object whose values are all strings (e.g. environment variables); absent is `{}`. */
export function checkStringMap(field: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  const map = checkObject(field, value);
  for (const [key, item] of Object.entries(map)) {
    if (typeof item !== 'string') throw new InputError(`${field}.${key}`, `must be a string (got ${typeof item})`);
  }
  return map as Record<string, string>;
}
