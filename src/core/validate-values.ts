import { InputError } from './errors';
import { checkObject, checkPattern, optionalString } from './validate';

/**
 * Validators beside those of `validate.ts` (kept apart while that file is
 * reworked; they belong with it). Each throws {@link InputError} naming the field.
 */

/** Letters, digits, `.`, `_`, `+`, `-`, 1-128 characters: safe in names, tags and shells. */
const VERSION_PATTERN = /^[\w.+-]{1,128}$/;

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
