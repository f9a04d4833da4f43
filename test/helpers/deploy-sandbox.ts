import { DeleteAutoScalingGroupCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { awsClients, type AwsClients } from '../../src/aws/clients';
import { Tag } from '../../src/aws/tags';
import { describeAsgsByName } from '../../src/cluster/server-groups';
import { createLogger, type Logger } from '../../src/core/log';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/sandbox';
import { executeStage } from '../../src/stages/framework';
import { deployStage } from '../../src/stages/deploy';
import { makeAppAmi } from '../sandbox/fixtures';
import { useEmulator } from './moto';

/** A sandbox with demo infrastructure, ready for deploys of the `web-prod` cluster. */
export interface DeploySandbox {
  sandbox: Sandbox;
  aws: AwsClients;
  listenerUrl: string;
  /** Base input of a deploy to this sandbox (ledger, target group, first-deploy settings). */
  baseInput: Record<string, unknown>;
  /** Makes an AMI whose instances serve `version` (`health`: ok | fail | flaky | slow-boot:N; `tags`: more sandbox tags). */
  ami(version: string, health?: string, tags?: Record<string, string>): Promise<string>;
  /** Runs the deploy stage in this process; log lines are kept in `lines`. */
  deploy(input: Record<string, unknown>): ReturnType<typeof executeStage>;
  lines: string[];
  log: Logger;
}

/** Time scale of sandbox tests: AWS-like ratios, 20× faster. */
export const TEST_TIME_SCALE = 0.05;

/** Starts a sandbox for deploy tests and points this process's SDK at it (`options` e.g. a longer `bootSeconds`). */
export async function startDeploySandbox(
  region = 'us-east-1',
  options: Pick<SandboxOptions, 'bootSeconds' | 'regions' | 'classicLoadBalancer'> = {},
): Promise<DeploySandbox> {
  const sandbox = await startSandbox({ region, timeScale: TEST_TIME_SCALE, infra: 'demo', ...options });
  useEmulator(sandbox.endpoint, region);
  // Poll like on AWS, scaled with the sandbox clock.
  process.env.BLUEGREEN_POLL_MIN_MS = String(Math.round(1000 * TEST_TIME_SCALE));
  process.env.BLUEGREEN_POLL_MAX_MS = String(Math.round(10000 * TEST_TIME_SCALE));
  // The engine reads AWS-declared durations (health check interval, grace period) on the sandbox clock.
  process.env.BLUEGREEN_TIME_SCALE = String(TEST_TIME_SCALE);
  const infra = sandbox.infra;
  if (!infra || !sandbox.listenerUrl) throw new Error('the sandbox did not create the demo infrastructure');
  const aws = awsClients(region);
  const lines: string[] = [];
  const log = createLogger('deploy', (line) => lines.push(line));
  return {
    sandbox,
    aws,
    listenerUrl: sandbox.listenerUrl,
    baseInput: {
      region,
      cluster: 'web-prod',
      targetGroups: [infra.targetGroupName],
      capacity: { min: 2, max: 4, desired: 2 },
      instanceType: 't3.micro',
      subnets: infra.subnetIds,
      ledger: { bucket: infra.ledgerBucket, prefix: 'bluegreen' },
      healthTimeout: '10m',
      buildUrl: 'https://ci.example.com/job/web/1/',
    },
    ami: (version, health = 'ok', tags = {}) => makeAppAmi(aws, version, health, tags),
    deploy: (input) => executeStage(deployStage, input, log),
    lines,
    log,
  };
}

/**
 * The desired capacity of a disabled group once its scale-down had time to run: a deploy returns at
 * cutover and a scheduled action scales the old group to 0 when its drain ends (no run waits for it).
 * Polls until 0 or `timeoutMs` (a bound for the test, not a timing assertion); returns the last value.
 */
export async function desiredOnceDrained(aws: AwsClients, group: string, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [asg] = await describeAsgsByName(aws, [group]);
    const desired = asg?.DesiredCapacity ?? 0;
    if (desired === 0 || Date.now() > deadline) return desired;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Deletes a server group out of band (ForceDelete), as a person would. A deploy now returns at cutover and
 * keeps the group it disabled until its scheduled scale-down, so `keepPrevious: 0` destroys it only on the
 * next run: tests of what follows a group's loss (a rollback that must redeploy) remove it this way.
 */
export async function deleteServerGroupNow(env: Pick<DeploySandbox, 'aws'>, name: string): Promise<void> {
  await env.aws.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }));
}

/**
 * A scaling policy of the serving group, played by a test: once the deploy's new group `created` is
 * in `phase` (its tag), `serving` goes to `desired`. Resolves true when it did (bounded: 120 s).
 */
export async function scaleOutWhenPhase(
  aws: AwsClients,
  options: { serving: string; created: string; phase: string; desired: number },
): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const [group] = await describeAsgsByName(aws, [options.created]);
    if (group?.Tags?.find((tag) => tag.Key === Tag.phase)?.Value === options.phase) {
      await aws.autoScaling.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: options.serving, DesiredCapacity: options.desired }),
      );
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
