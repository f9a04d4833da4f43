import test from 'ava';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as autoScaling from '@aws-sdk/client-auto-scaling';
import * as cloudWatch from '@aws-sdk/client-cloudwatch';
import * as ec2 from '@aws-sdk/client-ec2';
import * as elb from '@aws-sdk/client-elastic-load-balancing';
import * as elbv2 from '@aws-sdk/client-elastic-load-balancing-v2';
import * as s3 from '@aws-sdk/client-s3';
import * as sts from '@aws-sdk/client-sts';
import { S3_ACTIONS } from './helpers/iam-requests';
import { IAM_DIR, actionsOf, policyRoles, type PolicyDocument } from './helpers/iam-roles';

// The IAM policies shipped for users (one per role, resources/bluegreen/iam) must together allow
// every AWS action the stages call (the sandbox is not a stage).
const root = join(__dirname, '..');
const policies = policyRoles().map((role) => ({
  role,
  policy: JSON.parse(readFileSync(join(IAM_DIR, `${role}.json`), 'utf8')) as PolicyDocument,
}));
const allowed = new Set(policies.flatMap(({ policy }) => actionsOf(policy)));

const services: Array<[string, Record<string, unknown>]> = [
  ['autoscaling', autoScaling],
  ['cloudwatch', cloudWatch],
  ['ec2', ec2],
  ['elasticloadbalancing', elbv2],
  ['elasticloadbalancing', elb],
  ['s3', s3],
  ['sts', sts],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'sandbox' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The IAM service of each SDK client package. */
const SERVICE_OF_PACKAGE: Record<string, string> = {
  'client-auto-scaling': 'autoscaling',
  'client-cloudwatch': 'cloudwatch',
  'client-ec2': 'ec2',
  'client-elastic-load-balancing-v2': 'elasticloadbalancing',
  'client-elastic-load-balancing': 'elasticloadbalancing',
  'client-s3': 's3',
};

/** Operation → the services of the SDK clients imported where it is called (DescribeLoadBalancers is in two). */
function calledOperations(): Map<string, Set<string>> {
  const operations = new Map<string, Set<string>>();
  for (const file of sourceFiles(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    // Which client package each imported name comes from.
    const packageOf = new Map<string, string>();
    for (const m of text.matchAll(/import (?:type )?\{([^}]*)\} from '@aws-sdk\/(client-[a-z0-9-]+)'/g))
      for (const name of (m[1] as string).split(','))
        packageOf.set(name.trim(), SERVICE_OF_PACKAGE[m[2] as string] ?? '');
    for (const match of text.matchAll(/new ([A-Z][A-Za-z0-9]+)Command\(|paginate([A-Z][A-Za-z0-9]+)\(/g)) {
      const operation = (match[1] ?? match[2]) as string;
      const known = operations.get(operation) ?? new Set<string>();
      const service = packageOf.get(match[1] ? `${operation}Command` : `paginate${operation}`);
      if (service) known.add(service);
      operations.set(operation, known);
    }
  }
  return operations;
}

test('the IAM policies allow every AWS action the stages call', (t) => {
  const operations = calledOperations();
  t.true(operations.size > 30, `found ${operations.size} operations`);
  const missing: string[] = [];
  for (const [operation, importedFrom] of operations) {
    const candidates = services.filter(([, module]) => `${operation}Command` in module);
    const service = (candidates.find(([name]) => importedFrom.has(name)) ?? candidates[0])?.[0];
    if (!service) {
      missing.push(`${operation} (no SDK client knows it)`);
      continue;
    }
    const action = service === 's3' ? (S3_ACTIONS[operation] ?? `s3:${operation}`) : `${service}:${operation}`;
    if (!allowed.has(action)) missing.push(action);
  }
  t.deepEqual(missing, []);
});

/** Mutating actions IAM cannot scope by resource for our use, each for a stated reason (README, IAM). */
const UNSCOPED = new Set([
  // RunInstances touches many resource types (instance, volume, network interface, subnet, image…).
  'ec2:RunInstances',
  // Packer's temporary resources: new ones, or untagged (key pair, security group) until deleted.
  'ec2:CreateKeyPair',
  'ec2:CreateSecurityGroup',
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:CreateImage',
  'ec2:RegisterImage',
  'ec2:ModifyImageAttribute',
  'ec2:CopyImage',
  'ec2:CreateSnapshot',
  'ec2:CreateVolume',
  'ec2:AttachVolume',
  'ec2:CreateTags',
  'ec2:DeleteKeyPair',
  'ec2:DeleteSecurityGroup',
  'ec2:DetachVolume',
  'ec2:DeleteVolume',
]);

test('no mutating action is granted on every resource, except those IAM cannot scope (listed)', (t) => {
  const wide: string[] = [];
  for (const { role, policy } of policies) {
    for (const statement of policy.Statement) {
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      if (!resources.includes('*') || statement.Condition !== undefined) continue;
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      for (const action of actions) {
        const name = action.split(':')[1] ?? '';
        if (!/^(Describe|Get|List)/.test(name) && !UNSCOPED.has(action)) wide.push(`${role}: ${action}`);
      }
    }
  }
  t.deepEqual(wide, []);
});

test('s3:DeleteObject is granted on the lock keys only (the rollout lock, and each region its own)', (t) => {
  const deletes = policies.flatMap(({ policy }) =>
    policy.Statement.filter((s) =>
      (Array.isArray(s.Action) ? s.Action : [s.Action]).includes('s3:DeleteObject'),
    ).flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource])),
  );
  t.deepEqual(deletes, [
    'arn:aws:s3:::REPLACE_LEDGER_BUCKET/REPLACE_LEDGER_PREFIX/REPLACE_CLUSTER/lock.json',
    'arn:aws:s3:::REPLACE_LEDGER_BUCKET/REPLACE_LEDGER_PREFIX/REPLACE_CLUSTER/locks/*',
  ]);
});

test('every placeholder of the policies is explained in the README', (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const tokens = new Set(policies.flatMap(({ policy }) => JSON.stringify(policy).match(/REPLACE_[A-Z_]+/g) ?? []));
  t.true(tokens.size > 5);
  t.deepEqual(
    [...tokens].filter((token) => !readme.includes(`\`${token}\``)),
    [],
  );
});

test('no action is granted twice on the same resource (one statement says why it is needed)', (t) => {
  const twice: string[] = [];
  for (const { role, policy } of policies) {
    const grantedBy = new Map<string, string>();
    for (const statement of policy.Statement) {
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const scope = JSON.stringify(statement.Condition ?? null);
      for (const action of actions)
        for (const resource of resources) {
          const key = `${action} on ${resource} ${scope}`;
          const other = grantedBy.get(key);
          if (other !== undefined) twice.push(`${role}: ${action} on ${resource} in ${other} and ${statement.Sid}`);
          grantedBy.set(key, statement.Sid ?? '?');
        }
    }
  }
  t.deepEqual(twice, []);
});
