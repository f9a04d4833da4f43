import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  assumeRoleProvider,
  roleSessionName,
  type AssumeRoleCall,
  type AssumedRole,
  type TemporaryCredentials,
} from './assume-role';
import { addCallDeadline } from './call-deadline';
import { CallCounter, globalCallCounter } from './call-counter';
import { addClusterWriteGuard } from './lock-guard';

/**
 * The one place AWS clients are built: retry, timeouts and endpoint handling
 * are set here once, and every call is counted. Every call is bounded in
 * time: connect and per-attempt timeouts that error (not the SDK's default
 * warning), at most `maxAttempts` attempts, and a deadline on the whole call
 * (`call-deadline.ts`). The cluster's clients refuse changes once the run's
 * lock cannot be proven and redact tag values (`lock-guard.ts`). Credentials and endpoints come
 * from the SDK's standard environment (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`, …,
 * `AWS_ENDPOINT_URL`), so the same code runs against AWS or a local emulator.
 */
export interface AwsClients {
  region: string;
  autoScaling: AutoScalingClient;
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
  /** Classic load balancers (the `elb` API), for `loadBalancerNames`. */
  elb: ElasticLoadBalancingClient;
  s3: S3Client;
  /** For the alarms of step and simple scaling policies, re-pointed at a new server group. */
  cloudWatch: CloudWatchClient;
  calls: CallCounter;
  /**
   * Clients built the same way (endpoint, credentials, retry, timeouts, call
   * counter) for another region, e.g. a ledger bucket's; built once per region.
   */
  forRegion(region: string): AwsClients;
  /**
   * Clients for the same region whose calls use `role` (another account),
   * assumed with STS with these clients' credentials on first use and renewed
   * before they expire; built once per role. `forRegion` keeps the role. The
   * session name defaults to the build's ({@link roleSessionName} of `BUILD_URL`).
   */
  asRole(role: AssumedRole, sessionName?: string): AwsClients;
}

/** Attempts per call, throttling included; adaptive mode also rate-limits the client side. */
const DEFAULT_MAX_ATTEMPTS = 10;

function maxAttempts(): number {
  const fromEnv = Number(process.env.BLUEGREEN_AWS_MAX_ATTEMPTS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_MAX_ATTEMPTS;
}

/** True when an endpoint override is in the environment (a local emulator). */
export function customEndpoint(): string | undefined {
  return process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
}

/** One attempt of a control-plane call: AWS answers these in well under a second; 30 s is a hung call. */
const ATTEMPT_TIMEOUT_MS = 30_000;
/** One attempt of an S3 call (an upload part may take minutes). */
const S3_ATTEMPT_TIMEOUT_MS = 5 * 60_000;

function attemptTimeoutMs(fallback: number): number {
  const fromEnv = Number(process.env.BLUEGREEN_AWS_ATTEMPT_TIMEOUT_MS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : fallback;
}

function baseConfig(region: string, attemptMs: number) {
  return {
    region,
    retryMode: 'adaptive',
    maxAttempts: maxAttempts(),
    customUserAgent: 'bluegreen',
    // Connection setup should be quick; an attempt past its timeout errors (and is retried), it does not just warn.
    requestHandler: {
      connectionTimeout: 5_000,
      requestTimeout: attemptMs,
      socketTimeout: attemptMs,
      throwOnRequestTimeout: true,
    },
  } as const;
}

/** Options of {@link createAwsClients}. */
export interface AwsClientOptions {
  /** Calls are counted here (default: the process-wide counter). */
  counter?: CallCounter;
  /** An explicit endpoint (else the SDK's environment, e.g. `AWS_ENDPOINT_URL`). */
  endpoint?: string;
  /** Explicit credentials or a provider of them, e.g. an assumed role's (else the SDK's default chain). */
  credentials?: TemporaryCredentials | (() => Promise<TemporaryCredentials>);
}

/** Builds a fresh set of clients; prefer {@link awsClients}, which builds them once per region. */
export function createAwsClients(region: string, options: AwsClientOptions = {}): AwsClients {
  return createRegionalClients(region, options, new Map());
}

/** Options of a set of clients; a role's clients remember whose credentials assume roles (never a chain of roles). */
interface RegionalOptions extends AwsClientOptions {
  /** Endpoint and credentials STS is called with to assume a role: those of the clients `asRole` was first called on. */
  assumeWith?: Pick<AwsClientOptions, 'endpoint' | 'credentials'>;
}

function createRegionalClients(
  region: string,
  options: RegionalOptions,
  siblings: Map<string, AwsClients>,
): AwsClients {
  const counter = options.counter ?? globalCallCounter;
  const extra = {
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const config = { ...baseConfig(region, attemptTimeoutMs(ATTEMPT_TIMEOUT_MS)), ...extra };
  const s3Config = {
    ...baseConfig(region, attemptTimeoutMs(S3_ATTEMPT_TIMEOUT_MS)),
    ...extra,
    // An endpoint override is an emulator: bucket-in-hostname (virtual-hosted) addressing cannot work there.
    forcePathStyle: Boolean(options.endpoint ?? customEndpoint()),
  };
  // Each client is built on first use: a stage pays only for the services its path calls (status builds no
  // S3 or CloudWatch client unless it reads a ledger); building one costs ~1 ms of a cold start, S3's ~3 ms.
  const wired = <
    C extends
      | AutoScalingClient
      | EC2Client
      | ElasticLoadBalancingClient
      | ElasticLoadBalancingV2Client
      | S3Client
      | CloudWatchClient,
  >(
    service: string,
    client: C,
  ): C => {
    counter.attach(service, client);
    addCallDeadline(service, client);
    if (service !== 's3') addClusterWriteGuard(service, client);
    return client;
  };
  let autoScaling: AutoScalingClient | undefined;
  let ec2: EC2Client | undefined;
  let elbv2: ElasticLoadBalancingV2Client | undefined;
  let elb: ElasticLoadBalancingClient | undefined;
  let s3: S3Client | undefined;
  let cloudWatch: CloudWatchClient | undefined;
  const roles = new Map<string, AwsClients>();
  const clients: AwsClients = {
    region,
    get autoScaling() {
      return (autoScaling ??= wired('autoscaling', new AutoScalingClient(config)));
    },
    get ec2() {
      return (ec2 ??= wired('ec2', new EC2Client(config)));
    },
    get elbv2() {
      return (elbv2 ??= wired('elbv2', new ElasticLoadBalancingV2Client(config)));
    },
    get elb() {
      return (elb ??= wired('elb', new ElasticLoadBalancingClient(config)));
    },
    get s3() {
      return (s3 ??= wired('s3', new S3Client(s3Config)));
    },
    get cloudWatch() {
      return (cloudWatch ??= wired('cloudwatch', new CloudWatchClient(config)));
    },
    calls: counter,
    forRegion(other) {
      let sibling = siblings.get(other);
      if (!sibling) {
        sibling = createRegionalClients(other, options, siblings);
        siblings.set(other, sibling);
      }
      return sibling;
    },
    asRole(role, sessionName = roleSessionName(process.env.BUILD_URL)) {
      const key = JSON.stringify([role.roleArn, role.externalId ?? '', sessionName]);
      let assumed = roles.get(key);
      if (!assumed) {
        const assumeWith = options.assumeWith ?? extra;
        const credentials = assumeRoleProvider(role, sessionName, stsAssumeRole(region, counter, assumeWith));
        assumed = createRegionalClients(region, { ...options, credentials, assumeWith }, new Map());
        roles.set(key, assumed);
      }
      return assumed;
    },
  };
  siblings.set(region, clients);
  return clients;
}

const cache = new Map<string, AwsClients>();

/** Clients for a region from the SDK's standard environment, built once per process and region. */
export function awsClients(region: string): AwsClients {
  // The cache is the siblings map: awsClients('a').forRegion('b') === awsClients('b').
  return cache.get(region) ?? createRegionalClients(region, {}, cache);
}

/** STS AssumeRole with the environment's credentials, bounded and counted like every other call. */
function stsAssumeRole(region: string, counter: CallCounter, extra: Partial<AwsClientOptions>): AssumeRoleCall {
  let sts: STSClient | undefined;
  return async (params) => {
    if (!sts) {
      sts = new STSClient({ ...baseConfig(region, attemptTimeoutMs(ATTEMPT_TIMEOUT_MS)), ...extra });
      counter.attach('sts', sts);
      addCallDeadline('sts', sts);
    }
    const answer = await sts.send(new AssumeRoleCommand(params));
    const credentials = answer.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey)
      throw new Error(`AssumeRole of ${params.RoleArn} answered no credentials`);
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}),
      ...(credentials.Expiration ? { expiration: credentials.Expiration } : {}),
    };
  };
}
