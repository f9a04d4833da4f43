import { resolveClusterName } from '../core/naming';
import { checkInteger } from '../core/validate';
import { formatHistory } from '../ledger/format';
import { ledgerAws, listRecords } from '../ledger/ledger';
import { LEDGER_OPTIONS, parseLedgerRef, type LedgerRef } from '../ledger/ledger-ref';
import { publicLockStatus, readLock, type LockStatus } from '../ledger/lock';
import type { LedgerRecord } from '../ledger/record';
import { CLUSTER_OPTIONS } from './cluster-options';
import type { StageDefinition } from './framework';

interface HistoryInput {
  cluster: string;
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

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 1000;

/** `history`: the deployment ledger of a cluster (last N records) and who holds its lock. */
export const historyStage: StageDefinition<HistoryInput, HistoryOutput> = {
  name: 'history',
  describe: 'Show the last deployments, rollbacks and recoveries of a cluster from the S3 ledger, and its lock',
  options: {
    ...CLUSTER_OPTIONS,
    ...LEDGER_OPTIONS,
    limit: { describe: `How many records, newest first (1-${MAX_LIMIT}, default ${DEFAULT_LIMIT})` },
  },
  validate: (raw) => ({
    cluster: resolveClusterName(raw).name,
    ledger: parseLedgerRef(raw.ledger),
    limit: raw.limit === undefined ? DEFAULT_LIMIT : checkInteger('limit', raw.limit, 1, MAX_LIMIT),
  }),
  async run(input, { aws: clients, log }) {
    const aws = ledgerAws(input.ledger, clients());
    const [records, lock] = await Promise.all([
      listRecords(aws, input.ledger, input.cluster, { limit: input.limit, log }),
      readLock(aws, input.ledger, input.cluster),
    ]);
    log.info(formatHistory(input.cluster, records, lock));
    return { cluster: input.cluster, ledger: input.ledger, records, lock: publicLockStatus(lock) };
  },
};
