import { resolveClusterName } from '../core/naming';
import { whoAmI } from '../deploy/journal';
import { lockAndRecover } from '../deploy/recovery';
import { newDeploymentId } from '../ledger/deployment-id';
import type { LedgerRef } from '../ledger/ledger-ref';
import { defineStage } from './framework';
import { CLEANUP_STAGE } from './list';
import { clusterRunDeadlineSeconds } from '../core/run-scope';

interface CleanupInput {
  cluster: string;
  region: string;
  ledger: LedgerRef;
  keepPrevious: number;
  scaleDownDelaySeconds: number;
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  breakExpiredLock: boolean;
  lockLeaseSeconds: number;
  lockWaitSeconds: number;
}

/** The `cleanup` output. */
export interface CleanupOutput {
  cluster: string;
  region: string;
  /** What was done, one line each (empty when the cluster was settled). */
  actions: string[];
}

/**
 * `cleanup`: under the cluster lock, settles what deploys left for later —
 * scale-downs whose warm window has ended, deployments interrupted by a crash,
 * pinned mins, orphan launch templates. A scheduled job can run it, so a
 * deploy never holds an executor through the warm window.
 */
export const cleanupStage = defineStage(CLEANUP_STAGE, {
  validate: (inputs, region): CleanupInput => ({
    cluster: resolveClusterName(inputs).name,
    region,
    ledger: inputs.ledger,
    keepPrevious: inputs.keepPrevious,
    scaleDownDelaySeconds: inputs.scaleDownDelay,
    healthTimeoutSeconds: inputs.healthTimeout,
    ...(inputs.drainTimeout !== undefined ? { drainTimeoutSeconds: inputs.drainTimeout } : {}),
    breakExpiredLock: inputs.breakExpiredLock,
    lockLeaseSeconds: inputs.lockLease,
    lockWaitSeconds: inputs.lockWait,
  }),
  runDeadlineSeconds: (input) => clusterRunDeadlineSeconds(input),
  async run(input, { aws, log }): Promise<CleanupOutput> {
    const clients = aws();
    const { session, recovered: actions } = await lockAndRecover(clients, {
      ...input,
      owner: whoAmI(),
      deploymentId: newDeploymentId(),
      // A held group waits for promote or abort: cleanup says so and leaves it.
      held: 'report',
      log,
    });
    try {
      log.info(
        actions.length > 0
          ? `cleanup of ${input.cluster}: ${actions.join('; ')}`
          : `cleanup of ${input.cluster}: nothing to do`,
      );
      return { cluster: input.cluster, region: input.region, actions };
    } finally {
      await session.close();
    }
  },
});
