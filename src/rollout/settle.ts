import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { loadCluster } from '../cluster/server-groups';
import type { Logger } from '../core/log';
import { whoAmI } from '../deploy/journal';
import { lockAndRecover } from '../deploy/recovery';
import { scaleDownCluster } from '../deploy/operations/scale-down-cluster';
import { setGroupTags } from '../deploy/server-group-ops';
import type { DeployRequest } from '../deploy/request';
import { newDeploymentId } from '../ledger/deployment-id';

/**
 * The end of a rollout in one region that kept its new release: the previous
 * group was kept warm for the whole rollout (so a later region's failure could
 * put this one back in seconds); now its warm window is the deploy's own
 * `scaleDownDelay` from `deployedAt`, and it is scaled down when that has passed.
 */
export async function settleWarmGroup(
  aws: AwsClients,
  request: DeployRequest,
  previous: string,
  deployedAt: Date,
  log: Logger,
): Promise<{ scaledDown: string[]; warm: string[] }> {
  const { session } = await lockAndRecover(aws, {
    ...request,
    cluster: request.cluster.name,
    owner: whoAmI(request.build.buildUrl),
    deploymentId: newDeploymentId(),
    log,
  });
  try {
    const { groups } = await loadCluster(aws, request.cluster.name);
    const group = groups.find((candidate) => candidate.name === previous && !candidate.enabled);
    if (!group) return { scaledDown: [], warm: [] };
    const due = new Date(deployedAt.getTime() + request.scaleDownDelaySeconds * 1000).toISOString();
    await setGroupTags(aws, previous, { [Tag.scaleDownAfter]: due });
    return await scaleDownCluster(aws, { groups: [group], dueOf: () => due, log });
  } finally {
    await session.close();
  }
}
