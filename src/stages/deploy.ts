import { resolveClusterName } from '../core/naming';
import { deploy } from '../deploy/deploy';
import type { DeployRequest } from '../deploy/request';
import { clusterRunDeadlineSeconds } from '../core/run-scope';
import { ledgerExitCode } from '../ledger/ledger-writer';
import { defineStage } from './framework';
import { definedOnly } from './inputs/declare';
import { DEPLOY_INPUTS } from './inputs/deploy';

/** `deploy`: red/black deploy of an AMI with automatic rollback. */
export const deployStage = defineStage({
  name: 'deploy',
  describe:
    'Red/black deploy an AMI as a new server group behind the load balancer; roll back automatically if it is not healthy',
  inputs: DEPLOY_INPUTS,
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
    ...(inputs.strategy === 'canary'
      ? { canary: { steps: inputs.steps, stepWatchSeconds: inputs.stepWatch, analysis: inputs.canaryAnalysis } }
      : {}),
  }),
  runDeadlineSeconds: (request) => clusterRunDeadlineSeconds(request),
  run: (request, { aws, log }) => deploy(aws(), request, log),
  // Deployed, but the ledger is short of a record: a human should look (docs/failure-modes.md).
  exitCodeFor: ledgerExitCode,
});
