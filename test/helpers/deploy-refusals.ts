/**
 * Single-fault mutations of a valid deploy input that need no file and no AWS
 * to refuse: each must exit 2 naming `field`, its message matching `pattern`.
 * test/unit/stages/deploy-bad-input.test.ts runs them without AWS clients,
 * test/deploy/deploy-refusals-sandbox.test.ts on the sandbox with the refusals
 * that need AWS to tell, counting mutating calls at the gateway.
 */

/** One bad input: the keys changed (`change`) or removed (`drop`) from a valid input. */
export interface DeployRefusal {
  title: string;
  change: Record<string, unknown>;
  drop?: string[];
  field: string;
  pattern: RegExp;
}

/** A user metric of `canaryAnalysis` with good dimensions, for the cases to break. */
const METRIC = {
  name: 'queueDepth',
  namespace: 'Web',
  metricName: 'QueueDepth',
  canaryDimensions: { AutoScalingGroupName: '{canaryServerGroup}' },
  baselineDimensions: { AutoScalingGroupName: '{baselineServerGroup}' },
};
const canary = (analysis: Record<string, unknown>) => ({
  strategy: 'canary',
  steps: [10, 100],
  canaryAnalysis: analysis,
});

/** A bad canary setup that needs no AWS to tell. */
const CANARY_REFUSALS: DeployRefusal[] = [
  {
    title: 'canary steps not ending at 100',
    change: { strategy: 'canary', steps: [10, 50] },
    field: 'steps',
    pattern: /must end at 100/,
  },
  {
    title: 'canary steps with no step below 100',
    change: { strategy: 'canary', steps: [100] },
    field: 'steps',
    pattern: /a canary needs at least one step below 100/,
  },
  {
    title: 'canaryAnalysis passScore above 100',
    change: canary({ passScore: 150 }),
    field: 'canaryAnalysis.passScore',
    pattern: /from 0 to 100 \(got 150\)/,
  },
  {
    title: 'canaryAnalysis marginalScore below 0',
    change: canary({ marginalScore: -1 }),
    field: 'canaryAnalysis.marginalScore',
    pattern: /from 0 to 100 \(got -1\)/,
  },
  {
    title: 'canaryAnalysis marginalScore above passScore',
    change: canary({ passScore: 80, marginalScore: 90 }),
    field: 'canaryAnalysis.marginalScore',
    pattern: /must not be above passScore/,
  },
  {
    title: 'a canary metric dimension naming an unknown placeholder',
    change: canary({ metrics: [{ ...METRIC, canaryDimensions: { AutoScalingGroupName: '{canaryGroup}' } }] }),
    field: 'canaryAnalysis.metrics[0].canaryDimensions.AutoScalingGroupName',
    pattern: /\{canaryGroup\} is not one of \{canaryTargetGroup\}, /,
  },
  {
    title: 'a canary metric with the same dimensions on both sides',
    change: canary({ metrics: [{ ...METRIC, baselineDimensions: METRIC.canaryDimensions }] }),
    field: 'canaryAnalysis.metrics[0].baselineDimensions',
    pattern: /the same as canaryDimensions: the metric would be compared with itself/,
  },
  {
    title: 'a canary metric without dimensions',
    change: canary({ metrics: [{ ...METRIC, canaryDimensions: {}, baselineDimensions: {} }] }),
    field: 'canaryAnalysis.metrics[0].canaryDimensions',
    pattern: /at least one dimension/,
  },
  {
    title: 'a canary metric dimension that is not a string',
    change: canary({ metrics: [{ ...METRIC, canaryDimensions: { AutoScalingGroupName: 5 } }] }),
    field: 'canaryAnalysis.metrics[0].canaryDimensions.AutoScalingGroupName',
    pattern: /string/,
  },
  {
    title: 'canaryAnalysis without strategy canary',
    change: { canaryAnalysis: { passScore: 90 } },
    field: 'canaryAnalysis',
    pattern: /only with strategy: canary/,
  },
];

export const DEPLOY_REFUSALS: DeployRefusal[] = [
  { title: 'AMI id of the wrong shape', change: { amiId: 'ami-123' }, field: 'amiId', pattern: /must look like ami-/ },
  { title: 'no AMI id', change: {}, drop: ['amiId'], field: 'amiId', pattern: /is required/ },
  {
    title: 'capacity min > max',
    change: { capacity: { min: 3, max: 2, desired: 2 } },
    field: 'capacity',
    pattern: /min \(3\) must not exceed max \(2\)/,
  },
  {
    title: 'desired above max',
    change: { capacity: { min: 1, max: 2, desired: 5 } },
    field: 'capacity.desired',
    pattern: /between min \(1\) and max \(2\)/,
  },
  {
    title: 'negative health timeout',
    change: { healthTimeout: -5 },
    field: 'healthTimeout',
    pattern: /0 or more seconds/,
  },
  {
    title: 'zero health timeout',
    change: { healthTimeout: 0 },
    field: 'healthTimeout',
    pattern: /more than 0 seconds/,
  },
  {
    title: 'health timeout that is not a duration',
    change: { healthTimeout: 'soon' },
    field: 'healthTimeout',
    pattern: /like 90, "90s"/,
  },
  {
    title: 'healthy percent over 100',
    change: { targetHealthyPercent: 150 },
    field: 'targetHealthyPercent',
    pattern: /between 1 and 100/,
  },
  { title: 'negative keepPrevious', change: { keepPrevious: -1 }, field: 'keepPrevious', pattern: /between 0 and 50/ },
  {
    title: 'instance type of the wrong shape',
    change: { instanceType: 'huge' },
    field: 'instanceType',
    pattern: /must look like t3.micro/,
  },
  {
    title: 'subnet id of the wrong shape',
    change: { subnets: ['subnet-zzz'] },
    field: 'subnets[0]',
    pattern: /must look like subnet-/,
  },
  { title: 'no subnets', change: { subnets: [] }, field: 'subnets', pattern: /at least one subnet/ },
  {
    title: 'security group id of the wrong shape',
    change: { securityGroups: ['sg-1'] },
    field: 'securityGroups[0]',
    pattern: /must look like sg-/,
  },
  {
    title: 'reserved aws: tag',
    change: { tags: { 'aws:owner': 'me' } },
    field: 'tags.aws:owner',
    pattern: /must not start with "aws:"/,
  },
  {
    title: 'reserved bluegreen: tag',
    change: { tags: { 'bluegreen:cluster': 'x' } },
    field: 'tags.bluegreen:cluster',
    pattern: /reserved/,
  },
  {
    title: 'bad ledger bucket name',
    change: { ledger: { bucket: 'Bad_Bucket' } },
    field: 'ledger.bucket',
    pattern: /bucket/,
  },
  { title: 'no ledger', change: {}, drop: ['ledger'], field: 'ledger.bucket', pattern: /is required/ },
  { title: 'misspelt key', change: { amiID: 'ami-0123456789abcdef0' }, field: 'amiID', pattern: /not a known key/ },
  {
    title: 'user data over 16 KB',
    change: { userData: 'x'.repeat(20_000) },
    field: 'userData',
    pattern: /at most 16384/,
  },
  {
    title: 'build URL that is not a URL',
    change: { buildUrl: 'job 42' },
    field: 'buildUrl',
    pattern: /must look like https?:/,
  },
  {
    title: 'scale-down delay in words',
    change: { scaleDownDelay: '5 minutes' },
    field: 'scaleDownDelay',
    pattern: /like 90, "90s"/,
  },
  {
    title: 'lock lease under 5 seconds',
    change: { lockLease: '2s' },
    field: 'lockLease',
    pattern: /at least 5 seconds/,
  },
  {
    title: 'region that is not a region',
    change: { region: 'moon-1' },
    field: 'region',
    pattern: /must be an AWS region/,
  },
  {
    title: 'lock lease of a fraction of a second',
    change: { lockLease: '7.5' },
    field: 'lockLease',
    pattern: /whole number of seconds \(got 7\.5\)/,
  },
  {
    title: 'unknown strategy',
    change: { strategy: 'blue-green' },
    field: 'strategy',
    pattern: /red-black, rolling or canary/,
  },
  {
    title: 'beforeTraffic with strategy canary',
    change: { strategy: 'canary', beforeTraffic: './smoke.sh' },
    field: 'beforeTraffic',
    pattern: /not with strategy: canary/,
  },
  {
    title: 'classic load balancers with strategy canary',
    change: { strategy: 'canary', loadBalancerNames: ['web-elb'] },
    field: 'loadBalancerNames',
    pattern: /not with strategy: canary/,
  },
  { title: 'rolling steps not ending at 100', change: { steps: '25,50' }, field: 'steps', pattern: /100/ },
  ...CANARY_REFUSALS,
  {
    title: 'healthy percent of 0',
    change: { targetHealthyPercent: 0 },
    field: 'targetHealthyPercent',
    pattern: /between 1 and 100/,
  },
  { title: 'watch in words', change: { watch: 'a while' }, field: 'watch', pattern: /like 90, "90s"/ },
  {
    title: 'negative drain timeout',
    change: { drainTimeout: -1 },
    field: 'drainTimeout',
    pattern: /0 or more seconds/,
  },
  {
    title: 'version with a blank',
    change: { version: '1.0 beta' },
    field: 'version',
    pattern: /must look like 1\.2\.3/,
  },
  {
    title: 'git commit that is not a SHA',
    change: { gitCommit: 'main' },
    field: 'gitCommit',
    pattern: /git commit SHA/,
  },
  { title: 'capacity as a number', change: { capacity: 2 }, field: 'capacity', pattern: /must be an object/ },
  {
    title: 'classic load balancer name starting with a hyphen',
    change: { loadBalancerNames: ['-web-elb'] },
    field: 'loadBalancerNames[0]',
    pattern: /must look like a classic load balancer name/,
  },
  {
    title: 'classic load balancer name of 33 characters',
    change: { loadBalancerNames: ['web-elb', 'a'.repeat(33)] },
    field: 'loadBalancerNames[1]',
    pattern: /must look like a classic load balancer name/,
  },
  {
    title: 'classic load balancer name with an underscore',
    change: { loadBalancerNames: ['web_elb'] },
    field: 'loadBalancerNames[0]',
    pattern: /must look like a classic load balancer name/,
  },
  { title: 'plan that is not a boolean', change: { plan: 'maybe' }, field: 'plan', pattern: /true or false/ },
];

/** Refusals of what the input names but the region does not have (read-only checks before any change). */
export const MISSING_RESOURCE_REFUSALS: DeployRefusal[] = [
  {
    title: 'an AMI that does not exist',
    change: { amiId: 'ami-0123456789abcdef0' },
    field: 'amiId',
    pattern: /does not exist in us-east-1/,
  },
  {
    title: 'unknown target group',
    change: { targetGroups: ['no-such-tg'] },
    field: 'targetGroups[0]',
    pattern: /target group no-such-tg does not exist/,
  },
  {
    title: 'unknown classic load balancer',
    change: { loadBalancerNames: ['no-such-elb'] },
    field: 'loadBalancerNames[0]',
    pattern: /classic load balancer no-such-elb does not exist in us-east-1/,
  },
  {
    title: 'subnet that does not exist',
    change: { subnets: ['subnet-0123456789abcdef0'] },
    field: 'subnets[0]',
    pattern: /does not exist/,
  },
  {
    title: 'security group that does not exist',
    change: { securityGroups: ['sg-0123456789abcdef0'] },
    field: 'securityGroups[0]',
    pattern: /does not exist/,
  },
];
