import { resolveClusterName } from '../core/naming';
import { clusterRunDeadlineSeconds } from '../core/run-scope';
import { abortHeld, promote, type AbortOutput, type HeldDecision } from '../deploy/promote';
import type { DeployOutput } from '../deploy/deploy';
import { ledgerExitCode } from '../ledger/ledger-writer';
import { defineStage } from './framework';
import { definedOnly } from './inputs/declare';
import type { ABORT_INPUTS } from './inputs/held';
import type { ParsedInputs } from './inputs/declare';
import { ABORT_STAGE, PROMOTE_STAGE } from './list';

/** Promote and abort share one decision: the cluster, the group expected, who and why. */
function decisionOf(inputs: ParsedInputs<typeof ABORT_INPUTS>, region: string): HeldDecision {
  return {
    cluster: resolveClusterName(inputs),
    region,
    ledger: inputs.ledger,
    ...definedOnly({ serverGroup: inputs.serverGroup, approvedBy: inputs.approvedBy, reason: inputs.reason }),
    build: definedOnly({ buildUrl: inputs.buildUrl }),
    breakExpiredLock: inputs.breakExpiredLock,
    lockLeaseSeconds: inputs.lockLease,
    lockWaitSeconds: inputs.lockWait,
  };
}

/** The health timeout a held deploy may have asked for (read from its record under the lock, after the deadline is set). */
const HELD_HEALTH_TIMEOUT_BOUND_SECONDS = 3600;

/** The whole-run deadline of a promote or abort: a deploy's, with the longest health wait a held deploy may have. */
const deadline = (decision: HeldDecision) =>
  clusterRunDeadlineSeconds({ ...decision, healthTimeoutSeconds: HELD_HEALTH_TIMEOUT_BOUND_SECONDS });

/** `promote`: a held deploy finished as it was asked. */
export const promoteStage = defineStage(PROMOTE_STAGE, {
  validate: (inputs, region): HeldDecision => ({
    ...decisionOf(inputs, region),
    ...definedOnly({ afterTraffic: inputs.afterTraffic }),
  }),
  runDeadlineSeconds: deadline,
  run: (decision, { aws, log }): Promise<DeployOutput> => promote(aws().forRegion(decision.region), decision, log),
  exitCodeFor: (output) => ledgerExitCode(output),
});

/** `abort`: a held deploy's group removed. */
export const abortStage = defineStage(ABORT_STAGE, {
  validate: (inputs, region): HeldDecision => decisionOf(inputs, region),
  runDeadlineSeconds: deadline,
  run: (decision, { aws, log }): Promise<AbortOutput> => abortHeld(aws().forRegion(decision.region), decision, log),
  exitCodeFor: (output) => ledgerExitCode(output),
});
