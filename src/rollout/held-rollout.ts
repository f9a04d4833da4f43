import type { AwsClients } from '../aws/clients';
import { InputError, OperationFailedError, describeError } from '../core/errors';
import type { Logger } from '../core/log';
import type { DeployOutput } from '../deploy/deploy';
import { errorSummary } from './rollout';
import { abortHeld, promote, type AbortOutput, type HeldDecision } from '../deploy/promote';

/**
 * Promote or abort of a rollout held in several regions (`deploy` with `hold` and `regions`): one region after
 * another in the order given — the rollout's wave order — each the single-region promote or abort under its own
 * lock. A promote stops at the first region that fails (the later ones stay held, nothing switched there); an
 * abort goes on to every region (each held group is removed on its own).
 */

/** How one region's decision ended. */
export interface HeldRegionOutcome {
  region: string;
  status: 'promoted' | 'aborted' | 'failed' | 'not-started';
  promote?: DeployOutput;
  abort?: AbortOutput;
  error?: { code: string; message: string; exitCode: number; recovery?: string };
}

/** The promote or abort output for several regions. */
export interface HeldRolloutOutput {
  cluster: string;
  decision: 'promote' | 'abort';
  regions: HeldRegionOutcome[];
}

/** With `regions`, each region's one held group is taken: a single `serverGroup` cannot name them all (exit 2). */
export function checkRegionsDecision(decision: HeldDecision): void {
  if (decision.serverGroup !== undefined)
    throw new InputError(
      'serverGroup',
      'not with regions: each region has its own held group (the held rollout output names them); give one region and its serverGroup, or regions alone',
    );
}

/** Promotes or aborts a held rollout region by region; a failed region is exit 1 with every region's outcome. */
export async function decideHeldRollout(
  clientsFor: (region: string) => AwsClients,
  decision: HeldDecision,
  regions: readonly string[],
  action: 'promote' | 'abort',
  log: Logger,
): Promise<HeldRolloutOutput> {
  checkRegionsDecision(decision);
  const outcomes: HeldRegionOutcome[] = regions.map((region) => ({ region, status: 'not-started' }));
  for (const outcome of outcomes) {
    const regionLog = log.child(outcome.region);
    const regional = { ...decision, region: outcome.region };
    try {
      if (action === 'promote') {
        outcome.promote = await promote(clientsFor(outcome.region), regional, regionLog);
        outcome.status = 'promoted';
      } else {
        outcome.abort = await abortHeld(clientsFor(outcome.region), regional, regionLog);
        outcome.status = 'aborted';
      }
    } catch (error) {
      outcome.status = 'failed';
      outcome.error = errorSummary(error);
      regionLog.error(`${action} failed: ${describeError(error)}`);
      if (action === 'promote') break;
    }
  }
  const output: HeldRolloutOutput = { cluster: decision.cluster.name, decision: action, regions: outcomes };
  const failed = outcomes.filter((o) => o.status === 'failed').map((o) => o.region);
  if (failed.length === 0) return output;
  const waiting = outcomes.filter((o) => o.status === 'not-started').map((o) => o.region);
  throw new OperationFailedError(
    'HeldRolloutFailed',
    `${action} of ${decision.cluster.name} failed in ${failed.join(', ')}` +
      (waiting.length > 0 ? `; ${waiting.join(', ')} still held (not started)` : ''),
    {
      ...output,
      failedRegions: failed,
      recovery:
        action === 'promote'
          ? `see each region's error; promote (or abort) the regions still held with regions: ${[...failed, ...waiting].join(', ')}`
          : `see each region's error; abort again with regions: ${failed.join(', ')}`,
    },
  );
}
