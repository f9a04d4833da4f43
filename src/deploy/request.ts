import { EBS_VOLUME_TYPES } from '../aws/ebs';
import { InputError } from '../core/errors';
import type { ClusterName } from '../core/naming';
import {
  checkBoolean,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkPattern,
  checkString,
  checkTags,
} from '../core/validate';
import type { LedgerRef } from '../ledger/ledger-ref';
import type { VerifySettings } from '../verify/prepare';
import type { RollingSettings } from './rolling';
import type { CanarySettings } from './canary';

/**
 * The deploy request the engine takes, and the checks of its structured
 * inputs. The stage's inputs are declared in `src/stages/inputs/deploy.ts`.
 */

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

/** A command run against the new group before it takes production traffic (`beforeTraffic`, `beforeTrafficTimeout`). */
export interface BeforeTrafficSettings {
  /** Run by `sh -c`; exit 0 lets the deploy go on. */
  command: string;
  timeoutSeconds: number;
}

/** A validated deploy request. */
export interface DeployRequest {
  cluster: ClusterName;
  region: string;
  amiId: string;
  /** Target group names or ARNs as given (resolved to ARNs before any change). */
  targetGroups?: string[];
  /** Classic load balancer names (each must exist before any change). */
  loadBalancerNames?: string[];
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
  /** Alarms and the watch after cutover (absent: only health decides). */
  verify?: VerifySettings;
  /** `strategy: 'rolling'`: grow in steps, each watched (absent: all at once, red/black). */
  rolling?: RollingSettings;
  /** A command the new group must pass before production traffic (absent: none). */
  beforeTraffic?: BeforeTrafficSettings;
  /** A command run right after cutover, inside the watch; a failure is a breach (absent: none). */
  afterTraffic?: BeforeTrafficSettings;
  /** With `beforeTraffic`: the ARN of a listener that forwards to the new group alone while it runs. */
  testListener?: string;
  /** The rollout this deploy is one region of (recorded in the ledger). */
  rolloutId?: string;
  /** `strategy: 'canary'`: a share of the requests by listener weights, step by step, each analysed. */
  canary?: CanarySettings;
  /** Stop once the new group is healthy outside production (phase `held`) until promote or abort (`deploy/hold.ts`). */
  hold?: boolean;
}

export const AMI_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;
export const SUBNET_ID = /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/;
export const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/;
export const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
export const TARGET_GROUP =
  /^(arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+|[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?)$/;
/** A classic load balancer's name: 1-32 alphanumerics and hyphens, not starting or ending with a hyphen. */
export const CLASSIC_LOAD_BALANCER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
export const LISTENER_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+\/[0-9a-f]+$/;
export const KEY_NAME = /^[\x20-\x7e]{1,255}$/;
export const INSTANCE_PROFILE = /^(arn:aws[a-z-]*:iam::\d{12}:instance-profile\/[\w+=,.@/-]+|[\w+=,.@-]{1,128})$/;
/** Launch template user data is at most 16 KB once base64-encoded. */
const MAX_USER_DATA_BASE64 = 16 * 1024;

/** Validates `{min, max, desired}`: whole numbers, min ≤ desired ≤ max. */
export function parseCapacity(value: unknown): Capacity {
  const capacity = checkObject('capacity', value);
  checkKnownKeys('capacity', capacity, ['min', 'max', 'desired']);
  const min = checkInteger('capacity.min', capacity.min, 0, 10_000);
  const max = checkInteger('capacity.max', capacity.max, 0, 10_000);
  const desired = capacity.desired === undefined ? min : checkInteger('capacity.desired', capacity.desired, 0, 10_000);
  if (min > max) throw new InputError('capacity', `min (${min}) must not exceed max (${max})`);
  if (desired < min || desired > max)
    throw new InputError('capacity.desired', `must be between min (${min}) and max (${max}) (got ${desired})`);
  return { min, max, desired };
}

/** Validates first-deploy EBS volumes `[{deviceName, volumeSize, volumeType, …}]`. */
export function parseBlockDevices(value: unknown): BlockDevice[] {
  if (!Array.isArray(value))
    throw new InputError('blockDevices', 'must be a list of {deviceName, volumeSize, volumeType, …}');
  return value.map((item, index) => {
    const field = `blockDevices[${index}]`;
    const device = checkObject(field, item);
    checkKnownKeys(field, device, [
      'deviceName',
      'volumeSize',
      'volumeType',
      'encrypted',
      'kmsKeyId',
      'iops',
      'throughput',
      'deleteOnTermination',
    ]);
    const result: BlockDevice = {
      deviceName: checkPattern(`${field}.deviceName`, device.deviceName, /^\/dev\/[a-z0-9]+$|^xvd[a-z]+$/, '/dev/xvda'),
    };
    if (device.volumeSize !== undefined)
      result.volumeSize = checkInteger(`${field}.volumeSize`, device.volumeSize, 1, 65_536);
    if (device.volumeType !== undefined) {
      const type = checkString(`${field}.volumeType`, device.volumeType);
      if (!(EBS_VOLUME_TYPES as readonly string[]).includes(type))
        throw new InputError(
          `${field}.volumeType`,
          `must be one of ${EBS_VOLUME_TYPES.join(', ')} (got ${JSON.stringify(type)})`,
        );
      result.volumeType = type;
    }
    if (device.encrypted !== undefined) result.encrypted = checkBoolean(`${field}.encrypted`, device.encrypted);
    if (device.kmsKeyId !== undefined) result.kmsKeyId = checkString(`${field}.kmsKeyId`, device.kmsKeyId);
    if (device.iops !== undefined) result.iops = checkInteger(`${field}.iops`, device.iops, 100, 256_000);
    if (device.throughput !== undefined)
      result.throughput = checkInteger(`${field}.throughput`, device.throughput, 125, 2_000);
    if (device.deleteOnTermination !== undefined)
      result.deleteOnTermination = checkBoolean(`${field}.deleteOnTermination`, device.deleteOnTermination);
    return result;
  });
}

/** Checks user data fits a launch template once base64-encoded; the text itself is never echoed. */
export function checkUserData(field: string, value: unknown): string {
  // Any text, even blank, is valid user data.
  const userData = typeof value === 'string' ? value : checkString(field, value);
  const encodedLength = Buffer.byteLength(Buffer.from(userData, 'utf8').toString('base64'));
  if (encodedLength > MAX_USER_DATA_BASE64) {
    throw new InputError(
      field,
      `is ${encodedLength} bytes once base64-encoded; launch templates take at most ${MAX_USER_DATA_BASE64}`,
    );
  }
  return userData;
}

/** Tags for the server group: AWS's tag rules, and the `bluegreen:` prefix kept for the tags bluegreen writes. */
export function checkUserTags(field: string, value: unknown): Record<string, string> {
  const tags = checkTags(field, value);
  for (const key of Object.keys(tags)) {
    if (key.startsWith('bluegreen:'))
      throw new InputError(`${field}.${key}`, 'the bluegreen: prefix is reserved for the tags bluegreen writes');
  }
  return tags;
}
