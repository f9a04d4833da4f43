import { InputError } from '../core/errors';
import { parseServerGroupName, type ClusterName } from '../core/naming';
import { checkPattern, checkString, optionalString, VERSION_PATTERN } from '../core/validate';
import { AMI_ID, type DeployRequest } from '../deploy/request';
import { isDeploymentId } from '../ledger/deployment-id';
import type { LedgerRef } from '../ledger/ledger-ref';
import type { VerifySettings } from '../verify/prepare';

/**
 * What to roll back to, as the operator named it:
 * - `previous`: the release deployed before the one serving now;
 * - `serverGroup`: a server group of the cluster (`web-prod-v003`), live or in the ledger;
 * - `deploymentId` / `version`: a deployment recorded in the ledger;
 * - `amiId`: an AMI (re-enabled if a group of the cluster still runs it, else redeployed).
 */
export type RollbackTarget =
  | { kind: 'previous' }
  | { kind: 'serverGroup'; name: string }
  | { kind: 'deploymentId'; id: string }
  | { kind: 'version'; version: string }
  | { kind: 'amiId'; amiId: string };

/** A validated rollback request. */
export interface RollbackRequest extends Pick<
  DeployRequest,
  'region' | 'ledger' | 'plan' | 'breakExpiredLock' | 'lockLeaseSeconds' | 'lockWaitSeconds' | 'rolloutId'
> {
  cluster: ClusterName;
  to: RollbackTarget;
  /** Why (recorded in the ledger). */
  reason?: string;
  /** Who approved the rollback (the job's `input` submitter), recorded in the ledger's `who`. */
  approvedBy?: string;
  /** The rollback run's own build (Jenkins BUILD_URL), recorded as who ran it. */
  build: { buildUrl?: string };
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  keepPrevious: number;
  scaleDownDelaySeconds: number;
  ledger: LedgerRef;
  /** The watch after the rollback's cutover (alarms in ALARM at the start never block a rollback). */
  verify?: Pick<VerifySettings, 'alarms' | 'watchSeconds' | 'gates'>;
}

const MAX_REASON = 1000;
const MAX_APPROVER = 200;

/** Parses `to`: `previous` (default), a server group of the cluster, an AMI id, a deployment id or a version. */
export function parseRollbackTarget(value: unknown, cluster: string): RollbackTarget {
  if (value === undefined || value === null || value === '') return { kind: 'previous' };
  const text = checkString('to', value).trim();
  if (text === 'previous') return { kind: 'previous' };
  if (/^ami-/.test(text)) return { kind: 'amiId', amiId: checkPattern('to', text, AMI_ID, 'ami-0123456789abcdef0') };
  const group = parseServerGroupName(text);
  if (group) {
    if (group.cluster !== cluster)
      throw new InputError('to', `${text} is a server group of cluster ${group.cluster}, not of ${cluster}`);
    return { kind: 'serverGroup', name: text };
  }
  if (isDeploymentId(text)) return { kind: 'deploymentId', id: text };
  const version = checkPattern(
    'to',
    text,
    VERSION_PATTERN,
    '"previous", a server group (web-prod-v003), a version (1.4.2), a deployment id or an AMI id',
  );
  return { kind: 'version', version };
}

/** How a target reads in messages: `previous`, `web-prod-v003`, `version 1.4.2`, … */
export function describeTarget(to: RollbackTarget): string {
  switch (to.kind) {
    case 'previous':
      return 'the previous release';
    case 'serverGroup':
      return to.name;
    case 'deploymentId':
      return `deployment ${to.id}`;
    case 'version':
      return `version ${to.version}`;
    case 'amiId':
      return to.amiId;
  }
}

/** Checks who approved a rollback: one line of at most 200 characters (a user id or name), trimmed. */
export function checkApprover(field: string, value: unknown): string | undefined {
  const approvedBy = optionalString(field, value)?.trim();
  if (approvedBy !== undefined && (approvedBy.length > MAX_APPROVER || /[\r\n]/.test(approvedBy))) {
    throw new InputError(field, `must be one line of at most ${MAX_APPROVER} characters (a user id or name)`);
  }
  return approvedBy || undefined;
}

/** Checks the reason of a rollback (recorded in the ledger): trimmed, at most 1000 characters. */
export function checkReason(field: string, value: unknown): string | undefined {
  const reason = optionalString(field, value)?.trim();
  if (reason !== undefined && reason.length > MAX_REASON)
    throw new InputError(field, `is ${reason.length} characters; at most ${MAX_REASON}`);
  return reason || undefined;
}
