import type { Options } from 'yargs';
import { parseRollbackRequest, type RollbackRequest } from '../rollback/request';
import { rollbackDeploy, type RollbackOutput } from '../rollback/rollback';
import { ledgerExitCode } from '../ledger/ledger-writer';
import { CLUSTER_OPTIONS } from './cluster-options';
import { DEPLOY_OPTIONS } from './deploy';
import { clusterRunDeadlineSeconds } from '../core/run-scope';
import type { StageDefinition } from './framework';

/** Rollback inputs as flags (the same camelCase keys as the JSON input). */
export const ROLLBACK_OPTIONS: Record<string, Options> = {
  ...CLUSTER_OPTIONS,
  to: {
    type: 'string',
    describe: 'Where to go: "previous" (default: the release deployed before the current one), a server group (web-prod-v003), a version or deployment id from the ledger, or an AMI id',
  },
  reason: { type: 'string', describe: 'Why (recorded in the ledger)' },
  ledger: DEPLOY_OPTIONS.ledger as Options,
  buildUrl: { type: 'string', describe: 'Build URL of this rollback run (Jenkins BUILD_URL), recorded in the ledger' },
  healthTimeout: { type: 'string', describe: 'How long to wait for the restored group to be healthy: 600, "90s", "15m" (default 10m)' },
  drainTimeout: DEPLOY_OPTIONS.drainTimeout as Options,
  keepPrevious: DEPLOY_OPTIONS.keepPrevious as Options,
  scaleDownDelay: { type: 'string', describe: 'Keep the group rolled back from running (disabled) this long, to roll forward fast (default 0)' },
  config: DEPLOY_OPTIONS.config as Options,
  plan: { type: 'boolean', describe: 'Print where the rollback would go and how, change nothing' },
  breakExpiredLock: DEPLOY_OPTIONS.breakExpiredLock as Options,
  lockLease: DEPLOY_OPTIONS.lockLease as Options,
  lockWait: DEPLOY_OPTIONS.lockWait as Options,
};

/** `rollback`: re-enable the previous (or a named) server group, or redeploy its AMI when it is gone. */
export const rollbackStage: StageDefinition<RollbackRequest, RollbackOutput> = {
  name: 'rollback',
  describe: 'Roll a cluster back: re-enable the previous (or a named) server group, or redeploy its AMI red/black when the group is gone',
  options: ROLLBACK_OPTIONS,
  validate: (raw, region) => parseRollbackRequest(raw, region),
  runDeadlineSeconds: (request) => clusterRunDeadlineSeconds(request),
  run: (request, { aws, log }) => rollbackDeploy(aws(), request, log),
  // Rolled back, but the ledger is short of a record: a human should look (docs/failure-modes.md).
  exitCodeFor: ledgerExitCode,
};
