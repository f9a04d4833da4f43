import type { InputDeclarations } from './declare';
import { STAGES } from '../list';

/** Every stage's input declarations by stage name (from {@link STAGES}): for the defaults file and the generated docs. */
export const STAGE_INPUTS: Readonly<Record<string, InputDeclarations>> = Object.fromEntries(
  STAGES.map((stage) => [stage.name, stage.inputs]),
);

/** Whether some stage declares an input of this name. */
export function isInputOfAnyStage(name: string): boolean {
  return Object.values(STAGE_INPUTS).some((inputs) => Object.hasOwn(inputs, name));
}
