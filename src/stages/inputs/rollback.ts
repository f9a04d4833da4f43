import { checkApprover, checkReason } from '../../rollback/request';
import { booleanInput, input, rawInput } from './declare';
import {
  BUILD_INPUTS,
  CLUSTER_INPUTS,
  CONFIG_INPUTS,
  LEDGER_INPUTS,
  LOCK_INPUTS,
  REGION_INPUTS,
  SERVER_GROUP_INPUTS,
} from './shared';

/** The inputs of `rollback`, in the order they are checked. */
export const ROLLBACK_INPUTS = {
  ...CLUSTER_INPUTS,
  ...REGION_INPUTS,
  // Checked against the cluster once it is known (a server group must be one of its own).
  to: rawInput(
    'string',
    'Where to go: "previous" (the release deployed before the current one; rolling back twice goes further back), a server group (web-prod-v003), a version or deployment id from the ledger, or an AMI id',
    { defaultText: 'previous' },
  ),
  reason: input({
    kind: 'string',
    describe: 'Why (recorded in the ledger)',
    parse: (value, field) => checkReason(field, value),
  }),
  approvedBy: input({
    kind: 'string',
    describe:
      "Who approved the rollback (the rollback job passes its input step's submitter); recorded in the ledger as who",
    parse: (value, field) => checkApprover(field, value),
  }),
  ...LEDGER_INPUTS,
  buildUrl: BUILD_INPUTS.buildUrl,
  ...SERVER_GROUP_INPUTS,
  ...CONFIG_INPUTS,
  plan: booleanInput('Print where the rollback would go and how, change nothing', false),
  ...LOCK_INPUTS,
};
