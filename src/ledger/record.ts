import { InputError } from '../core/errors';
import { redactValue } from '../core/redact';
import { STORABLE_ID_PATTERN } from './deployment-id';

/**
 * The shape of a ledger record, and the checks every record passes before it
 * is written: required fields, known kinds and results; secrets redacted.
 */

/** What happened. */
export const RECORD_KINDS = ['deploy', 'rollback', 'recovery', 'cleanup'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** How it ended (or `started` for the record written when it began). */
export const RECORD_RESULTS = [
  'started',
  'held',
  'succeeded',
  'failed',
  'rolled-back',
  'aborted',
  'recovered',
] as const;
export type RecordResult = (typeof RECORD_RESULTS)[number];

/**
 * What a redeploy of the same AMI needs, read from the launch template and the
 * ASG that ran it. Never secrets: user data is referenced (`userDataRef`) and
 * fingerprinted (`userDataSha256`), not copied.
 */
export interface LaunchSettings {
  instanceType?: string;
  subnetIds?: string[];
  securityGroupIds?: string[];
  /** EC2 key pair name (a name, not key material). */
  keyName?: string;
  /** Instance profile name or ARN. */
  iamInstanceProfile?: string;
  /** SHA-256 (hex) of the decoded user data, to tell whether it changed. */
  userDataSha256?: string;
  /** Where the user data can be read again, e.g. `lt-0abc:3` or an s3:// URL. */
  userDataRef?: string;
  launchTemplate?: { id: string; name?: string; version: string };
  targetGroupArns?: string[];
  capacity?: { min: number; max: number; desired: number };
  /** The group's mixed instances policy (spot/on-demand shares, instance-type overrides), as CreateAutoScalingGroup took it. */
  mixedInstancesPolicy?: Record<string, unknown>;
  /** The group's warm pool, as PutWarmPool took it. */
  warmPool?: Record<string, unknown>;
  /** Further non-secret settings (health check type, grace period, …). */
  other?: Record<string, string | number | boolean | string[] | null>;
}

/** One deployment ledger record, as stored (one S3 object each). */
export interface DeploymentRecord {
  /** Record format version. */
  schema: 1;
  kind: RecordKind;
  result: RecordResult;
  deploymentId: string;
  /** The rollout (one release to several regions) this run is part of: `rollback` with it puts every region back. */
  rolloutId?: string;
  cluster: string;
  region: string;
  /** When this record was appended (ISO-8601 UTC); the key sorts by it. */
  recordedAt: string;
  /** When the deployment (or rollback…) began. */
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  /** Who ran it: build user, or user@host outside Jenkins. */
  who?: string;
  buildUrl?: string;
  gitCommit?: string;
  artifactUrl?: string;
  version?: string;
  amiId?: string;
  /** The server group this run created or restored. */
  serverGroup?: string;
  /** The server group that served before. */
  previousServerGroup?: string;
  launchSettings?: LaunchSettings;
  /** Why (rollback reason, failure reason). */
  reason?: string;
  /** Server group traffic moved from / to. */
  from?: string;
  to?: string;
  message?: string;
  /** The watch after cutover: `passed`, `failed` (rolled back), or `interrupted` (the run died watching; settled by the next run). */
  verdict?: Verdict;
  /** A canary's analysed steps: the score and each metric's verdict. */
  canary?: CanaryRecordStep[];
  /**
   * With result `held`: what promote needs to finish the deploy as it was asked (its strategy, watch, gates,
   * capacity, …), as the deploy engine wrote it (`deploy/hold.ts` reads it back).
   */
  held?: Record<string, unknown>;
}

/** One analysed canary step as the ledger keeps it. */
export interface CanaryRecordStep {
  step: string;
  score: number;
  verdict: string;
  metrics: Array<{ name: string; verdict: string }>;
}

/** Verdicts of a watch. */
export const VERDICTS = ['passed', 'failed', 'interrupted'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** A record as given to `appendRecord`: `schema` is set there, `recordedAt` defaults to now. */
export type NewDeploymentRecord = Omit<DeploymentRecord, 'schema' | 'recordedAt'> & { recordedAt?: string };

/** A record read back from the ledger, with its S3 key. */
export interface LedgerRecord extends DeploymentRecord {
  key: string;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const MAX_TEXT = 4000;

/**
 * Validates a new record and returns the stored form: every value redacted
 * (URL credentials, presigned-URL signatures, key ids, values of keys named
 * like secrets) and long texts cut. A record carrying a secret is written
 * without it, never rejected: the deploy must stay in the history. Throws
 * {@link InputError} on `record.<field>` for a malformed record.
 */
export function prepareRecord(record: NewDeploymentRecord, recordedAt: string): DeploymentRecord {
  const field = (name: string) => `record.${name}`;
  if (!RECORD_KINDS.includes(record.kind))
    throw new InputError(
      field('kind'),
      `must be one of ${RECORD_KINDS.join(', ')} (got ${JSON.stringify(record.kind)})`,
    );
  if (!RECORD_RESULTS.includes(record.result))
    throw new InputError(
      field('result'),
      `must be one of ${RECORD_RESULTS.join(', ')} (got ${JSON.stringify(record.result)})`,
    );
  if (typeof record.deploymentId !== 'string' || !STORABLE_ID_PATTERN.test(record.deploymentId)) {
    throw new InputError(
      field('deploymentId'),
      `must be 1-64 of A-Z a-z 0-9 . _ - (got ${JSON.stringify(record.deploymentId)})`,
    );
  }
  for (const name of ['cluster', 'region'] as const) {
    if (typeof record[name] !== 'string' || record[name] === '') throw new InputError(field(name), 'is required');
  }
  for (const name of ['startedAt', 'finishedAt'] as const) {
    const value = record[name];
    if ((name === 'startedAt' || value !== undefined) && (typeof value !== 'string' || !ISO_TIME.test(value))) {
      throw new InputError(
        field(name),
        `must be an ISO-8601 UTC time like 2026-11-26T05:40:12Z (got ${JSON.stringify(value)})`,
      );
    }
  }
  if (record.verdict !== undefined && !VERDICTS.includes(record.verdict)) {
    throw new InputError(
      field('verdict'),
      `must be one of ${VERDICTS.join(', ')} (got ${JSON.stringify(record.verdict)})`,
    );
  }
  // The ledger is readable by every deployer: nothing secret goes in.
  const stored: DeploymentRecord = redactValue({ schema: 1, ...withoutUndefined(record), recordedAt });
  for (const name of ['message', 'reason'] as const) {
    const text = stored[name];
    if (text !== undefined && text.length > MAX_TEXT) stored[name] = `${text.slice(0, MAX_TEXT)}… (cut)`;
  }
  return stored;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined)) as T;
}

/** How a run ended, for {@link finishRecord}: the result plus anything learned on the way. */
export type RecordOutcome = Partial<
  Omit<NewDeploymentRecord, 'kind' | 'deploymentId' | 'cluster' | 'region' | 'startedAt'>
> & {
  result: Exclude<RecordResult, 'started'>;
};

/**
 * The record that closes a run: everything the `started` record said, the
 * outcome on top, `finishedAt` (default now) and `durationSeconds` filled in.
 * Append it with `appendRecord`; the started record stays as it was.
 */
export function finishRecord(
  started: NewDeploymentRecord | DeploymentRecord,
  outcome: RecordOutcome,
  now: Date = new Date(),
): NewDeploymentRecord {
  const {
    schema: _schema,
    recordedAt: _recordedAt,
    key: _key,
    ...rest
  } = started as Partial<LedgerRecord> & NewDeploymentRecord;
  const finishedAt = outcome.finishedAt ?? now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const durationSeconds = Math.max(0, Math.round((Date.parse(finishedAt) - Date.parse(started.startedAt)) / 1000));
  return { ...rest, ...outcome, finishedAt, durationSeconds };
}

/** True when a parsed JSON value has the fields every stored record has. */
export function looksLikeRecord(value: unknown): value is DeploymentRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.deploymentId === 'string' &&
    typeof record.kind === 'string' &&
    typeof record.result === 'string' &&
    typeof record.recordedAt === 'string'
  );
}
