import type { AwsClients } from '../aws/clients';
import { roleSessionName, type AssumedRole } from '../aws/assume-role';
import { InputError } from '../core/errors';
import { resolveClusterName } from '../core/naming';
import { deploy, type DeployOutput } from '../deploy/deploy';
import type { DeployRequest } from '../deploy/request';
import { clusterRunDeadlineSeconds } from '../core/run-scope';
import { ledgerExitCode } from '../ledger/ledger-writer';
import type { RolloutRequest } from '../rollout/request';
import { rolloutDeadlineSeconds, rolloutLedgerExitCode, runRollout, type RolloutOutput } from '../rollout/rollout';
import { defineStage } from './framework';
import { definedOnly } from './inputs/declare';
import { DEPLOY_STAGE } from './list';
import { isRollout, rolloutRequestOf, type DeployInputs } from './rollout-input';
import { DEFAULT_CANARY_ANALYSIS, type CanaryAnalysisSettings } from '../verify/canary-settings';

/** A test listener is only used while `beforeTraffic` runs or the deploy holds: alone it is a mistake (exit 2). */
function needsBeforeTraffic(testListener: string, beforeTraffic: string | undefined, hold: boolean): string {
  if (beforeTraffic === undefined && !hold)
    throw new InputError(
      'testListener',
      'needs beforeTraffic (the command the test listener is opened for) or hold (the group stays behind it)',
    );
  return testListener;
}

/**
 * `hold` with `strategy: canary` is refused (exit 2): a canary is judged under a share of production traffic,
 * step by step, so there is no "healthy, before traffic" point to hold at that is not already its first step.
 */
function holdNotWithCanary(hold: boolean, strategy: string): boolean {
  if (hold && strategy === 'canary')
    throw new InputError(
      'hold',
      'not with strategy: canary (the canary takes production traffic in steps, judged as it goes); use red-black or rolling with hold, or drop hold',
    );
  return hold;
}

/** `afterTraffic` runs inside the watch: without one it is a mistake (exit 2). */
function needsWatch(afterTraffic: string, watchSeconds: number): string {
  if (watchSeconds <= 0) throw new InputError('afterTraffic', 'needs watch: it runs inside the watch after cutover');
  return afterTraffic;
}

/**
 * `beforeTraffic` with `strategy: canary` is refused (exit 2): the canary already places the new group outside
 * production (its own target groups) and judges it under a share of real traffic; the two placements are not wired
 * together.
 */
function notWithCanary(beforeTraffic: string, strategy: string): string {
  if (strategy === 'canary')
    throw new InputError(
      'beforeTraffic',
      'not with strategy: canary (the canary is already tested on its own target groups before it takes all traffic); use red-black or rolling, or drop beforeTraffic',
    );
  return beforeTraffic;
}

/** A canary weights listener actions between target groups: a classic load balancer has neither (exit 2). */
function classicNotWithCanary(loadBalancerNames: string[], strategy: string): string[] {
  if (strategy === 'canary')
    throw new InputError(
      'loadBalancerNames',
      'not with strategy: canary (a canary shifts ALB listener weights between target groups; a classic load balancer has none); use red-black or rolling',
    );
  return loadBalancerNames;
}

/** A canary's steps: what rolling takes, with at least one step below 100 to analyse. */
function canaryStepsOf(steps: number[]): number[] {
  if (!steps.some((step) => step < 100))
    throw new InputError(
      'steps',
      `a canary needs at least one step below 100 to analyse (got ${steps.join(', ')}), e.g. [10, 100]`,
    );
  return steps;
}

/**
 * `canaryAnalysis` without `strategy: canary` would be ignored: a mistake (exit 2). Read parsed, so given
 * as the defaults it passes (nothing would change either way).
 */
function onlyWithCanary(analysis: CanaryAnalysisSettings): Record<string, never> {
  if (JSON.stringify(analysis) !== JSON.stringify(DEFAULT_CANARY_ANALYSIS))
    throw new InputError('canaryAnalysis', 'only with strategy: canary (the analysis judges a canary step)');
  return {};
}

/** What the deploy stage runs: one region (the deploy as always), or a rollout to several. */
export type DeployStageRequest =
  { kind: 'region'; request: DeployRequest; role?: AssumedRole } | { kind: 'rollout'; rollout: RolloutRequest };

/** One region's deploy request from its parsed inputs (a rollout calls it per region, with the region's overrides). */
export function deployRequestOf(inputs: DeployInputs, region: string, amiId: string): DeployRequest {
  return {
    cluster: resolveClusterName(inputs),
    region,
    amiId,
    ...(inputs.targetGroups ? { targetGroups: inputs.targetGroups } : {}),
    ...(inputs.loadBalancerNames
      ? { loadBalancerNames: classicNotWithCanary(inputs.loadBalancerNames, inputs.strategy) }
      : {}),
    ...(inputs.capacity ? { capacity: inputs.capacity } : {}),
    launch: definedOnly({
      instanceType: inputs.instanceType,
      subnets: inputs.subnets,
      securityGroups: inputs.securityGroups,
      keyName: inputs.keyName,
      iamInstanceProfile: inputs.iamInstanceProfile,
      userData: inputs.userData,
      blockDevices: inputs.blockDevices,
      requireImdsv2: inputs.requireImdsv2,
    }),
    healthTimeoutSeconds: inputs.healthTimeout,
    targetHealthyPercent: inputs.targetHealthyPercent,
    keepPrevious: inputs.keepPrevious,
    scaleDownDelaySeconds: inputs.scaleDownDelay,
    ...(inputs.drainTimeout !== undefined ? { drainTimeoutSeconds: inputs.drainTimeout } : {}),
    ledger: inputs.ledger,
    build: definedOnly({
      buildUrl: inputs.buildUrl,
      gitCommit: inputs.gitCommit,
      artifactUrl: inputs.artifactUrl,
      version: inputs.version,
    }),
    tags: inputs.tags,
    plan: inputs.plan,
    breakExpiredLock: inputs.breakExpiredLock,
    lockLeaseSeconds: inputs.lockLease,
    lockWaitSeconds: inputs.lockWait,
    allowRemovingTargetGroups: inputs.allowRemovingTargetGroups,
    allowScaleToZero: inputs.allowScaleToZero,
    verify: {
      alarms: inputs.alarms ?? [],
      ignoreAlarmsAtStart: inputs.ignoreAlarmsAtStart,
      // Rolling: the last step (100 %) is watched at least as long as the others.
      watchSeconds: inputs.strategy === 'rolling' ? Math.max(inputs.watch, inputs.stepWatch) : inputs.watch,
      gates: inputs.gates,
    },
    ...(inputs.strategy === 'rolling' ? { rolling: { steps: inputs.steps, stepWatchSeconds: inputs.stepWatch } } : {}),
    ...(inputs.beforeTraffic !== undefined
      ? {
          beforeTraffic: {
            command: notWithCanary(inputs.beforeTraffic, inputs.strategy),
            timeoutSeconds: inputs.beforeTrafficTimeout,
          },
        }
      : {}),
    ...(inputs.afterTraffic !== undefined
      ? {
          afterTraffic: {
            command: needsWatch(inputs.afterTraffic, inputs.watch),
            timeoutSeconds: inputs.beforeTrafficTimeout,
          },
        }
      : {}),
    ...(inputs.testListener !== undefined
      ? { testListener: needsBeforeTraffic(inputs.testListener, inputs.beforeTraffic, inputs.hold) }
      : {}),
    ...(holdNotWithCanary(inputs.hold, inputs.strategy) ? { hold: true } : {}),
    ...(inputs.strategy === 'canary'
      ? {
          canary: {
            steps: canaryStepsOf(inputs.steps),
            stepWatchSeconds: inputs.stepWatch,
            analysis: inputs.canaryAnalysis,
          },
        }
      : onlyWithCanary(inputs.canaryAnalysis)),
  };
}

/** The role of a single-region deploy, when one is given. */
function roleOf(inputs: DeployInputs): AssumedRole | undefined {
  if (inputs.roleArn === undefined) {
    if (inputs.externalId !== undefined) throw new InputError('externalId', 'is given without a roleArn to assume');
    return undefined;
  }
  return { roleArn: inputs.roleArn, ...(inputs.externalId !== undefined ? { externalId: inputs.externalId } : {}) };
}

/** The clients of a region: the stage's own, or (with a role) the role's, assumed with STS. */
function clientsOf(
  own: () => AwsClients,
  region: string,
  role: AssumedRole | undefined,
  buildUrl?: string,
): AwsClients {
  const clients = own().forRegion(region);
  return role ? clients.asRole(role, roleSessionName(buildUrl)) : clients;
}

/** `deploy`: red/black deploy of an AMI with automatic rollback; with `amis`/`regions`, a rollout to several regions. */
export const deployStage = defineStage(DEPLOY_STAGE, {
  validate: (inputs, region): DeployStageRequest => {
    if (isRollout(inputs)) return { kind: 'rollout', rollout: rolloutRequestOf(inputs, deployRequestOf) };
    if (inputs.amiId === undefined)
      throw new InputError('amiId', 'is required: the AMI to deploy, e.g. the amiId output of bakeAmi (or amis)');
    const role = roleOf(inputs);
    return { kind: 'region', request: deployRequestOf(inputs, region, inputs.amiId), ...(role ? { role } : {}) };
  },
  runDeadlineSeconds: (input) =>
    input.kind === 'rollout'
      ? rolloutDeadlineSeconds(input.rollout)
      : clusterRunDeadlineSeconds({
          ...input.request,
          ...(input.request.beforeTraffic ? { beforeTrafficSeconds: input.request.beforeTraffic.timeoutSeconds } : {}),
        }),
  run: (input, { aws, log }): Promise<DeployOutput | RolloutOutput> => {
    if (input.kind === 'region')
      return deploy(clientsOf(aws, input.request.region, input.role, input.request.build.buildUrl), input.request, log);
    return runRollout(
      (entry) => clientsOf(aws, entry.region, entry.role, entry.request.build.buildUrl),
      input.rollout,
      log,
    );
  },
  // Deployed, but the ledger is short of a record: a human should look (docs/failure-modes.md).
  exitCodeFor: (output) => ('rolloutId' in output ? rolloutLedgerExitCode(output) : ledgerExitCode(output)),
});

/** The deploy request of a single-region deploy's input (library use and tests); a rollout's input is an error. */
export function singleRegionRequest(input: DeployStageRequest): DeployRequest {
  if (input.kind !== 'region') throw new Error('this input is a rollout to several regions, not one deploy');
  return input.request;
}
