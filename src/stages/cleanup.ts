import type { Options } from 'yargs';
import { parseDuration } from '../core/duration';
import { resolveClusterName } from '../core/naming';
import { checkInteger } from '../core/validate';
import { whoAmI } from '../deploy/journal';
import { lockAndRecover } from '../deploy/recovery';
import { parseLockOptions } from '../deploy/request';
import { newDeploymentId } from '../ledger/deployment-id';
import { LEDGER_OPTIONS, parseLedgerRef, type LedgerRef } from '../ledger/ledger-ref';
import { CLUSTER_OPTIONS } from './cluster-options';
import { DEPLOY_OPTIONS } from './deploy';
import { clusterRunDeadlineSeconds } from '../core/run-scope';
import type { StageDefinition } from './framework';

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

const pick = (keys: string[]): Record<string, Options> => Object.fromEntries(keys.map((k) => [k, DEPLOY_OPTIONS[k] as Options]));

/**
 * `cleanup`: under the cluster lock, settles what deploys left for later —
 * scale-downs whose warm window has ended, deployments interrupted by a crash,
 * pinned mins, orphan launch templates. A scheduled job can run it, so a
 * deploy never holds an executor through the warm window.
 */
export const cleanupStage: StageDefinition<CleanupInput, CleanupOutput> = {
  name: 'cleanup',
  describe: 'Scale down disabled groups whose warm window ended and settle interrupted deployments (under the cluster lock)',
  options: {
    ...CLUSTER_OPTIONS,
    ...LEDGER_OPTIONS,
    ...pick(['keepPrevious', 'scaleDownDelay', 'healthTimeout', 'drainTimeout', 'breakExpiredLock', 'lockLease', 'lockWait']),
  },
  validate: (raw, region) => ({
    cluster: resolveClusterName(raw).name,
    region,
    ledger: parseLedgerRef(raw.ledger),
    keepPrevious: raw.keepPrevious === undefined ? 2 : checkInteger('keepPrevious', raw.keepPrevious, 0, 50),
    scaleDownDelaySeconds: raw.scaleDownDelay === undefined ? 0 : parseDuration('scaleDownDelay', raw.scaleDownDelay),
    healthTimeoutSeconds: raw.healthTimeout === undefined ? 600 : parseDuration('healthTimeout', raw.healthTimeout),
    ...(raw.drainTimeout !== undefined ? { drainTimeoutSeconds: parseDuration('drainTimeout', raw.drainTimeout) } : {}),
    ...parseLockOptions(raw),
  }),
  runDeadlineSeconds: (input) => clusterRunDeadlineSeconds(input),
  async run(input, { aws, log }) {
    const clients = aws();
    const { session, recovered: actions } = await lockAndRecover(clients, { ...input, owner: whoAmI(), deploymentId: newDeploymentId(), log });
    try {
      log.info(actions.length > 0 ? `cleanup of ${input.cluster}: ${actions.join('; ')}` : `cleanup of ${input.cluster}: nothing to do`);
      return { cluster: input.cluster, region: input.region, actions };
    } finally {
      await session.close();
    }
  },
};
