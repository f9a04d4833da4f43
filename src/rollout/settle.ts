import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { loadCluster } from '../cluster/server-groups';
import type { Logger } from '../core/log';
import { whoAmI } from '../deploy/journal';
import { lockAndRecover } from '../deploy/recovery';
import { scaleDownCluster } from '../deploy/operations/scale-down-cluster';
import { endRolloutWatch, startRolloutWatch, watchingRollout } from '../deploy/rollout-watch';
import { setGroupTags } from '../deploy/server-group-ops';
import type { DeployRequest } from '../deploy/request';
import { newDeploymentId } from '../ledger/deployment-id';

/**
 * What a rollout does to a region between its deploy and the rollout's end,
 * each under the region's lock: put the new group under the rollout's watch
 * while later waves run, and settle the region when the rollout has decided.
 */

/** Runs `work` holding the region's lock (a region's deploy may have ended; nothing else may change it meanwhile). */
async function underRegionLock<T>(
  aws: AwsClients,
  request: DeployRequest,
  log: Logger,
  work: () => Promise<T>,
): Promise<T> {
  const { session } = await lockAndRecover(aws, {
    ...request,
    cluster: request.cluster.name,
    owner: whoAmI(request.build.buildUrl),
    deploymentId: newDeploymentId(),
    log,
  });
  try {
    return await work();
  } finally {
    await session.close();
  }
}

/** A region done while later waves run: its new group waits for the rollout's verdict (see src/deploy/rollout-watch.ts). */
export async function watchUntilRolloutEnds(
  aws: AwsClients,
  request: DeployRequest,
  newServerGroup: string,
  rolloutId: string,
  log: Logger,
): Promise<void> {
  await underRegionLock(aws, request, log, () => startRolloutWatch(aws, newServerGroup, rolloutId));
}

/** Ends the rollout's watch of the region's new group, if it is under it; the region's groups. */
async function endWatchOf(aws: AwsClients, request: DeployRequest, newServerGroup: string) {
  const { groups } = await loadCluster(aws, request.cluster.name);
  const group = groups.find((candidate) => candidate.name === newServerGroup);
  if (group && watchingRollout(group) !== undefined) await endRolloutWatch(aws, newServerGroup);
  return groups;
}

/** A region the rollout put back: its (now disabled) new group is no longer under the rollout's watch. */
export async function releaseFromRollout(
  aws: AwsClients,
  request: DeployRequest,
  newServerGroup: string,
  log: Logger,
): Promise<void> {
  await underRegionLock(aws, request, log, () => endWatchOf(aws, request, newServerGroup));
}

/**
 * The end of a rollout in one region that kept its new release: the rollout's
 * watch of the new group ends, and the previous group, kept warm for the whole
 * rollout (so a later region's failure could put this one back in seconds), gets
 * the deploy's own `scaleDownDelay` from `deployedAt` as its warm window, and is
 * scaled down when that has passed.
 */
export async function settleWarmGroup(
  aws: AwsClients,
  request: DeployRequest,
  newServerGroup: string,
  previous: string | null,
  deployedAt: Date,
  log: Logger,
): Promise<{ scaledDown: string[]; warm: string[] }> {
  return underRegionLock(aws, request, log, async () => {
    const groups = await endWatchOf(aws, request, newServerGroup);
    if (!previous) return { scaledDown: [], warm: [] };
    const group = groups.find((candidate) => candidate.name === previous && !candidate.enabled);
    if (!group) return { scaledDown: [], warm: [] };
    const due = new Date(deployedAt.getTime() + request.scaleDownDelaySeconds * 1000).toISOString();
    await setGroupTags(aws, previous, { [Tag.scaleDownAfter]: due });
    return await scaleDownCluster(aws, { groups: [group], dueOf: () => due, log });
  });
}
