import type { PreparedVerification } from '../../verify/prepare';
import type { DeployPlan } from '../plan';
import type { DeployRequest } from '../request';
import { canaryStrategy } from './canary';
import { redBlack } from './red-black';
import { rollingStrategy } from './rolling';
import type { DeployStrategy } from './strategy';

export type { DeployStrategy, Placement, ShiftContext, ShiftedTraffic } from './strategy';

/**
 * The strategy a deploy runs. Rolling needs a group to roll from and a watch
 * between its steps; without either (a first deploy, nothing to watch) it is
 * red/black. Canary needs neither: it compares with the production target group.
 */
export function strategyFor(
  request: Pick<DeployRequest, 'rolling' | 'canary'>,
  plan: Pick<DeployPlan, 'source'>,
  verification: PreparedVerification | undefined,
): DeployStrategy {
  if (request.canary) return canaryStrategy(request.canary);
  return request.rolling && plan.source && verification ? rollingStrategy(request.rolling) : redBlack;
}
