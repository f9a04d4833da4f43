import { InputError } from './errors';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/**
 * Parses a duration given as seconds (`90`, `"90"`) or with a unit (`"90s"`,
 * `"15m"`, `"1h"`, `"1h30m"`) into seconds. Throws {@link InputError} naming
 * `field` on anything else, including negatives.
 */
export function parseDuration(field: string, value: unknown): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0)
      throw new InputError(field, `must be a duration of 0 or more seconds (got ${value})`);
    return value;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InputError(field, `must be a duration like 90, "90s", "15m" or "1h" (got ${JSON.stringify(value)})`);
  }
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)([smh])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new InputError(field, `must be a duration like 90, "90s", "15m" or "1h" (got ${JSON.stringify(value)})`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_SECONDS[p[2] as string] ?? 0), 0);
}
