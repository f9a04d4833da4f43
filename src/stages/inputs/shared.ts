import { checkPattern, checkRegion, VERSION_PATTERN } from '../../core/validate';
import { parseLedgerRef, parseOptionalLedgerRef } from '../../ledger/ledger-ref';
import { DEFAULT_LEASE_SECONDS } from '../../ledger/lock';
import { parseGates } from '../../verify/gates';
import { booleanInput, durationInput, input, integerInput, listInput, rawInput, stringInput } from './declare';

/**
 * Input groups several stages share, declared once: the region, the cluster
 * keys, the ledger, the lock options, build metadata, the config file and the
 * server group timings.
 */

/** Every stage's region (the framework resolves it first: it picks the AWS clients). */
export const REGION_INPUTS = {
  region: input({
    kind: 'string',
    describe: 'AWS region',
    defaultText: 'AWS_REGION, else AWS_DEFAULT_REGION',
    parse: (value, field) => (value === undefined ? undefined : checkRegion(field, value)),
  }),
};

/** The keys that name a cluster `app[-stack[-detail]]` (resolved together by `resolveClusterName`). */
export const CLUSTER_INPUTS = {
  cluster: rawInput('string', 'Cluster name app[-stack[-detail]], e.g. web-prod (or give app, stack, detail)', {
    required: 'unless app is given',
  }),
  app: rawInput('string', 'Application name (letters, digits, . and _); with stack and detail it names the cluster', {
    required: 'unless cluster is given',
  }),
  stack: rawInput('string', 'Stack, e.g. prod'),
  detail: rawInput('string', 'Detail, e.g. canary'),
};

const LEDGER_DESCRIBE =
  'S3 deployment ledger and lock store: {"bucket": "…", "prefix": "bluegreen", "region": "…", "roleArn": "…"} ' +
  '(roleArn: a role assumed for the ledger and lock calls), ' +
  '--ledger.bucket/--ledger.prefix/--ledger.region flags, or s3://bucket/prefix';

/** The ledger, where a stage must record or read deployments. */
export const LEDGER_INPUTS = {
  ledger: input({
    kind: 'ledger',
    describe: LEDGER_DESCRIBE,
    required: true,
    parse: (value, field) => parseLedgerRef(value, field),
  }),
};

/** The ledger where a stage only shows it when given. */
export const OPTIONAL_LEDGER_INPUTS = {
  ledger: input({
    kind: 'ledger',
    describe: `${LEDGER_DESCRIBE}; when given, the lock and last deployments are shown too`,
    parse: (value, field) => parseOptionalLedgerRef(value, field),
  }),
};

/** The cluster lock, taken by every stage that changes a cluster. */
export const LOCK_INPUTS = {
  breakExpiredLock: booleanInput(
    'Take over the cluster lock if its lease has expired (its holder died); a live lock is never broken',
    false,
  ),
  // Whole seconds: the lock records its lease in S3, whose times are whole seconds (acquireLock refuses a fraction).
  lockLease: durationInput('Lease of the cluster lock, renewed while running (whole seconds)', {
    default: DEFAULT_LEASE_SECONDS,
    min: 5,
    whole: true,
  }),
  lockWait: durationInput('Wait this long for a held lock before exiting 3', { default: 0 }),
};

/** Build metadata recorded in tags and the ledger. */
export const BUILD_INPUTS = {
  buildUrl: stringInput('Build URL of this run (Jenkins BUILD_URL), recorded in the ledger and the server group tags', {
    pattern: /^https?:\/\/\S+$/,
    shape: 'https://jenkins.example.com/job/web/42/',
    stepDefault: 'env.BUILD_URL',
  }),
  gitCommit: stringInput('Git commit SHA', {
    pattern: /^[0-9a-f]{7,64}$/i,
    shape: 'a git commit SHA',
    stepDefault: 'env.GIT_COMMIT',
  }),
  artifactUrl: stringInput('Artifact URL (s3://… or https://…), e.g. the artifactUrl output of publish', {
    pattern: /^(s3|https?):\/\/\S+$/,
    shape: 's3://bucket/key',
  }),
  version: stringInput('Version of the application', {
    pattern: VERSION_PATTERN,
    shape: '1.2.3 (letters, digits, . _ + -)',
  }),
};

/** The per-call defaults file; the framework merges it under the given keys. */
export const CONFIG_INPUTS = {
  config: stringInput('JSON file in your repository with values for any of these inputs; what the step is given wins'),
};

/** How long to wait for health and draining, and what to keep: deploy, rollback, cleanup. */
export const SERVER_GROUP_INPUTS = {
  healthTimeout: durationInput(
    "How long to wait for the new (or restored) group to be healthy: at least its target groups' largest healthy threshold × interval, plus boot time (a deploy or rollback given less exits 2)",
    {
      default: '10m',
      above: 0,
    },
  ),
  keepPrevious: integerInput(
    'Disabled server groups to keep for rollback; older ones are destroyed. A group still draining or waiting for its scheduled scale-down is never destroyed by the run that disabled it: with 0, the group this deploy disables is destroyed by the next deploy, rollback or cleanup run',
    { min: 0, max: 50, default: 2 },
    { kind: 'number' },
  ),
  scaleDownDelay: durationInput(
    'Keep the group taken out of service running (disabled) this long, for an instant rollback; then a scheduled action on it scales it to 0 (the next deploy, rollback or a cleanup run also do, should it not have run)',
    { default: 0 },
  ),
  drainTimeout: durationInput(
    'Longest wait for old targets to drain, when the run waits for it (a watch, targetHealthyPercent below 100); otherwise the deploy returns at cutover and the drain ends without it',
    {},
    { defaultText: 'the deregistration delay + 60s' },
  ),
};

/** A CloudWatch alarm name: 1-255 characters, no blank at either end. */
const ALARM_NAME = /^\S(.{0,253}\S)?$/;

/**
 * The watch after cutover, deploy and rollback alike: the alarms, how long, the
 * built-in gates. Declared once; each stage says in its own words what the
 * inputs mean for it (an alarm already in ALARM stops a deploy, not a rollback).
 */
export function watchInputs(describe: { alarms: string; watch: string; gates: string; gatesDefault?: string }) {
  return {
    alarms: listInput(describe.alarms, {
      defaultText: 'none',
      item: (name, field) => checkPattern(field, name, ALARM_NAME, 'an alarm name of 1-255 characters'),
    }),
    watch: durationInput(describe.watch, { default: 0 }),
    gates: input({
      kind: 'object',
      describe: describe.gates,
      defaultText:
        describe.gatesDefault ??
        '{"maxErrorRate": 0.05, "maxLatencyRatio": 2, "latencySlackMs": 100, "minRequests": 20}',
      parse: (value, field) => parseGates(value, field),
    }),
  };
}
