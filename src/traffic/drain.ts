import { OperationFailedError } from '../core/errors';
import type { Logger } from '../core/log';
import { pollSchedule } from '../core/poll';
import { stillDraining, type Traffic } from './traffic';

/**
 * Waits until none of `instanceIds` is still registered or draining in the
 * sources (gone or `unused`), i.e. in-flight requests have finished. Bounded
 * by `deadline` (`DrainTimeout`).
 */
export async function waitForDrainedIn(
  traffic: Traffic,
  options: {
    instanceIds: readonly string[];
    targetGroupArns: readonly string[];
    deadline: number;
    log: Logger;
    label: string;
  },
): Promise<void> {
  const ids = new Set(options.instanceIds);
  const schedule = pollSchedule(options.deadline);
  let last = -1;
  for (;;) {
    const remaining = stillDraining(await traffic.health(options.targetGroupArns), ids);
    if (remaining !== last) {
      options.log.info(
        remaining === 0 ? `${options.label}: drained` : `${options.label}: ${remaining} target(s) still draining`,
      );
      last = remaining;
    }
    if (remaining === 0) return;
    if (!(await schedule.next())) {
      throw new OperationFailedError(
        'DrainTimeout',
        `${options.label}: ${remaining} target(s) still draining at the deadline`,
      );
    }
  }
}
