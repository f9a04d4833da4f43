import { InputError } from '../core/errors';

/** When the AWS credentials Packer will use stop working, when that can be known. */
export interface CredentialsExpiry {
  expiresAt: Date;
  /** Where the time comes from, for the message. */
  source: string;
}

/**
 * The expiry of the credentials Packer will use, if it is fixed and known:
 * static keys in the environment with `AWS_CREDENTIAL_EXPIRATION` (set by
 * tools that hand out session credentials; the AWS SDK reads the same
 * variable as the credentials' `expiration`). Credentials from a provider
 * that refreshes them (instance profile, container role, SSO, process) are
 * renewed by Packer's SDK as well, so they set no limit and give `undefined`.
 */
export function credentialsExpiry(env: NodeJS.ProcessEnv): CredentialsExpiry | undefined {
  const text = env.AWS_CREDENTIAL_EXPIRATION;
  if (env.AWS_ACCESS_KEY_ID === undefined || env.AWS_ACCESS_KEY_ID === '' || text === undefined || text.trim() === '')
    return undefined;
  const expiresAt = new Date(text.trim());
  if (Number.isNaN(expiresAt.getTime())) {
    throw new InputError('AWS_CREDENTIAL_EXPIRATION', 'is not an ISO 8601 time (e.g. 2025-01-02T03:04:05Z)');
  }
  return { expiresAt, source: 'AWS_CREDENTIAL_EXPIRATION' };
}

/**
 * Fails the bake before anything runs (exit 2) when its credentials expire
 * before its timeout: Packer would otherwise die with `ExpiredToken` mid-bake.
 */
export function checkCredentialsOutlastBake(env: NodeJS.ProcessEnv, timeoutMinutes: number, now: Date): void {
  const expiry = credentialsExpiry(env);
  if (expiry === undefined) return;
  const left = (expiry.expiresAt.getTime() - now.getTime()) / 60_000;
  if (left >= timeoutMinutes) return;
  const when = left <= 0 ? 'have already expired' : `expire in ${Math.floor(left)} min`;
  throw new InputError(
    'credentials',
    `the AWS credentials ${when} (${expiry.source} ${expiry.expiresAt.toISOString()}), before the bake's timeout of ` +
      `${timeoutMinutes} min: Packer would fail with ExpiredToken mid-bake. Ask for a longer session ` +
      '(withAWS(role: …, duration: 7200); a role assumed from another role is capped at 1 h), run the bake ' +
      "with the agent's instance profile (Packer renews those credentials), or lower timeoutMinutes",
  );
}
