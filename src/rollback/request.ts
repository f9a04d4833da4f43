import { InputError } from '../core/errors';
import { parseDuration } from '../core/duration';
import { parseServerGroupName, resolveClusterName, type ClusterName } from '../core/naming';
import { checkBoolean, checkInteger, checkKnownKeys, checkPattern, checkString, optionalString } from '../core/validate';
import { AMI_ID, mergeConfigFile, parseBuildMetadata, parseLockOptions, type DeployRequest } from '../deploy/request';
import { isDeploymentId } from '../ledger/deployment-id';
import { parseLedgerRef, type LedgerRef } from '../ledger/ledger-ref';

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
export interface RollbackRequest
  extends Pick<DeployRequest, 'region' | 'ledger' | 'plan' | 'breakExpiredLock' | 'lockLeaseSeconds' | 'lockWaitSeconds'> {
  cluster: ClusterName;
  to: RollbackTarget;
  /** Why (recorded in the ledger). */
  reason?: string;
  /** Who approved the rollback (e.g. the Jenkins input step's submitter): recorded as who ran it, with the build. */
  approvedBy?: string;
  /** The rollback run's own build (Jenkins BUILD_URL), recorded as who ran it. */
  build: { buildUrl?: string };
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  keepPrevious: number;
  scaleDownDelaySeconds: number;
  ledger: LedgerRef;
}

/** Input keys of the rollback stage (JSON and flags). */
export const ROLLBACK_KEYS = [
  'cluster', 'app', 'stack', 'detail', 'region', 'to', 'reason', 'approvedBy', 'ledger', 'buildUrl', 'healthTimeout',
  'drainTimeout', 'keepPrevious', 'scaleDownDelay', 'config', 'plan', 'breakExpiredLock', 'lockLease', 'lockWait',
] as const;

const VERSION = /^[\w.+-]{1,128}$/;
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
    if (group.cluster !== cluster) throw new InputError('to', `${text} is a server group of cluster ${group.cluster}, not of ${cluster}`);
    return { kind: 'serverGroup', name: text };
  }
  if (isDeploymentId(text)) return { kind: 'deploymentId', id: text };
  const version = checkPattern('to', text, VERSION, '"previous", a server group (web-prod-v003), a version (1.4.2), a deployment id or an AMI id');
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

/** Validates everything a rollback needs that can be checked without AWS. */
export function parseRollbackRequest(input: Record<string, unknown>, region: string): RollbackRequest {
  const raw = mergeConfigFile(input, ROLLBACK_KEYS);
  checkKnownKeys('', raw, ROLLBACK_KEYS);
  const cluster = resolveClusterName(raw);
  const reason = optionalString('reason', raw.reason)?.trim();
  if (reason !== undefined && reason.length > MAX_REASON) throw new InputError('reason', `is ${reason.length} characters; at most ${MAX_REASON}`);
  const approvedBy = optionalString('approvedBy', raw.approvedBy)?.trim();
  if (approvedBy !== undefined && (approvedBy.length > MAX_APPROVER || /[\r\n]/.test(approvedBy))) {
    throw new InputError('approvedBy', `must be one line of at most ${MAX_APPROVER} characters (a user id or name)`);
  }
  const healthTimeoutSeconds = raw.healthTimeout === undefined ? 600 : parseDuration('healthTimeout', raw.healthTimeout);
  if (healthTimeoutSeconds <= 0) throw new InputError('healthTimeout', 'must be more than 0 seconds');
  const build = parseBuildMetadata({ buildUrl: raw.buildUrl });
  return {
    cluster,
    region,
    to: parseRollbackTarget(raw.to, cluster.name),
    ...(reason ? { reason } : {}),
    ...(approvedBy ? { approvedBy } : {}),
    build,
    healthTimeoutSeconds,
    ...(raw.drainTimeout !== undefined ? { drainTimeoutSeconds: parseDuration('drainTimeout', raw.drainTimeout) } : {}),
    keepPrevious: raw.keepPrevious === undefined ? 2 : checkInteger('keepPrevious', raw.keepPrevious, 0, 50),
    scaleDownDelaySeconds: raw.scaleDownDelay === undefined ? 0 : parseDuration('scaleDownDelay', raw.scaleDownDelay),
    ledger: parseLedgerRef(raw.ledger),
    plan: raw.plan === undefined ? false : checkBoolean('plan', raw.plan),
    ...parseLockOptions(raw),
  };
}
