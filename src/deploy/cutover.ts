import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { failpoint } from '../core/failpoint';
import type { Logger } from '../core/log';
import { Phase } from '../cluster/phases';
import { loadCluster, type ServerGroup, type TargetHealthByGroup } from '../cluster/server-groups';
import { disableCluster } from './operations/disable-cluster';
import { scaleDownCluster } from './operations/scale-down-cluster';
import { shrinkCluster } from './operations/shrink-cluster';
import { removeGroupTags, setGroupTags, unpinMin } from './server-group-ops';

/** Options of {@link finishCutover}. */
export interface CutoverOptions {
  cluster: string;
  newServerGroup: string;
  /** The min the new group ends with (it was pinned to desired). */
  newMin: number;
  scaleDownDelaySeconds: number;
  keepPrevious: number;
  drainTimeoutSeconds?: number;
  /**
   * The cluster as the poll that proved the new group healthy saw it: acted
   * on as is, so the cutover starts without reloading it. Loaded afresh when absent.
   */
  state?: { groups: readonly ServerGroup[]; health: TargetHealthByGroup };
  /**
   * Tags for the new group written in the same call as the old groups'
   * scale-down times, before any of them is disabled (red/black's `cutover`
   * phase; failpoint `cutover-started` right after).
   */
  newGroupTags?: Record<string, string>;
  /** Asked once the old groups are out of service: a reason to keep them running instead of scaling them down. */
  holdScaleDown?: () => Promise<string | undefined>;
  /** Run once the old groups are out of service, before anything scales them down: the watch (throws on a breach, after rolling back). */
  watch?: (disabled: ServerGroup[]) => Promise<void>;
  log: Logger;
}

/** What {@link finishCutover} did. */
export interface CutoverResult {
  disabled: string[];
  scaledDown: string[];
  warm: string[];
  destroyed: string[];
  /** What the run did not do as usual, and why (e.g. old groups kept running). */
  warnings: string[];
  /** When disabling the old groups started and ended (epoch ms). */
  disableStartedAt: number;
  disabledAt: number;
}

/**
 * The end of red/black, once the new group is healthy, from live state so
 * that crash recovery can run it too: disable cluster (every other group out
 * of traffic), phase `finishing`, scale down cluster (now, or by a scheduled
 * action once the drain and the warm window are over), unpin the new group's
 * min, shrink cluster (beyond keepPrevious), phase `done`. Without a watch or
 * a health hold it does not wait for the drain: it returns at cutover. Deploy,
 * re-enable and recovery all end this way.
 */
export async function finishCutover(aws: AwsClients, options: CutoverOptions): Promise<CutoverResult> {
  const { log } = options;
  const { groups, health } = options.state ?? (await loadCluster(aws, options.cluster));
  const others = groups.filter((g) => g.name !== options.newServerGroup);
  const disabled = await disableCluster(aws, {
    groups,
    health,
    serving: options.newServerGroup,
    ...(options.newGroupTags
      ? { servingTags: options.newGroupTags, onTagged: () => failpoint('cutover-started') }
      : {}),
    scaleDownDelaySeconds: options.scaleDownDelaySeconds,
    ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
    // The run returns at cutover: the drain ends without it (scheduled scale-down). A watch or a health hold still waits.
    drain: options.watch || options.holdScaleDown ? 'wait' : 'return',
    log,
  });
  failpoint('after-disable');
  if (options.watch) await options.watch(disabled.disabled);
  await setGroupTags(aws, options.newServerGroup, { [Tag.phase]: Phase.finishing });
  failpoint('before-scale-down');
  const warnings: string[] = [];
  const held = disabled.disabled.length > 0 && options.holdScaleDown ? await options.holdScaleDown() : undefined;
  const kept: string[] = [];
  if (held) {
    warnings.push(held);
    log.warn(held);
    for (const group of disabled.disabled) {
      // Kept running with no deadline: nothing may scale it down while the new group is not fully healthy.
      await removeGroupTags(aws, group.name, [Tag.scaleDownAfter]);
      const pinned = group.tags[Tag.pinnedFrom];
      if (pinned !== undefined) await unpinMin(aws, group.name, Number(pinned) || 0);
      kept.push(group.name);
    }
  }
  // Groups just disabled are due when the warm window ends; older ones when their tag says.
  const scaled = await scaleDownCluster(aws, {
    groups: others.filter((g) => !kept.includes(g.name)),
    dueOf: (group) => (disabled.disabled.includes(group) ? disabled.scaleDownAfter : group.tags[Tag.scaleDownAfter]),
    log,
  });
  const scaledDown = scaled.scaledDown;
  const warm = [...kept, ...scaled.warm];
  await unpinMin(aws, options.newServerGroup, options.newMin);
  const destroyed = await shrinkCluster(aws, {
    cluster: options.cluster,
    // The groups as this run left them: those it disabled are out of service now.
    groups: groups.map((g) => (disabled.disabled.includes(g) ? { ...g, enabled: false } : g)),
    serving: options.newServerGroup,
    keepPrevious: options.keepPrevious,
    spare: warm,
    log,
  });
  await setGroupTags(aws, options.newServerGroup, { [Tag.phase]: Phase.done });
  return {
    disabled: disabled.disabled.map((g) => g.name),
    scaledDown,
    warm,
    destroyed,
    warnings,
    disableStartedAt: disabled.startedAt,
    disabledAt: disabled.finishedAt,
  };
}
