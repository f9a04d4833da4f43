import type { AwsClients } from '../../aws/clients';
import { Tag } from '../../aws/tags';
import type { Logger } from '../../core/log';
import type { ServerGroup } from '../../cluster/server-groups';
import { removeGroupTags } from '../server-group-ops';
import { operationPortsOf } from './ports';
import { restorePrevious } from './restore-previous';

/**
 * A deploy killed during its watch left the new group serving (phase
 * `watching`) and the previous one disabled at full capacity. The verdict is
 * unknown, and "a bad build never stays" wins over "a good build stays": the
 * interrupted watch counts as not passed, so the next run re-enables the
 * previous group while it still runs at full capacity (seconds: its instances
 * are there) and removes the new one. Once the previous group is gone or
 * scaled in, there is nothing warm to go back to: the new group is finished
 * as a cut-over group (returns undefined).
 *
 * A rollback killed during its watch is finished instead (the restored group
 * keeps serving): the run was started to leave the group that served before
 * it, so putting that one back unattended would undo the operator's decision
 * on no evidence.
 */

/** Disabled groups at full capacity that the interrupted cutover took out of service (they carry its warm-window tag). */
export function warmPreviousGroups(groups: readonly ServerGroup[], watched: ServerGroup): ServerGroup[] {
  return groups.filter(
    (g) =>
      g.name !== watched.name &&
      !g.enabled &&
      g.tags[Tag.scaleDownAfter] !== undefined &&
      g.capacity.desired > 0 &&
      g.instances.filter((i) => i.lifecycleState === 'InService').length >= g.capacity.desired,
  );
}

/** Options of {@link settleInterruptedWatch}. */
export interface SettleWatchOptions {
  watched: ServerGroup;
  groups: readonly ServerGroup[];
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  /** The run is a rollback: it re-enables the previous group itself; only the watch marks are cleared here. */
  rollingBack?: boolean;
  log: Logger;
}

/** What was done with an interrupted watch (one line), and the groups a rollback must find running; undefined: finish the cutover instead. */
export async function settleInterruptedWatch(
  aws: AwsClients,
  options: SettleWatchOptions,
): Promise<{ action: string; keepRunning: string[] } | undefined> {
  const { watched, log } = options;
  if (watched.tags[Tag.watchedBy] === 'rollback') {
    log.warn(
      `${watched.name}: the watch of the rollback that restored it was interrupted (verdict unknown): finishing the rollback, ` +
        'as the group it rolled away from is the suspect; check its alarms, and roll back again to undo it',
    );
    await removeGroupTags(aws, watched.name, [Tag.watchUntil, Tag.watchedBy]);
    return undefined;
  }
  const previous = warmPreviousGroups(options.groups, watched);
  if (previous.length === 0) {
    log.warn(
      `${watched.name}: its watch was interrupted and no previous group is warm any more: finishing the cutover`,
    );
    await removeGroupTags(aws, watched.name, [Tag.watchUntil]);
    return undefined;
  }
  const names = previous.map((g) => g.name).join(', ');
  if (options.rollingBack) {
    // The rollback brings the previous group back and takes this one out: clear the watch, keep the previous group's instances.
    await removeGroupTags(aws, watched.name, [Tag.phase, Tag.watchUntil, Tag.watchedBy]);
    log.warn(
      `${watched.name}: its watch was interrupted (verdict unknown): leaving it to this rollback, ${names} kept running`,
    );
    return {
      action: `left ${watched.name} (watch interrupted) for the rollback; ${names} kept running`,
      keepRunning: previous.map((g) => g.name),
    };
  }
  log.warn(
    `${watched.name}: its watch was interrupted (verdict unknown, so not passed): re-enabling ${names}, removing ${watched.name}`,
  );
  await restorePrevious(operationPortsOf(aws), {
    newServerGroup: watched.name,
    previous,
    healthTimeoutSeconds: options.healthTimeoutSeconds,
    ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
    log,
  });
  return { action: `rolled back ${watched.name} (watch interrupted): ${names} re-enabled`, keepRunning: [] };
}
