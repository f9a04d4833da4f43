import { checkApprover, checkReason } from '../../rollback/request';
import { checkRegion } from '../../core/validate';
import { booleanInput, input, listInput, rawInput } from './declare';
import {
  BUILD_INPUTS,
  CLUSTER_INPUTS,
  CONFIG_INPUTS,
  LEDGER_INPUTS,
  LOCK_INPUTS,
  REGION_INPUTS,
  SERVER_GROUP_INPUTS,
  watchInputs,
} from './shared';

// A rollback is usually started because an alarm fires: such an alarm never blocks it (docs: README, "rollback").
const ROLLBACK_WATCH = watchInputs({
  alarms:
    'CloudWatch alarm names: one already in ALARM at the start (often why you roll back) is logged and never blocks; it fails the watch only if it fires anew or is still in ALARM once its evaluation window has passed on the restored group alone. One going to ALARM during the watch puts back the group that served before (exit 1)',
  watch:
    'How long after cutover to watch alarms and gates while the group rolled away from stays disabled at full capacity; a breach puts it back in seconds (exit 1). At least the evaluation window of an alarm already in ALARM. On AWS ALB metrics come per minute: watch minutes, e.g. "10m"',
  gates:
    "Built-in gates on the restored group's target groups during the watch, from ALB metrics: {maxErrorRate, maxLatencyMs, minRequests} (JSON; null removes a limit), or false for none. Absolute limits only: the group rolled away from is no baseline, so maxErrorRateIncrease and maxLatencyRatio are not applied",
  gatesDefault: '{"maxErrorRate": 0.05, "minRequests": 20} in effect',
});

/** Why a decision on a cluster was taken (rollback, promote, abort): recorded in the ledger. */
export const REASON_INPUT = input({
  kind: 'string',
  describe: 'Why (recorded in the ledger)',
  parse: (value, field) => checkReason(field, value),
});

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
  regions: listInput('With a rollout id in to: the regions of that rollout to put back on what they served before it', {
    item: (region, field) => checkRegion(field, region),
  }),
  reason: REASON_INPUT,
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
  ...ROLLBACK_WATCH,
};
