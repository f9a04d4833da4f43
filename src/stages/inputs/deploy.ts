import { InputError } from '../../core/errors';
import { checkBoolean, checkPattern } from '../../core/validate';
import {
  AMI_ID,
  CLASSIC_LOAD_BALANCER,
  INSTANCE_PROFILE,
  INSTANCE_TYPE,
  KEY_NAME,
  SECURITY_GROUP_ID,
  SUBNET_ID,
  LISTENER_ARN,
  TARGET_GROUP,
  checkUserData,
  checkUserTags,
  parseBlockDevices,
  parseCapacity,
} from '../../deploy/request';
import { parseSteps } from '../../deploy/rolling';
import { ROLLOUT_INPUTS } from './rollout';
import { parseCanaryAnalysis } from '../../verify/canary-settings';
import { booleanInput, durationInput, input, integerInput, listInput, stringInput } from './declare';
import {
  BUILD_INPUTS,
  CLUSTER_INPUTS,
  CONFIG_INPUTS,
  LEDGER_INPUTS,
  LOCK_INPUTS,
  REGION_INPUTS,
  SERVER_GROUP_INPUTS,
  watchInputs,
} from './shared';

const COPIED = 'copied from the current server group';

const DEPLOY_WATCH = watchInputs({
  alarms:
    'CloudWatch alarm names: one in ALARM at the start stops the deploy before any change (exit 3); one going to ALARM during the watch rolls back (exit 1)',
  watch:
    'How long after cutover to watch alarms and gates while the previous group stays disabled at full capacity; a breach re-enables it in seconds (exit 1). On AWS ALB metrics come per minute: watch minutes, e.g. "10m"',
  gates:
    "Built-in gates on the new group's target groups during the watch, from ALB metrics: {maxErrorRate, maxErrorRateIncrease, maxLatencyMs, maxLatencyRatio, latencySlackMs, minRequests} (JSON; null removes a limit), or false for none",
});

/** The inputs of `deploy`, in the order they are checked. */
export const DEPLOY_INPUTS = {
  ...CLUSTER_INPUTS,
  ...REGION_INPUTS,
  amiId: input({
    kind: 'string',
    describe: 'AMI to deploy (ami-…), e.g. the amiId output of bake',
    required: 'unless amis is given',
    parse: (value, field) =>
      value === undefined ? undefined : checkPattern(field, value, AMI_ID, 'ami-0123456789abcdef0'),
  }),
  ...ROLLOUT_INPUTS,
  targetGroups: listInput('Target group names or ARNs', {
    defaultText: 'those of the current server group',
    item: (name, field) => checkPattern(field, name, TARGET_GROUP, 'a target group name or ARN'),
  }),
  loadBalancerNames: listInput('Classic load balancer names (alone or beside targetGroups)', {
    defaultText: 'those of the current server group',
    item: (name, field) =>
      checkPattern(field, name, CLASSIC_LOAD_BALANCER, 'a classic load balancer name, e.g. web-elb'),
  }),
  capacity: input({
    kind: 'object',
    describe: 'Capacity {min, max, desired} (JSON, or --capacity.min 2 --capacity.max 4 --capacity.desired 2)',
    required: 'on the first deploy',
    defaultText: COPIED,
    parse: (value) => (value === undefined ? undefined : parseCapacity(value)),
  }),
  instanceType: stringInput('Instance type', {
    required: 'on the first deploy',
    defaultText: COPIED,
    pattern: INSTANCE_TYPE,
    shape: 't3.micro',
  }),
  subnets: listInput('Subnet ids', {
    required: 'on the first deploy',
    defaultText: COPIED,
    item: (id, field) => checkPattern(field, id, SUBNET_ID, 'subnet-0123456789abcdef0'),
    whenEmpty: 'must name at least one subnet',
  }),
  securityGroups: listInput('Security group ids', {
    defaultText: COPIED,
    item: (id, field) => checkPattern(field, id, SECURITY_GROUP_ID, 'sg-0123456789abcdef0'),
  }),
  keyName: stringInput('EC2 key pair name', { defaultText: COPIED, pattern: KEY_NAME, shape: 'a key pair name' }),
  iamInstanceProfile: stringInput('Instance profile name or ARN', {
    defaultText: COPIED,
    pattern: INSTANCE_PROFILE,
    shape: 'an instance profile name or ARN',
  }),
  userData: input({
    kind: 'string',
    describe: 'User data (plain text; encoded for you)',
    defaultText: COPIED,
    secret: true,
    parse: (value, field) => (value === undefined ? undefined : checkUserData(field, value)),
  }),
  blockDevices: input({
    kind: 'object',
    describe:
      'EBS volumes [{deviceName, volumeSize, volumeType, encrypted, kmsKeyId, iops, throughput, deleteOnTermination}] (JSON)',
    defaultText: COPIED,
    docType: 'List of Maps',
    parse: (value) => (value === undefined ? undefined : parseBlockDevices(value)),
  }),
  requireImdsv2: input({
    kind: 'boolean',
    describe: 'Require IMDSv2 tokens',
    defaultText: 'copied; true on the first deploy',
    parse: (value, field) => (value === undefined ? undefined : checkBoolean(field, value)),
  }),
  ...SERVER_GROUP_INPUTS,
  targetHealthyPercent: integerInput(
    'Share of desired instances that must be healthy',
    { min: 1, max: 100, default: 100 },
    { kind: 'number' },
  ),
  ...LEDGER_INPUTS,
  ...BUILD_INPUTS,
  tags: input({
    kind: 'object',
    describe: 'Extra tags of the server group {key: value} (JSON, or --tags.team web)',
    parse: (value, field) => (value === undefined ? {} : checkUserTags(field, value)),
  }),
  ...CONFIG_INPUTS,
  plan: booleanInput('Print what would be done and change nothing', false),
  ...LOCK_INPUTS,
  allowRemovingTargetGroups: booleanInput(
    'Traffic guard override: let the new group leave out target groups the cluster serves now (else exit 2, nothing changed)',
    false,
  ),
  allowScaleToZero: booleanInput(
    'Traffic guard override: allow desired capacity 0 while a group serves (else exit 2, nothing changed)',
    false,
  ),
  alarms: DEPLOY_WATCH.alarms,
  ignoreAlarmsAtStart: booleanInput(
    'Deploy even when an alarm is already in ALARM at the start (e.g. the fix for it); it then counts only if it fires anew',
    false,
  ),
  watch: DEPLOY_WATCH.watch,
  gates: DEPLOY_WATCH.gates,
  strategy: input({
    kind: 'string',
    describe:
      "red-black: the new group takes all traffic once healthy. rolling: it grows by steps while the same share of the previous group's instances leave the target groups (still running), each step watched for stepWatch; a breach puts the previous group back at full strength. canary: the new group, in its own target group, takes each step's share of the requests by listener weights, compared with the production target group for stepWatch (canaryAnalysis); a failed step puts the listeners back at once and removes it",
    default: 'red-black',
    choices: ['red-black', 'rolling', 'canary'],
    parse: (value, field) => {
      if (value !== 'red-black' && value !== 'rolling' && value !== 'canary')
        throw new InputError(field, `must be red-black, rolling or canary (got ${JSON.stringify(value)})`);
      return value;
    },
  }),
  steps: input({
    kind: 'list',
    describe:
      'Rolling and canary steps: ascending percentages ending at 100 (rolling: of desired capacity; canary: of the requests, at least one step below 100)',
    default: '25,50,100',
    parse: (value, field) => parseSteps(value, field),
  }),
  stepWatch: durationInput(
    'Rolling: how long to watch health, alarms and gates after each step. Canary: how long each step is analysed',
    { default: 60 },
  ),
  beforeTraffic: stringInput(
    'A shell command (sh -c) run once the new group is healthy, before it takes production traffic, with BLUEGREEN_SERVER_GROUP, BLUEGREEN_VERSION, BLUEGREEN_AMI_ID and BLUEGREEN_INSTANCES (JSON [{id, privateIp}]); exit 0 goes on, anything else (or the timeout) rolls back automatically (exit 1) with its last lines; not with strategy: canary',
    { secret: true },
  ),
  afterTraffic: stringInput(
    'A shell command (sh -c) run right after cutover, inside the watch (needs watch), with the variables of beforeTraffic; a non-zero exit or the timeout is a breach: the previous group back (exit 1)',
    { secret: true },
  ),
  beforeTrafficTimeout: durationInput(
    'How long beforeTraffic (and afterTraffic) may run before it is killed (a failure)',
    {
      default: '10m',
      min: 1,
    },
  ),
  testListener: stringInput(
    "With beforeTraffic or hold: the ARN of a listener (e.g. port 8080 on the same ALB) that forwards only to the new group while the command runs, or while it is held (BLUEGREEN_TEST_URL, BLUEGREEN_TEST_LISTENER_ARN), through a temporary target group with the first target group's settings; its previous action comes back afterwards (on promote or abort when held)",
    { pattern: LISTENER_ARN, shape: 'arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<name>/<id>/<id>' },
  ),
  hold: booleanInput(
    'Hold for a human: stop once the new group is healthy (behind testListener when given, else in no production target group), phase held, exit 0 with status held; blueGreenPromote finishes the deploy as asked here (strategy, watch, gates), blueGreenAbort removes the group. Until then a deploy or rollback on the cluster exits 3. With regions every region holds (status held) and promote/abort take the regions. Not with strategy: canary',
    false,
  ),
  canaryAnalysis: input({
    kind: 'object',
    describe:
      'Canary: {passScore (95), marginalScore (75), minRequests (20), period (AWS seconds, 60), metrics: [{name, namespace, metricName, stat, canaryDimensions, baselineDimensions, bad: higher|lower|either, weight, critical, tolerance, minDelta}]} (JSON; each side at least one dimension, the two sides different; values may hold {canaryTargetGroup}, {baselineTargetGroup}, {loadBalancer}, {canaryServerGroup}, {baselineServerGroup}); errorRate, latencyP50 and latencyP99 are always judged; only with strategy: canary',
    parse: (value, field) => parseCanaryAnalysis(value, field),
  }),
};
