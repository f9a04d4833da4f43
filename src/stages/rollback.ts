import { resolveClusterName } from '../core/naming';
import { parseRollbackTarget, type RollbackRequest } from '../rollback/request';
import { ExitCode } from '../core/errors';
import { rollbackDeploy, type RollbackOutput } from '../rollback/rollback';
import { rollbackRollout, rolloutIdOf, type RolloutRollbackOutput } from '../rollout/rollback-rollout';
import { clusterRunDeadlineSeconds } from '../core/run-scope';
import { ledgerExitCode } from '../ledger/ledger-writer';
import { defineStage } from './framework';
import { definedOnly } from './inputs/declare';
import { ROLLBACK_STAGE } from './list';

/** `rollback`: re-enable the previous (or a named) server group, or redeploy its AMI when it is gone. */
export const rollbackStage = defineStage(ROLLBACK_STAGE, {
  validate: (inputs, region): RollbackRequest & { regions?: string[]; rolloutId?: string } => {
    const cluster = resolveClusterName(inputs);
    const request: RollbackRequest = {
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
    // A rollout id in `to` with regions: every region back on what it served before that rollout.
    return inputs.regions ? { ...request, regions: inputs.regions, rolloutId: rolloutIdOf(request) } : request;
  },
  runDeadlineSeconds: (request) => clusterRunDeadlineSeconds(request),
  run: (request, { aws, log }): Promise<RollbackOutput | RolloutRollbackOutput> => {
    const { regions, rolloutId, ...single } = request;
    if (regions && rolloutId)
      return rollbackRollout((region) => aws().forRegion(region), single, rolloutId, regions, log);
    return rollbackDeploy(aws(), single, log);
  },
  // Rolled back, but the ledger is short of a record: a human should look (docs/failure-modes.md).
  exitCodeFor: (output) =>
    'rolloutId' in output
      ? output.regions.some((r) => r.status === 'failed')
        ? ExitCode.failed
        : ExitCode.ok
      : ledgerExitCode(output),
});
