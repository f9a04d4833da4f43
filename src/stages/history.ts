import { resolveClusterName } from '../core/naming';
import { formatHistory } from '../ledger/format';
import { ledgerAws, listRecords } from '../ledger/ledger';
import type { LedgerRef } from '../ledger/ledger-ref';
import { publicLockStatus, readLock, type LockStatus } from '../ledger/lock';
import type { LedgerRecord } from '../ledger/record';
import { defineStage } from './framework';
import { HISTORY_STAGE } from './list';

interface HistoryInput {
  cluster: string;
  /** Whose lock is read: each region has its own. */
  region: string;
  ledger: LedgerRef;
  limit: number;
}

/** The `history` output: the last records of a cluster, newest first, and its lock. */
export interface HistoryOutput {
  cluster: string;
  ledger: LedgerRef;
  records: LedgerRecord[];
  /** The cluster lock, or null when free. */
  lock: Omit<LockStatus, 'etag'> | null;
}

/** `history`: the deployment ledger of a cluster (last N records) and who holds its lock. */
export const historyStage = defineStage(HISTORY_STAGE, {
  validate: (inputs, region): HistoryInput => ({
    region,
    cluster: resolveClusterName(inputs).name,
    ledger: inputs.ledger,
    limit: inputs.limit,
  }),
  async run(input, { aws: clients, log }): Promise<HistoryOutput> {
    const aws = ledgerAws(input.ledger, clients());
    const [records, lock] = await Promise.all([
      listRecords(aws, input.ledger, input.cluster, { limit: input.limit, log }),
      readLock(aws, input.ledger, input.cluster, { region: input.region }),
    ]);
    log.info(formatHistory(input.cluster, records, lock));
    return { cluster: input.cluster, ledger: input.ledger, records, lock: publicLockStatus(lock) };
  },
});
