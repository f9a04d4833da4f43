import { CLUSTER_INPUTS, OPTIONAL_LEDGER_INPUTS, REGION_INPUTS } from './shared';

/** The inputs of `status`. */
export const STATUS_INPUTS = { ...CLUSTER_INPUTS, ...REGION_INPUTS, ...OPTIONAL_LEDGER_INPUTS };
