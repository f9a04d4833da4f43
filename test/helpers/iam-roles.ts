import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { awsCliV2 } from './aws-cli';

const run = promisify(execFile);

/** The policies shipped for users, one per role: `resources/bluegreen/iam/<role>.json`. */
export const IAM_DIR = join(__dirname, '..', '..', 'resources', 'bluegreen', 'iam');

/** An IAM policy document. */
export interface PolicyDocument {
  Version: string;
  Statement: Array<{
    Sid?: string;
    Effect: string;
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, unknown>>;
  }>;
}

/** Role names (file names without `.json`). */
export function policyRoles(): string[] {
  return readdirSync(IAM_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** A role's policy with its `REPLACE_*` placeholders filled in. */
export function renderPolicy(role: string, values: Record<string, string>): PolicyDocument {
  let text = readFileSync(join(IAM_DIR, `${role}.json`), 'utf8');
  for (const [token, value] of Object.entries(values)) text = text.replaceAll(token, value);
  const left = /REPLACE_[A-Z_]+/.exec(text);
  if (left) throw new Error(`${role}.json: no value for ${left[0]}`);
  return JSON.parse(text) as PolicyDocument;
}

/** Every action of a policy. */
export function actionsOf(policy: PolicyDocument): string[] {
  return policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

/** The policy without one action (statements left empty are dropped). */
export function withoutAction(policy: PolicyDocument, action: string): PolicyDocument {
  const Statement = policy.Statement.map((s) => ({
    ...s,
    Action: (Array.isArray(s.Action) ? s.Action : [s.Action]).filter((a) => a !== action),
  })).filter((s) => s.Action.length > 0);
  return { ...policy, Statement };
}

/** Keys of an IAM user. */
export interface AccessKeys {
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
}

/** `aws iam …` against the emulator, with the given keys; returns the parsed JSON answer. */
export async function awsIam(endpoint: string, keys: AccessKeys, args: string[]): Promise<Record<string, unknown>> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...keys,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  const { stdout } = await run(awsCliV2(), ['iam', ...args, '--endpoint-url', endpoint, '--output', 'json'], {
    env,
    timeout: 60_000,
  });
  return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
}

/** Creates an IAM user holding only `policy` (inline) and returns its keys. */
export async function createUser(
  endpoint: string,
  admin: AccessKeys,
  name: string,
  policy: PolicyDocument,
): Promise<AccessKeys> {
  await awsIam(endpoint, admin, ['create-user', '--user-name', name]);
  await awsIam(endpoint, admin, [
    'put-user-policy',
    '--user-name',
    name,
    '--policy-name',
    name,
    '--policy-document',
    JSON.stringify(policy),
  ]);
  return accessKeyOf(await awsIam(endpoint, admin, ['create-access-key', '--user-name', name]));
}

/** The keys of a `create-access-key` answer. */
export function accessKeyOf(answer: Record<string, unknown>): AccessKeys {
  const key = answer['AccessKey'] as { AccessKeyId: string; SecretAccessKey: string };
  return { AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey };
}
