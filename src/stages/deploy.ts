import { InputError } from '../core/errors';
import { resolveClusterName } from '../core/naming';
import { deploy } from '../deploy/deploy';
import type { DeployRequest } from '../deploy/request';
import { clusterRunDeadlineSeconds } from '../core/run-scope';
import { ledgerExitCode } from '../ledger/ledger-writer';
import { defineStage } from './framework';
import { definedOnly } from './inputs/declare';
import { DEPLOY_STAGE } from './list';

/** A test listener is only used while `beforeTraffic` runs: alone it is a mistake (exit 2). */
function needsBeforeTraffic(testListener: string, beforeTraffic: string | undefined): string {
  if (beforeTraffic === undefined)
    throw new InputError('testListener', 'needs beforeTraffic: the command the test listener is opened for');
  return testListener;
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

/** `deploy`: red/black deploy of an AMI with automatic rollback. */
export const deployStage = defineStage(DEPLOY_STAGE, {
  validate: (inputs, region): DeployRequest => ({
    cluster: resolveClusterName(inputs),
    region,
    amiId: inputs.amiId,
    ...(inputs.targetGroups ? { targetGroups: inputs.targetGroups } : {}),
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
      ? { testListener: needsBeforeTraffic(inputs.testListener, inputs.beforeTraffic) }
      : {}),
    ...(inputs.strategy === 'canary'
      ? { canary: { steps: inputs.steps, stepWatchSeconds: inputs.stepWatch, analysis: inputs.canaryAnalysis } }
      : {}),
  }),
  runDeadlineSeconds: (request) =>
    clusterRunDeadlineSeconds({
      ...request,
      ...(request.beforeTraffic ? { beforeTrafficSeconds: request.beforeTraffic.timeoutSeconds } : {}),
    }),
  run: (request, { aws, log }) => deploy(aws(), request, log),
  // Deployed, but the ledger is short of a record: a human should look (docs/failure-modes.md).
  exitCodeFor: ledgerExitCode,
});
