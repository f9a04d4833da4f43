import type { AwsClients } from '../../aws/clients';
import type { Logger } from '../../core/log';
import { clusterApisOf, type ClusterApis } from '../../cluster/server-group-api';
import { waitForHealthyTargets } from '../health';
import { destroyServerGroup, type GroupToDestroy } from '../server-group-ops';

/**
 * What the operations that undo a deploy take: the narrow cluster and traffic
 * interfaces, deleting a group with what it owns, and the health wait. The
 * real ones: {@link operationPortsOf}; an in-memory cluster in fast tests.
 */
export interface OperationPorts extends ClusterApis {
  /** Deletes a server group, its launch template when ours and its copied alarms (`destroyServerGroup`). */
  destroy(group: GroupToDestroy): Promise<void>;
  /** Every instance of the group InService and healthy in every source; throws at the deadline. */
  untilHealthy(options: {
    groupName: string;
    targetGroupArns: readonly string[];
    deadline: number;
    since: Date;
    log: Logger;
  }): Promise<void>;
}

/** The real {@link OperationPorts} of a region's clients. */
export function operationPortsOf(aws: AwsClients): OperationPorts {
  return {
    ...clusterApisOf(aws),
    destroy: (group) => destroyServerGroup(aws, group),
    untilHealthy: async (options) => {
      await waitForHealthyTargets(aws, { ...options, targetHealthyPercent: 100 });
    },
  };
}
