import { resolveClusterName } from '../core/naming';
import { parseRollbackTarget, type RollbackRequest } from '../rollback/request';
import { rollbackDeploy } from '../rollback/rollback';
import { clusterRunDeadlineSeconds } from '../core/run-scope';
import { ledgerExitCode } from '../ledger/ledger-writer';
import { defineStage } from './framework';
import { definedOnly } from './inputs/declare';
import { ROLLBACK_STAGE } from './list';

/** `rollback`: re-enable the previous (or a named) server group, or redeploy its AMI when it is gone. */
export const rollbackStage = defineStage(ROLLBACK_STAGE, {
  validate: (inputs, region): RollbackRequest => {
    const cluster = resolveClusterName(inputs);
    return {
      cluster,
      region,
      to: parseRollbackTarget(inputs.to, cluster.name),
      ...(inputs.reason ? { reason: inputs.reason } : {}),
      ...(inputs.approvedBy ? { approvedBy: inputs.approvedBy } : {}),
      build: definedOnly({ buildUrl: inputs.buildUrl }),
      healthTimeoutSeconds: inputs.healthTimeout,
      ...(inputs.drainTimeout !== undefined ? { drainTimeoutSeconds: inputs.drainTimeout } : {}),
      keepPrevious: inputs.keepPrevious,
      scaleDownDelaySeconds: inputs.scaleDownDelay,
      ledger: inputs.ledger,
      plan: inputs.plan,
      breakExpiredLock: inputs.breakExpiredLock,
      lockLeaseSeconds: inputs.lockLease,
      lockWaitSeconds: inputs.lockWait,
      verify: { alarms: inputs.alarms ?? [], watchSeconds: inputs.watch, gates: inputs.gates },
    };
  },
  runDeadlineSeconds: (request) => clusterRunDeadlineSeconds(request),
  run: (request, { aws, log }) => rollbackDeploy(aws(), request, log),
  // Rolled back, but the ledger is short of a record: a human should look (docs/failure-modes.md).
  exitCodeFor: ledgerExitCode,
});
