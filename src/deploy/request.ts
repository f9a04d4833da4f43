import { existsSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { EBS_VOLUME_TYPES } from '../aws/ebs';
import { InputError } from '../core/errors';
import { parseDuration } from '../core/duration';
import { resolveClusterName, type ClusterName } from '../core/naming';
import {
  checkBoolean,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkPattern,
  checkString,
  checkStringList,
  checkTags,
  optionalString,
} from '../core/validate';
import { parseLedgerRef, type LedgerRef } from '../ledger/ledger-ref';

/** Capacity of a server group. */
export interface Capacity {
  min: number;
  max: number;
  desired: number;
}

/** One EBS block device of a first-deploy launch template. */
export interface BlockDevice {
  deviceName: string;
  volumeSize?: number;
  volumeType?: string;
  encrypted?: boolean;
  kmsKeyId?: string;
  iops?: number;
  throughput?: number;
  deleteOnTermination?: boolean;
}

/** Launch settings; on later deploys they override the copied launch template. */
export interface LaunchSettings {
  instanceType?: string;
  subnets?: string[];
  securityGroups?: string[];
  keyName?: string;
  iamInstanceProfile?: string;
  userData?: string;
  blockDevices?: BlockDevice[];
  /** Require IMDSv2 tokens (default true). */
  requireImdsv2?: boolean;
}

/** Build metadata carried into tags and the ledger. */
export interface BuildMetadata {
  buildUrl?: string;
  gitCommit?: string;
  artifactUrl?: string;
  version?: string;
}

/** A validated deploy request. */
export interface DeployRequest {
  cluster: ClusterName;
  region: string;
  amiId: string;
  /** Target group names or ARNs as given (resolved to ARNs before any change). */
  targetGroups?: string[];
  capacity?: Capacity;
  launch: LaunchSettings;
  healthTimeoutSeconds: number;
  targetHealthyPercent: number;
  keepPrevious: number;
  scaleDownDelaySeconds: number;
  drainTimeoutSeconds?: number;
  ledger: LedgerRef;
  build: BuildMetadata;
  tags: Record<string, string>;
  plan: boolean;
  breakExpiredLock: boolean;
  lockLeaseSeconds: number;
  lockWaitSeconds: number;
  /** Traffic guard override: the new group may leave target groups the cluster serves now. */
  allowRemovingTargetGroups?: boolean;
  /** Traffic guard override: a desired capacity of 0 may take the cluster out of service. */
  allowScaleToZero?: boolean;
}

export const AMI_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const TARGET_GROUP = /^(arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+|[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?)$/;
const KEY_NAME = /^[\x20-\x7e]{1,255}$/;
const INSTANCE_PROFILE = /^(arn:aws[a-z-]*:iam::\d{12}:instance-profile\/[\w+=,.@/-]+|[\w+=,.@-]{1,128})$/;
/** Launch template user data is at most 16 KB once base64-encoded. */
const MAX_USER_DATA_BASE64 = 16 * 1024;

/** Input keys of the deploy stage (JSON and flags). */
export const DEPLOY_KEYS = [
  'cluster', 'app', 'stack', 'detail', 'region', 'amiId', 'targetGroups', 'capacity', 'instanceType', 'subnets',
  'securityGroups', 'keyName', 'iamInstanceProfile', 'userData', 'blockDevices', 'requireImdsv2', 'healthTimeout',
  'targetHealthyPercent', 'keepPrevious', 'scaleDownDelay', 'drainTimeout', 'ledger', 'buildUrl', 'gitCommit',
  'artifactUrl', 'version', 'tags', 'config', 'plan', 'breakExpiredLock', 'lockLease', 'lockWait',
  'allowRemovingTargetGroups', 'allowScaleToZero',
] as const;

/**
 * Merges the user's `config` JSON file under the given keys: what the step
 * call says wins over the file.
 */
export function mergeConfigFile(raw: Record<string, unknown>, allowedKeys: readonly string[]): Record<string, unknown> {
  if (raw.config === undefined || raw.config === null) return raw;
  const path = checkString('config', raw.config);
  const full = resolvePath(path);
  if (!existsSync(full)) throw new InputError('config', `file ${path} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(full, 'utf8'));
  } catch (error) {
    throw new InputError('config', `${path} is not valid JSON: ${(error as Error).message}`);
  }
  const fromFile = checkObject('config', parsed);
  checkKnownKeys('config', fromFile, allowedKeys.filter((k) => k !== 'config'));
  const merged: Record<string, unknown> = { ...fromFile };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'config' || value === undefined) continue;
    const base = merged[key];
    merged[key] = isObject(base) && isObject(value) ? { ...base, ...value } : value;
  }
  return merged;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates `{min, max, desired}`: whole numbers, min ≤ desired ≤ max. */
export function parseCapacity(value: unknown): Capacity {
  const capacity = checkObject('capacity', value);
  checkKnownKeys('capacity', capacity, ['min', 'max', 'desired']);
  const min = checkInteger('capacity.min', capacity.min, 0, 10_000);
  const max = checkInteger('capacity.max', capacity.max, 0, 10_000);
  const desired = capacity.desired === undefined ? min : checkInteger('capacity.desired', capacity.desired, 0, 10_000);
  if (min > max) throw new InputError('capacity', `min (${min}) must not exceed max (${max})`);
  if (desired < min || desired > max) throw new InputError('capacity.desired', `must be between min (${min}) and max (${max}) (got ${desired})`);
  return { min, max, desired };
}

function parseBlockDevices(value: unknown): BlockDevice[] {
  if (!Array.isArray(value)) throw new InputError('blockDevices', 'must be a list of {deviceName, volumeSize, volumeType, …}');
  return value.map((item, index) => {
    const field = `blockDevices[${index}]`;
    const device = checkObject(field, item);
    checkKnownKeys(field, device, ['deviceName', 'volumeSize', 'volumeType', 'encrypted', 'kmsKeyId', 'iops', 'throughput', 'deleteOnTermination']);
    const result: BlockDevice = { deviceName: checkPattern(`${field}.deviceName`, device.deviceName, /^\/dev\/[a-z0-9]+$|^xvd[a-z]+$/, '/dev/xvda') };
    if (device.volumeSize !== undefined) result.volumeSize = checkInteger(`${field}.volumeSize`, device.volumeSize, 1, 65_536);
    if (device.volumeType !== undefined) {
      const type = checkString(`${field}.volumeType`, device.volumeType);
      if (!(EBS_VOLUME_TYPES as readonly string[]).includes(type)) throw new InputError(`${field}.volumeType`, `must be one of ${EBS_VOLUME_TYPES.join(', ')} (got ${JSON.stringify(type)})`);
      result.volumeType = type;
    }
    if (device.encrypted !== undefined) result.encrypted = checkBoolean(`${field}.encrypted`, device.encrypted);
    if (device.kmsKeyId !== undefined) result.kmsKeyId = checkString(`${field}.kmsKeyId`, device.kmsKeyId);
    if (device.iops !== undefined) result.iops = checkInteger(`${field}.iops`, device.iops, 100, 256_000);
    if (device.throughput !== undefined) result.throughput = checkInteger(`${field}.throughput`, device.throughput, 125, 2_000);
    if (device.deleteOnTermination !== undefined) result.deleteOnTermination = checkBoolean(`${field}.deleteOnTermination`, device.deleteOnTermination);
    return result;
  });
}

/** Validates launch settings (shared by deploy and rollback's redeploy). */
export function parseLaunchSettings(raw: Record<string, unknown>): LaunchSettings {
  const launch: LaunchSettings = {};
  if (raw.instanceType !== undefined) launch.instanceType = checkPattern('instanceType', raw.instanceType, INSTANCE_TYPE, 't3.micro');
  if (raw.subnets !== undefined) {
    launch.subnets = checkStringList('subnets', raw.subnets);
    launch.subnets.forEach((id, i) => checkPattern(`subnets[${i}]`, id, SUBNET_ID, 'subnet-0123456789abcdef0'));
    if (launch.subnets.length === 0) throw new InputError('subnets', 'must name at least one subnet');
  }
  if (raw.securityGroups !== undefined) {
    launch.securityGroups = checkStringList('securityGroups', raw.securityGroups);
    launch.securityGroups.forEach((id, i) => checkPattern(`securityGroups[${i}]`, id, SECURITY_GROUP_ID, 'sg-0123456789abcdef0'));
  }
  if (raw.keyName !== undefined) launch.keyName = checkPattern('keyName', raw.keyName, KEY_NAME, 'a key pair name');
  if (raw.iamInstanceProfile !== undefined) {
    launch.iamInstanceProfile = checkPattern('iamInstanceProfile', raw.iamInstanceProfile, INSTANCE_PROFILE, 'an instance profile name or ARN');
  }
  if (raw.userData !== undefined) {
    const userData = typeof raw.userData === 'string' ? raw.userData : checkString('userData', raw.userData);
    const encodedLength = Buffer.byteLength(Buffer.from(userData, 'utf8').toString('base64'));
    if (encodedLength > MAX_USER_DATA_BASE64) {
      throw new InputError('userData', `is ${encodedLength} bytes once base64-encoded; launch templates take at most ${MAX_USER_DATA_BASE64}`);
    }
    launch.userData = userData;
  }
  if (raw.blockDevices !== undefined) launch.blockDevices = parseBlockDevices(raw.blockDevices);
  if (raw.requireImdsv2 !== undefined) launch.requireImdsv2 = checkBoolean('requireImdsv2', raw.requireImdsv2);
  return launch;
}

/** Validates build metadata (all optional strings; URLs must be http(s)). */
export function parseBuildMetadata(raw: Record<string, unknown>): BuildMetadata {
  const build: BuildMetadata = {};
  const buildUrl = optionalString('buildUrl', raw.buildUrl);
  if (buildUrl !== undefined) build.buildUrl = checkPattern('buildUrl', buildUrl, /^https?:\/\/\S+$/, 'https://jenkins.example.com/job/web/42/');
  const gitCommit = optionalString('gitCommit', raw.gitCommit);
  if (gitCommit !== undefined) build.gitCommit = checkPattern('gitCommit', gitCommit, /^[0-9a-f]{7,64}$/i, 'a git commit SHA');
  const artifactUrl = optionalString('artifactUrl', raw.artifactUrl);
  if (artifactUrl !== undefined) build.artifactUrl = checkPattern('artifactUrl', artifactUrl, /^(s3|https?):\/\/\S+$/, 's3://bucket/key');
  const version = optionalString('version', raw.version);
  if (version !== undefined) build.version = checkPattern('version', version, /^[\w.+-]{1,128}$/, '1.2.3 (letters, digits, . _ + -)');
  return build;
}

/** Parses the lock options shared by deploy and rollback. */
export function parseLockOptions(raw: Record<string, unknown>): Pick<DeployRequest, 'breakExpiredLock' | 'lockLeaseSeconds' | 'lockWaitSeconds'> {
  const lockLeaseSeconds = raw.lockLease === undefined ? 120 : parseDuration('lockLease', raw.lockLease);
  if (lockLeaseSeconds < 5) throw new InputError('lockLease', `must be at least 5 seconds (got ${lockLeaseSeconds})`);
  return {
    breakExpiredLock: raw.breakExpiredLock === undefined ? false : checkBoolean('breakExpiredLock', raw.breakExpiredLock),
    lockLeaseSeconds,
    lockWaitSeconds: raw.lockWait === undefined ? 0 : parseDuration('lockWait', raw.lockWait),
  };
}

/** Validates everything a deploy needs that can be checked without AWS. */
export function parseDeployRequest(input: Record<string, unknown>, region: string): DeployRequest {
  const raw = mergeConfigFile(input, DEPLOY_KEYS);
  checkKnownKeys('', raw, DEPLOY_KEYS);
  const cluster = resolveClusterName(raw);
  if (raw.amiId === undefined) throw new InputError('amiId', 'is required: the AMI to deploy, e.g. the amiId output of bakeAmi');
  const amiId = checkPattern('amiId', raw.amiId, AMI_ID, 'ami-0123456789abcdef0');
  let targetGroups: string[] | undefined;
  if (raw.targetGroups !== undefined) {
    targetGroups = checkStringList('targetGroups', raw.targetGroups);
    targetGroups.forEach((tg, i) => checkPattern(`targetGroups[${i}]`, tg, TARGET_GROUP, 'a target group name or ARN'));
  }
  const healthTimeoutSeconds = raw.healthTimeout === undefined ? 600 : parseDuration('healthTimeout', raw.healthTimeout);
  if (healthTimeoutSeconds <= 0) throw new InputError('healthTimeout', 'must be more than 0 seconds');
  const targetHealthyPercent = raw.targetHealthyPercent === undefined ? 100 : checkInteger('targetHealthyPercent', raw.targetHealthyPercent, 1, 100);
  const tags = raw.tags === undefined ? {} : checkTags('tags', raw.tags);
  for (const key of Object.keys(tags)) {
    if (key.startsWith('bluegreen:')) throw new InputError(`tags.${key}`, 'the bluegreen: prefix is reserved for the tags bluegreen writes');
  }
  const request: DeployRequest = {
    cluster,
    region,
    amiId,
    ...(targetGroups ? { targetGroups } : {}),
    ...(raw.capacity !== undefined ? { capacity: parseCapacity(raw.capacity) } : {}),
    launch: parseLaunchSettings(raw),
    healthTimeoutSeconds,
    targetHealthyPercent,
    keepPrevious: raw.keepPrevious === undefined ? 2 : checkInteger('keepPrevious', raw.keepPrevious, 0, 50),
    scaleDownDelaySeconds: raw.scaleDownDelay === undefined ? 0 : parseDuration('scaleDownDelay', raw.scaleDownDelay),
    ...(raw.drainTimeout !== undefined ? { drainTimeoutSeconds: parseDuration('drainTimeout', raw.drainTimeout) } : {}),
    ledger: parseLedgerRef(raw.ledger),
    build: parseBuildMetadata(raw),
    tags,
    plan: raw.plan === undefined ? false : checkBoolean('plan', raw.plan),
    ...parseLockOptions(raw),
    ...(raw.allowRemovingTargetGroups !== undefined
      ? { allowRemovingTargetGroups: checkBoolean('allowRemovingTargetGroups', raw.allowRemovingTargetGroups) }
      : {}),
    ...(raw.allowScaleToZero !== undefined ? { allowScaleToZero: checkBoolean('allowScaleToZero', raw.allowScaleToZero) } : {}),
  };
  return request;
}
