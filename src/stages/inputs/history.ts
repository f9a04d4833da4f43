import { integerInput } from './declare';
import { CLUSTER_INPUTS, LEDGER_INPUTS, REGION_INPUTS } from './shared';

/** The inputs of `history`. */
export const HISTORY_INPUTS = {
  ...CLUSTER_INPUTS,
  ...REGION_INPUTS,
  ...LEDGER_INPUTS,
  limit: integerInput('How many records, newest first', { min: 1, max: 1000, default: 10 }),
};
