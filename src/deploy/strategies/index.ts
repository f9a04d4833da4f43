import { InputError } from '../../core/errors';
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
 * Canary with `beforeTraffic` is refused (bad input): both place the new group outside production.
 */
export function strategyFor(
  request: Pick<DeployRequest, 'rolling' | 'canary' | 'beforeTraffic'>,
  plan: Pick<DeployPlan, 'source'>,
  verification: PreparedVerification | undefined,
): DeployStrategy {
  if (request.canary && request.beforeTraffic)
    throw new InputError('beforeTraffic', 'not with strategy: canary (the canary is tested on its own target groups)');
  if (request.canary) return canaryStrategy(request.canary);
  return request.rolling && plan.source && verification ? rollingStrategy(request.rolling) : redBlack;
}
