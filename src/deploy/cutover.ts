import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { failpoint } from '../core/failpoint';
import type { Logger } from '../core/log';
import { Phase } from '../cluster/phases';
import { loadCluster } from '../cluster/server-groups';
import { disableCluster } from './operations/disable-cluster';
import { scaleDownCluster } from './operations/scale-down-cluster';
import { shrinkCluster } from './operations/shrink-cluster';
import { setGroupTags, unpinMin } from './server-group-ops';

/** Options of {@link finishCutover}. */
export interface CutoverOptions {
  cluster: string;
  newServerGroup: string;
  /** The min the new group ends with (it was pinned to desired). */
  newMin: number;
  scaleDownDelaySeconds: number;
  keepPrevious: number;
  drainTimeoutSeconds?: number;
  log: Logger;
}

/** What {@link finishCutover} did. */
export interface CutoverResult {
  disabled: string[];
  scaledDown: string[];
  warm: string[];
  destroyed: string[];
  /** When disabling the old groups started and ended (epoch ms). */
  disableStartedAt: number;
  disabledAt: number;
}

/**
 * The end of red/black, once the new group is healthy, from live state so
 * that crash recovery can run it too: disable cluster (every other group out
 * of traffic), phase `finishing`, scale down cluster (now, or after the warm
 * window), unpin the new group's min, shrink cluster (beyond keepPrevious),
 * phase `done`. Deploy, re-enable and recovery all end this way.
 */
export async function finishCutover(aws: AwsClients, options: CutoverOptions): Promise<CutoverResult> {
  const { log } = options;
  const { groups, health } = await loadCluster(aws, options.cluster);
  const others = groups.filter((g) => g.name !== options.newServerGroup);
  const disabled = await disableCluster(aws, {
    groups,
    health,
    serving: options.newServerGroup,
    scaleDownDelaySeconds: options.scaleDownDelaySeconds,
    ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
    log,
  });
  failpoint('after-disable');
  await setGroupTags(aws, options.newServerGroup, { [Tag.phase]: Phase.finishing });
  failpoint('before-scale-down');
  // Groups just disabled are due when the warm window ends; older ones when their tag says.
  const { scaledDown, warm } = await scaleDownCluster(aws, {
    groups: others,
    dueOf: (group) => (disabled.disabled.includes(group) ? disabled.scaleDownAfter : group.tags[Tag.scaleDownAfter]),
    log,
  });
  await unpinMin(aws, options.newServerGroup, options.newMin);
  const destroyed = await shrinkCluster(aws, {
    cluster: options.cluster,
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
    disableStartedAt: disabled.startedAt,
    disabledAt: disabled.finishedAt,
  };
}
