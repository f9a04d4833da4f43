import test from 'ava';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as autoScaling from '@aws-sdk/client-auto-scaling';
import * as cloudWatch from '@aws-sdk/client-cloudwatch';
import * as ec2 from '@aws-sdk/client-ec2';
import * as elbv2 from '@aws-sdk/client-elastic-load-balancing-v2';
import * as s3 from '@aws-sdk/client-s3';

// The IAM policy shipped for users must allow every AWS action the stages call (the sandbox is not a stage).
const root = join(__dirname, '..');
const policy = JSON.parse(readFileSync(join(root, 'resources/bluegreen/iam-policy.json'), 'utf8')) as {
  Statement: Array<{ Action: string | string[] }>;
};
const allowed = new Set(policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));

const services: Array<[string, Record<string, unknown>]> = [
  ['autoscaling', autoScaling],
  ['cloudwatch', cloudWatch],
  ['ec2', ec2],
  ['elasticloadbalancing', elbv2],
  ['s3', s3],
];

/** S3 operations whose IAM action has another name. */
const S3_ACTIONS: Record<string, string> = {
  HeadObject: 's3:GetObject',
  HeadBucket: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'sandbox' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function calledOperations(): Set<string> {
  const operations = new Set<string>();
  for (const file of sourceFiles(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/new ([A-Z][A-Za-z0-9]+)Command\(|paginate([A-Z][A-Za-z0-9]+)\(/g)) operations.add((match[1] ?? match[2]) as string);
  }
  return operations;
}

test('the IAM policy allows every AWS action the stages call', (t) => {
  const operations = calledOperations();
  t.true(operations.size > 30, `found ${operations.size} operations`);
  const missing: string[] = [];
  for (const operation of operations) {
    const service = services.find(([, module]) => `${operation}Command` in module)?.[0];
    if (!service) {
      missing.push(`${operation} (no SDK client knows it)`);
      continue;
    }
    const action = service === 's3' ? (S3_ACTIONS[operation] ?? `s3:${operation}`) : `${service}:${operation}`;
    if (!allowed.has(action)) missing.push(action);
  }
  t.deepEqual(missing, []);
});
