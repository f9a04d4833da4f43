import type { AwsClients } from '../../aws/clients';
import { Tag } from '../../aws/tags';
import type { Logger } from '../../core/log';
import type { ServerGroup } from '../../cluster/server-groups';
import { hasWarmPool } from '../fleet-settings';
import { scheduleScaleDown } from '../scheduled-scale-down';
import { apisOf, scaleDownServerGroup, unpinMin } from '../server-group-ops';

/**
 * Spinnaker's "scale down cluster", with bluegreen's warm window: disabled
 * groups go to 0 instances once their `scaleDownAfter` time has come; until
 * then they keep running (a rollback re-enables them without a launch).
 */

/** What to do with one disabled group now. */
export type ScaleDownDecision = 'nothing' | 'scale-down' | 'keep-warm';

/**
 * The decision for one group: nothing when it is already at 0 or has no
 * scale-down time (it was not disabled by us), scale down once its time has
 * come, else keep it warm.
 */
export function scaleDownDecision(
  capacity: ServerGroup['capacity'],
  due: string | undefined,
  now: number,
): ScaleDownDecision {
  if (capacity.desired === 0 && capacity.min === 0) return 'nothing';
  if (!due) return 'nothing';
  return Date.parse(due) <= now ? 'scale-down' : 'keep-warm';
}

/** Options of {@link scaleDownCluster}. */
export interface ScaleDownClusterOptions {
  /** The disabled groups to consider (never the serving one). */
  groups: readonly ServerGroup[];
  /** When each may be scaled down (ISO time); default: its `bluegreen:scale-down-after` tag. */
  dueOf?: (group: ServerGroup) => string | undefined;
  log: Logger;
}

/** What {@link scaleDownCluster} did. */
export interface ScaledDownCluster {
  scaledDown: string[];
  /** Groups left running until their warm window ends. */
  warm: string[];
}

/**
 * Scales down the groups whose time has come and leaves the others warm,
 * each with a scheduled action that scales it down at its time.
 * Any min still pinned by a deploy is restored on both: a warm group is out
 * of service, and its pin must not outlive this run.
 */
export async function scaleDownCluster(aws: AwsClients, options: ScaleDownClusterOptions): Promise<ScaledDownCluster> {
  const { log } = options;
  const dueOf = options.dueOf ?? ((group: ServerGroup) => group.tags[Tag.scaleDownAfter]);
  const scaledDown: string[] = [];
  const warm: string[] = [];
  for (const group of options.groups) {
    const due = dueOf(group);
    const decision = scaleDownDecision(group.capacity, due, Date.now());
    if (decision === 'scale-down') {
      await scaleDownServerGroup(aws, group.name, [Tag.pinnedFrom], { warmPool: hasWarmPool(group.asg) });
      scaledDown.push(group.name);
      log.info(`${group.name}: scaled to 0 (disabled; re-enable it with a rollback)`);
    } else if (decision === 'keep-warm') {
      warm.push(group.name);
      const pinned = group.tags[Tag.pinnedFrom];
      if (pinned !== undefined) {
        await unpinMin(aws, group.name, Number(pinned) || 0);
        log.debug(`${group.name}: min restored to ${Number(pinned) || 0}`);
      }
      // Nothing has to run at that time: AWS scales it down (scheduled action), the tag stays for the next run.
      const at = await scheduleScaleDown(aws, group.name, Date.parse(due as string));
      // A disabled group never scales out (Launch suspended): its warm pool goes now, not with the action
      // no run watches; a rollback's re-enable gives it the serving group's pool back.
      if (hasWarmPool(group.asg)) await apisOf(aws).groups.deleteWarmPool(group.name);
      log.info(
        `${group.name}: disabled, kept running until ${due} (drain, scaleDownDelay); scheduled to scale to 0 at ${at.toISOString()}`,
      );
    }
  }
  return { scaledDown, warm };
}
