import { resolveClusterName } from '../core/naming';
import { formatClusterStatus, getClusterStatus, type ClusterStatus } from '../status/cluster-status';
import { CLUSTER_OPTIONS } from './cluster-options';
import type { StageDefinition } from './framework';

interface StatusInput {
  cluster: string;
}

/** `status`: the server groups of a cluster, read from live AWS. */
export const statusStage: StageDefinition<StatusInput, ClusterStatus> = {
  name: 'status',
  describe: 'Show the server groups of a cluster: AMI, enabled/disabled, capacity, healthy targets',
  options: { ...CLUSTER_OPTIONS },
  validate: (raw) => ({ cluster: resolveClusterName(raw).name }),
  async run(input, { aws, log }) {
    const status = await getClusterStatus(aws(), input.cluster);
    log.info(formatClusterStatus(status));
    return status;
  },
};
