import { InputError } from '../core/errors';

/**
 * Spinnaker's rolling red/black: the new group grows in steps (percent of
 * desired) while the same share of the previous group's instances leave the
 * target groups (deregistered and drained, not terminated). After each step
 * health, alarms and gates are watched for `stepWatch`; a breach re-registers
 * the previous group's instances (full strength again) and drains and removes
 * the new group. The last step (100 %) is the ordinary cutover and its watch.
 *
 * This file is the settings (pure); the steps run in `strategies/rolling.ts`.
 */

/** `strategy: 'rolling'` settings. */
export interface RollingSettings {
  /** Ascending percentages of desired, ending at 100, e.g. [25, 50, 100]. */
  steps: number[];
  /** Seconds to watch after each step before the next. */
  stepWatchSeconds: number;
}

/** Validates `steps`: whole percentages 1–100, ascending, ending at 100. */
export function parseSteps(value: unknown, field = 'steps'): number[] {
  const list =
    typeof value === 'string'
      ? value.split(',').map((s) => Number(s.trim()))
      : Array.isArray(value)
        ? value.map((v) => (typeof v === 'string' ? Number(v) : v))
        : undefined;
  if (!list || list.length === 0)
    throw new InputError(field, 'must be a list of percentages of desired capacity ending at 100, e.g. [25, 50, 100]');
  list.forEach((step, index) => {
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 1 || step > 100) {
      throw new InputError(
        `${field}[${index}]`,
        `must be a whole percentage from 1 to 100 (got ${JSON.stringify(value instanceof Array ? value[index] : step)})`,
      );
    }
    if (index > 0 && step <= (list[index - 1] as number))
      throw new InputError(field, `must be ascending (got ${list.join(', ')})`);
  });
  if (list[list.length - 1] !== 100) throw new InputError(field, `must end at 100 (got ${list.join(', ')})`);
  return list as number[];
}

/** Instances for `percent` of `total` (at least one). */
export function stepCount(total: number, percent: number): number {
  return Math.min(total, Math.max(1, Math.ceil((total * percent) / 100)));
}
