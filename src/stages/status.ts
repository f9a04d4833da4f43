import { resolveClusterName } from '../core/naming';
import { formatHistory } from '../ledger/format';
import { ledgerAws, listRecords } from '../ledger/ledger';
import type { LedgerRef } from '../ledger/ledger-ref';
import { publicLockStatus, readLock, type LockStatus } from '../ledger/lock';
import type { LedgerRecord } from '../ledger/record';
import { formatClusterStatus, getClusterStatus, type ClusterStatus } from '../status/cluster-status';
import { defineStage } from './framework';
import { STATUS_STAGE } from './list';

interface StatusInput {
  cluster: string;
  /** Whose lock is read: each region has its own. */
  region: string;
  ledger: LedgerRef | undefined;
}

/** The `status` output: server groups from live AWS; with a ledger, also its lock and last deployments. */
export interface StatusOutput extends ClusterStatus {
  lock: Omit<LockStatus, 'etag'> | null;
  deployments: LedgerRecord[];
}

/** Ledger records shown by status. */
const LAST_DEPLOYMENTS = 5;

/** `status`: the server groups of a cluster, read from live AWS (no cache). */
export const statusStage = defineStage(STATUS_STAGE, {
  validate: (inputs, region): StatusInput => ({
    cluster: resolveClusterName(inputs).name,
    region,
    ledger: inputs.ledger,
  }),
  async run(input, { aws, log }): Promise<StatusOutput> {
    const status = await getClusterStatus(aws(), input.cluster);
    log.info(formatClusterStatus(status));
    if (!input.ledger) return { ...status, lock: null, deployments: [] };
    const ledger = ledgerAws(input.ledger, aws());
    const [deployments, lock] = await Promise.all([
      listRecords(ledger, input.ledger, input.cluster, { limit: LAST_DEPLOYMENTS, log }),
      readLock(ledger, input.ledger, input.cluster, { region: input.region }),
    ]);
    log.info(formatHistory(input.cluster, deployments, lock));
    return { ...status, lock: publicLockStatus(lock), deployments };
  },
});
