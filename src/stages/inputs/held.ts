import { checkApprover } from '../../rollback/request';
import { REASON_INPUT } from './rollback';
import { checkRegion } from '../../core/validate';
import { input, listInput, stringInput } from './declare';
import { BUILD_INPUTS, CLUSTER_INPUTS, CONFIG_INPUTS, LEDGER_INPUTS, LOCK_INPUTS, REGION_INPUTS } from './shared';

/** A server group name as deploys make them: `<cluster>-v<NNN>`. */
const SERVER_GROUP = /^[A-Za-z0-9._-]+-v\d{3,}$/;

/**
 * The inputs of `abort`, and the common part of `promote`: which held deploy (the cluster, optionally the group
 * expected) and who decides why. Nothing of the deploy itself: promote finishes it as the held deploy asked.
 */
export const ABORT_INPUTS = {
  ...CLUSTER_INPUTS,
  ...REGION_INPUTS,
  serverGroup: stringInput(
    'The held server group decided on (the serverGroup output of the held deploy): when the cluster holds another one, or it is not as the held deploy left it, exit 3 and nothing changes. Absent: the one held group',
    { pattern: SERVER_GROUP, shape: 'web-prod-v004' },
  ),
  regions: listInput(
    "The regions of a rollout deployed with hold, in its wave order (the held deploy's waves output, flattened): each region's one held group is decided on in turn; a promote stops at the first region that fails (the later ones stay held). Not with serverGroup",
    { item: (region, field) => checkRegion(field, region) },
  ),
  reason: REASON_INPUT,
  approvedBy: input({
    kind: 'string',
    describe:
      "Who decided (the pipeline passes its input step's submitter); recorded in the ledger as who, as for rollbacks",
    parse: (value, field) => checkApprover(field, value),
  }),
  ...LEDGER_INPUTS,
  buildUrl: BUILD_INPUTS.buildUrl,
  ...CONFIG_INPUTS,
  ...LOCK_INPUTS,
};

/** The inputs of `promote`: those of `abort`, and the held deploy's afterTraffic again (a secret is never kept). */
export const PROMOTE_INPUTS = {
  ...ABORT_INPUTS,
  afterTraffic: stringInput(
    "The held deploy's afterTraffic command, given again when it had one: the ledger keeps only its SHA-256, never the command (it may hold a secret); a different or missing command is exit 2, nothing changed",
    { secret: true },
  ),
};
