import { resolveClusterName } from '../core/naming';
import { clusterRunDeadlineSeconds } from '../core/run-scope';
import { abortHeld, promote, type AbortOutput, type HeldDecision } from '../deploy/promote';
import type { DeployOutput } from '../deploy/deploy';
import { ledgerExitCode } from '../ledger/ledger-writer';
import { checkRegionsDecision, decideHeldRollout, type HeldRolloutOutput } from '../rollout/held-rollout';
import { defineStage } from './framework';
import { definedOnly, type ParsedInputs } from './inputs/declare';
import type { ABORT_INPUTS } from './inputs/held';
import { ABORT_STAGE, PROMOTE_STAGE } from './list';

/** A decision on one region's held deploy, or on every region of a held rollout (`regions`, in wave order). */
type HeldStageRequest = HeldDecision & { regions?: string[] };

/** Promote and abort share one decision: the cluster, the group expected, who and why. */
function decisionOf(inputs: ParsedInputs<typeof ABORT_INPUTS>, region: string): HeldStageRequest {
  const decision: HeldDecision = {
    cluster: resolveClusterName(inputs),
    region,
    ledger: inputs.ledger,
    ...definedOnly({ serverGroup: inputs.serverGroup, approvedBy: inputs.approvedBy, reason: inputs.reason }),
    build: definedOnly({ buildUrl: inputs.buildUrl }),
    breakExpiredLock: inputs.breakExpiredLock,
    lockLeaseSeconds: inputs.lockLease,
    lockWaitSeconds: inputs.lockWait,
  };
  if (!inputs.regions) return decision;
  checkRegionsDecision(decision);
  return { ...decision, regions: inputs.regions };
}

/** The health timeout a held deploy may have asked for (read from its record under the lock, after the deadline is set). */
const HELD_HEALTH_TIMEOUT_BOUND_SECONDS = 3600;

/** The whole-run deadline of a promote or abort: a deploy's with the longest health wait a held deploy may have, per region. */
const deadline = (request: HeldStageRequest) =>
  (request.regions?.length ?? 1) *
  clusterRunDeadlineSeconds({ ...request, healthTimeoutSeconds: HELD_HEALTH_TIMEOUT_BOUND_SECONDS });

/** Exit 3 when a record is short (one region); a held rollout's failure already threw (exit 1). */
const exitCodeOf = (output: object) => ('decision' in output ? 0 : ledgerExitCode(output));

/** `promote`: a held deploy finished as it was asked (with `regions`: every region, in wave order). */
export const promoteStage = defineStage(PROMOTE_STAGE, {
  validate: (inputs, region): HeldStageRequest => ({
    ...decisionOf(inputs, region),
    ...definedOnly({ afterTraffic: inputs.afterTraffic }),
  }),
  runDeadlineSeconds: deadline,
  run: ({ regions, ...decision }, { aws, log }): Promise<DeployOutput | HeldRolloutOutput> =>
    regions
      ? decideHeldRollout((region) => aws().forRegion(region), decision, regions, 'promote', log)
      : promote(aws().forRegion(decision.region), decision, log),
  exitCodeFor: exitCodeOf,
});

/** `abort`: a held deploy's group removed (with `regions`: in every region). */
export const abortStage = defineStage(ABORT_STAGE, {
  validate: (inputs, region): HeldStageRequest => decisionOf(inputs, region),
  runDeadlineSeconds: deadline,
  run: ({ regions, ...decision }, { aws, log }): Promise<AbortOutput | HeldRolloutOutput> =>
    regions
      ? decideHeldRollout((region) => aws().forRegion(region), decision, regions, 'abort', log)
      : abortHeld(aws().forRegion(decision.region), decision, log),
  exitCodeFor: exitCodeOf,
});
