import type { Options } from 'yargs';
import { deploy, type DeployOutput } from '../deploy/deploy';
import { parseDeployRequest, type DeployRequest } from '../deploy/request';
import { LEDGER_OPTIONS } from '../ledger/ledger-ref';
import { ledgerExitCode } from '../ledger/ledger-writer';
import { CLUSTER_OPTIONS } from './cluster-options';
import { clusterRunDeadlineSeconds } from '../core/run-scope';
import type { StageDefinition } from './framework';

/** Deploy inputs as flags (the same camelCase keys as the JSON input). */
export const DEPLOY_OPTIONS: Record<string, Options> = {
  ...CLUSTER_OPTIONS,
  amiId: { type: 'string', describe: 'AMI to deploy (ami-…), e.g. the amiId output of bake' },
  targetGroups: { type: 'array', string: true, describe: 'Target group names or ARNs (default: those of the current server group)' },
  capacity: { describe: 'Capacity {min,max,desired} (JSON input, or --capacity.min 2 --capacity.max 4 --capacity.desired 2); default: copied' },
  instanceType: { type: 'string', describe: 'Instance type (required on the first deploy; later: copied)' },
  subnets: { type: 'array', string: true, describe: 'Subnet ids (first deploy; later: copied)' },
  securityGroups: { type: 'array', string: true, describe: 'Security group ids' },
  keyName: { type: 'string', describe: 'EC2 key pair name' },
  iamInstanceProfile: { type: 'string', describe: 'Instance profile name or ARN' },
  userData: { type: 'string', describe: 'User data (plain text; encoded for you)' },
  blockDevices: { describe: 'EBS volumes [{deviceName, volumeSize, volumeType, encrypted, kmsKeyId, …}] (JSON input)' },
  requireImdsv2: { type: 'boolean', describe: 'Require IMDSv2 tokens (default true)' },
  healthTimeout: { type: 'string', describe: 'How long to wait for the new group to be healthy: 600, "90s", "15m" (default 10m)' },
  targetHealthyPercent: { type: 'number', describe: 'Share of desired instances that must be healthy (default 100)' },
  keepPrevious: { type: 'number', describe: 'Disabled server groups to keep for rollback (default 2)' },
  scaleDownDelay: { type: 'string', describe: 'Keep the old group running (disabled) this long for a fast rollback (default 0: scale to 0 at once)' },
  drainTimeout: { type: 'string', describe: 'Longest wait for old targets to drain (default: deregistration delay + 60s)' },
  ...LEDGER_OPTIONS,
  buildUrl: { type: 'string', describe: 'Build URL (Jenkins BUILD_URL), recorded in tags and the ledger' },
  gitCommit: { type: 'string', describe: 'Git commit SHA' },
  artifactUrl: { type: 'string', describe: 'Artifact URL (s3://…)' },
  version: { type: 'string', describe: 'Version of the application' },
  tags: { describe: 'Extra tags for the server group {key: value} (JSON input)' },
  config: { type: 'string', describe: 'JSON file in your repo with defaults for any of these keys (given keys win)' },
  plan: { type: 'boolean', describe: 'Print what would be done and change nothing' },
  breakExpiredLock: { type: 'boolean', describe: 'Take over the cluster lock if its lease has expired (its holder died)' },
  lockLease: { type: 'string', describe: 'Lease of the cluster lock, renewed while running (default 120s)' },
  lockWait: { type: 'string', describe: 'Wait this long for a held lock before exiting 3 (default 0)' },
};

/** `deploy`: red/black deploy of an AMI with automatic rollback. */
export const deployStage: StageDefinition<DeployRequest, DeployOutput> = {
  name: 'deploy',
  describe: 'Red/black deploy an AMI as a new server group behind the load balancer; roll back automatically if it is not healthy',
  options: DEPLOY_OPTIONS,
  validate: (raw, region) => parseDeployRequest(raw, region),
  runDeadlineSeconds: (request) => clusterRunDeadlineSeconds(request),
  run: (request, { aws, log }) => deploy(aws(), request, log),
  // Deployed, but the ledger is short of a record: a human should look (docs/failure-modes.md).
  exitCodeFor: ledgerExitCode,
};
