import type { InputDeclarations } from './declare';
import { BAKE_INPUTS } from './bake';
import { CLEANUP_INPUTS } from './cleanup';
import { DEPLOY_INPUTS } from './deploy';
import { HISTORY_INPUTS } from './history';
import { PUBLISH_INPUTS } from './publish';
import { ROLLBACK_INPUTS } from './rollback';
import { STATUS_INPUTS } from './status';

/** Every stage's input declarations by stage name: for the defaults file and the generated docs. */
export const STAGE_INPUTS: Record<string, InputDeclarations> = {
  publish: PUBLISH_INPUTS,
  bake: BAKE_INPUTS,
  deploy: DEPLOY_INPUTS,
  rollback: ROLLBACK_INPUTS,
  status: STATUS_INPUTS,
  history: HISTORY_INPUTS,
  cleanup: CLEANUP_INPUTS,
};

/** Whether some stage declares an input of this name. */
export function isInputOfAnyStage(name: string): boolean {
  return Object.values(STAGE_INPUTS).some((inputs) => Object.hasOwn(inputs, name));
}
