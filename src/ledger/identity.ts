import { hostname, userInfo } from 'node:os';
import { redact } from '../core/redact';

/**
 * Who is running this deploy, from the environment Jenkins gives every build
 * (`BUILD_URL`, `GIT_COMMIT`, and `BUILD_USER_ID` from the build-user-vars
 * plugin when installed), or user@host outside Jenkins. One place, so the
 * ledger records and the lock owner say the same thing.
 */
export interface RunIdentity {
  /** A person or `user@host`. */
  who: string;
  /** The Jenkins build URL (credentials stripped), when run by Jenkins. */
  buildUrl?: string;
  /** What the lock records as its owner: the build URL, else `user@host`. */
  owner: string;
  /** Commit being deployed, when Jenkins' git plugin set it. */
  gitCommit?: string;
}

/** Reads the run's identity from `env` (default `process.env`). Never reads secrets. */
export function runIdentity(env: NodeJS.ProcessEnv = process.env): RunIdentity {
  const userAtHost = `${env.USER || env.USERNAME || safeUserName()}@${hostname()}`;
  const buildUrl = env.BUILD_URL ? redact(env.BUILD_URL) : undefined;
  const who =
    env.BUILD_USER_ID ||
    env.BUILD_USER ||
    (env.JOB_NAME && env.BUILD_NUMBER ? `${env.JOB_NAME} #${env.BUILD_NUMBER}` : userAtHost);
  return {
    who,
    ...(buildUrl ? { buildUrl } : {}),
    owner: buildUrl ?? userAtHost,
    ...(env.GIT_COMMIT ? { gitCommit: env.GIT_COMMIT } : {}),
  };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
