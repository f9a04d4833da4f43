import { InputError } from '../core/errors';
import { checkPattern, checkString } from '../core/validate';

/**
 * Another account's role, assumed with STS for one region's calls (or the
 * ledger's): its ARN and the external id its trust policy may ask for.
 */
export interface AssumedRole {
  roleArn: string;
  /** Sent with AssumeRole; never logged. */
  externalId?: string;
}

/** An IAM role ARN: `arn:aws:iam::123456789012:role/deployer` (paths allowed). */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** An STS external id: 2-1224 characters of `\w+=,.@:/-`. */
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

/** Checks a role ARN, naming `field`. */
export function checkRoleArn(field: string, value: unknown): string {
  return checkPattern(field, value, ROLE_ARN, 'arn:aws:iam::123456789012:role/deployer');
}

/** Checks an external id, naming `field` and never echoing the value. */
export function checkExternalId(field: string, value: unknown): string {
  const text = checkString(field, value);
  if (!EXTERNAL_ID.test(text)) throw new InputError(field, 'must be 2-1224 characters of letters, digits and +=,.@:/-');
  return text;
}

/** Credentials as the SDK takes them. */
export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Renew this long before the credentials expire (a wave or a watch can outlast an hour). */
const RENEW_BEFORE_MS = 5 * 60_000;
/** Longest session STS gives a role by default (role chaining caps it at one hour). */
const SESSION_SECONDS = 3600;

/**
 * The STS session name of a run: `bluegreen-<job>-<build>` from the build URL
 * (CloudTrail shows it beside every call), else `bluegreen-<time>`; 2-64 of `\w+=,.@-`.
 */
export function roleSessionName(buildUrl: string | undefined, now: Date = new Date()): string {
  const fromBuild = buildUrl
    ? buildUrl
        .replace(/^https?:\/\/[^/]+/, '')
        .split('/')
        .filter((part) => part !== '' && part !== 'job')
        .join('-')
    : '';
  const base =
    fromBuild ||
    now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}Z$/, 'Z');
  return `bluegreen-${base}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/** What {@link assumeRoleProvider} calls: STS AssumeRole, answering the role's temporary credentials. */
export type AssumeRoleCall = (params: {
  RoleArn: string;
  RoleSessionName: string;
  ExternalId?: string;
  DurationSeconds: number;
}) => Promise<TemporaryCredentials>;

/**
 * A credential provider for a role: assumes it on first use and again five
 * minutes before the credentials expire; concurrent callers share one call.
 * Nothing of the answer is logged (the external id included).
 */
export function assumeRoleProvider(
  role: AssumedRole,
  sessionName: string,
  assume: AssumeRoleCall,
): () => Promise<TemporaryCredentials> {
  let current: TemporaryCredentials | undefined;
  let pending: Promise<TemporaryCredentials> | undefined;
  return async () => {
    const fresh = current?.expiration === undefined || current.expiration.getTime() - Date.now() > RENEW_BEFORE_MS;
    if (current && fresh) return current;
    pending ??= assume({
      RoleArn: role.roleArn,
      RoleSessionName: sessionName,
      ...(role.externalId !== undefined ? { ExternalId: role.externalId } : {}),
      DurationSeconds: SESSION_SECONDS,
    })
      .then((credentials) => (current = credentials))
      .finally(() => (pending = undefined));
    return pending;
  };
}
