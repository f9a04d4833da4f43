// Longer than most files on purpose: both ways of rolling back (re-enable, redeploy), with their ledger
// records and the watch after the cutover, side by side.
import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { BluegreenError, ConflictError, InputError, describeError } from '../core/errors';
import { describeAsgsByName } from '../cluster/server-groups';
import type { Logger } from '../core/log';
import { prepareDeploy } from '../deploy/deploy';
import { whoAmI, type ClusterSession } from '../deploy/journal';
import { planThenRunLocked } from '../deploy/recovery';
import { checkHealthTimeout } from '../deploy/timing-limits';
import { runRedBlack } from '../deploy/red-black';
import type { DeployRequest, LaunchSettings } from '../deploy/request';
import { newDeploymentId, type LedgerReport, type NewDeploymentRecord } from '../ledger';
import { prepareRollbackVerification, wantsVerification, type PreparedVerification } from '../verify/prepare';
import type { Verification } from '../verify/watch';
import { reenableServerGroup } from './reenable';
import type { RollbackRequest } from './request';
import { describeRollbackPlan, planRollback, type RollbackPlan } from './target';

/** The rollback stage's output (docs/architecture.md, "Stage contract"). */
export interface RollbackOutput {
  cluster: string;
  region: string;
  deploymentId: string;
  status: 'succeeded' | 'planned';
  /** `reenable`: an existing group served again; `redeploy`: its AMI deployed anew (red/black). */
  mode: RollbackPlan['mode'];
  /** The group that served before the rollback. */
  rolledBackFrom: string;
  /** The group serving now: the re-enabled one, or the one the redeploy created. */
  restoredServerGroup: string;
  amiId: string;
  version: string | null;
  reason: string | null;
  capacity: { min: number; max: number; desired: number };
  disabledServerGroups: string[];
  scaledDownServerGroups: string[];
  warmServerGroups: string[];
  destroyedServerGroups: string[];
  /** Instances launched for the rollback (0 when a warm group was re-enabled). */
  launchedInstances: string[];
  recovered: string[];
  durationSeconds: number;
  /** The watch after the rollback's cutover (alarms, gates, verdict), when one was asked for; on a breach it is in the error output. */
  verification: Verification | null;
  plan?: string;
  /** Whether every ledger record of this run was written (`written: false`: exit 3, see docs/failure-modes.md). */
  ledger?: LedgerReport['ledger'];
  failure?: LedgerReport['failure'];
}

/** Recorded launch settings → launch settings of the redeploy (placement stays the cluster's current one). */
function launchFromRecord(plan: RollbackPlan): LaunchSettings {
  const recorded = plan.record?.launchSettings;
  if (!recorded) return {};
  return {
    ...(recorded.instanceType ? { instanceType: recorded.instanceType } : {}),
    ...(recorded.securityGroupIds?.length ? { securityGroups: recorded.securityGroupIds } : {}),
    ...(recorded.keyName ? { keyName: recorded.keyName } : {}),
    ...(recorded.iamInstanceProfile ? { iamInstanceProfile: recorded.iamInstanceProfile } : {}),
  };
}

/** The deploy request of a redeploy: the target's AMI with its recorded settings, the current group's capacity and target groups. */
export function redeployRequest(request: RollbackRequest, plan: RollbackPlan): DeployRequest {
  const record = plan.record;
  return {
    cluster: request.cluster,
    region: request.region,
    amiId: plan.amiId,
    launch: launchFromRecord(plan),
    healthTimeoutSeconds: request.healthTimeoutSeconds,
    targetHealthyPercent: 100,
    keepPrevious: request.keepPrevious,
    scaleDownDelaySeconds: request.scaleDownDelaySeconds,
    ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
    ledger: request.ledger,
    build: {
      ...(request.build.buildUrl ? { buildUrl: request.build.buildUrl } : {}),
      ...(record?.gitCommit ? { gitCommit: record.gitCommit } : {}),
      ...(record?.artifactUrl ? { artifactUrl: record.artifactUrl } : {}),
      ...(plan.version ? { version: plan.version } : {}),
    },
    tags: {},
    plan: false,
    breakExpiredLock: request.breakExpiredLock,
    lockLeaseSeconds: request.lockLeaseSeconds,
    lockWaitSeconds: request.lockWaitSeconds,
    ...(request.rolloutId ? { rolloutId: request.rolloutId } : {}),
  };
}

/**
 * Rolls a cluster back (docs/architecture.md, "Rollback"): resolve the target (read-only,
 * so "nothing to do" changes nothing), take the lock, recover a crashed run,
 * resolve again under the lock, then re-enable the target group if it still
 * exists or redeploy its AMI red/black. Ledger records of kind `rollback`.
 */
export async function rollbackDeploy(aws: AwsClients, request: RollbackRequest, log: Logger): Promise<RollbackOutput> {
  const started = Date.now();
  const deploymentId = newDeploymentId();
  let firstLookChecked = false;
  let verification: PreparedVerification | undefined;
  return planThenRunLocked(aws, {
    lock: {
      ...request,
      cluster: request.cluster.name,
      // The approver first, then the run: the ledger's `who` of every record of this rollback.
      owner: request.approvedBy
        ? `${request.approvedBy} via ${whoAmI(request.build.buildUrl)}`
        : whoAmI(request.build.buildUrl),
      deploymentId,
      rollingBack: true,
      log,
    },
    planOnly: request.plan,
    async plan() {
      const plan = await planRollback(aws, request);
      // Read-only, on the first look before the lock: a healthTimeout the target groups cannot meet (a re-enabled
      // group's instances register anew) and unknown alarm names are bad input (exit 2), nothing changed.
      if (!firstLookChecked) {
        firstLookChecked = true;
        const targetGroupArns = plan.target?.targetGroupArns ?? plan.current.targetGroupArns;
        await checkHealthTimeout(aws, request.healthTimeoutSeconds, targetGroupArns);
        if (wantsVerification(request.verify)) {
          verification = await prepareRollbackVerification(aws, request.verify, targetGroupArns, log);
        }
      }
      return plan;
    },
    async planned(plan) {
      const text = describeRollbackPlan(plan, request);
      log.info(text);
      const restoredServerGroup =
        plan.target?.name ?? (await prepareDeploy(aws, redeployRequest(request, plan))).newServerGroup;
      return output(request, deploymentId, plan, 'planned', started, { plan: text, restoredServerGroup });
    },
    async run(plan, session, recovered) {
      log.info(describeRollbackPlan(plan, request));
      const result =
        plan.mode === 'reenable'
          ? await reenable(aws, request, plan, deploymentId, session, log, verification)
          : await redeploy(aws, request, plan, deploymentId, session, log, verification);
      log.info(
        `rolled ${request.cluster.name} back from ${plan.current.name} to ${result.restoredServerGroup} (${plan.amiId}${plan.version ? `, version ${plan.version}` : ''}) ` +
          `by ${plan.mode === 'reenable' ? 're-enabling it' : 'redeploying its AMI'} in ${Math.round((Date.now() - started) / 1000)}s`,
      );
      return output(request, deploymentId, plan, 'succeeded', started, { ...result, recovered });
    },
  });
}

type RunResult = Pick<
  RollbackOutput,
  | 'restoredServerGroup'
  | 'capacity'
  | 'disabledServerGroups'
  | 'scaledDownServerGroups'
  | 'warmServerGroups'
  | 'destroyedServerGroups'
  | 'launchedInstances'
  | 'verification'
>;

async function reenable(
  aws: AwsClients,
  request: RollbackRequest,
  plan: RollbackPlan,
  deploymentId: string,
  session: ClusterSession,
  log: Logger,
  verification: PreparedVerification | undefined,
): Promise<RunResult> {
  const target = plan.target;
  if (!target) throw new Error('re-enable without a target group');
  const startedAt = new Date();
  const record: Omit<NewDeploymentRecord, 'result'> = {
    kind: 'rollback',
    deploymentId,
    ...(request.rolloutId ? { rolloutId: request.rolloutId } : {}),
    cluster: request.cluster.name,
    region: request.region,
    startedAt: startedAt.toISOString(),
    who: session.lock.record.owner,
    ...(request.build.buildUrl ? { buildUrl: request.build.buildUrl } : {}),
    // What the restored group runs (as its deploy recorded it), not the rollback job's own commit.
    ...(target.tags[Tag.gitCommit] ? { gitCommit: target.tags[Tag.gitCommit] } : {}),
    ...(plan.version ? { version: plan.version } : {}),
    ...(target.tags[Tag.artifactUrl] ? { artifactUrl: target.tags[Tag.artifactUrl] } : {}),
    amiId: plan.amiId,
    serverGroup: target.name,
    previousServerGroup: plan.current.name,
    from: plan.current.name,
    to: target.name,
    ...(request.reason ? { reason: request.reason } : {}),
    message: 're-enabled',
  };
  await session.record({ ...record, result: 'started' });
  try {
    const result = await reenableServerGroup(aws, {
      cluster: request.cluster.name,
      current: plan.current,
      target,
      session,
      healthTimeoutSeconds: request.healthTimeoutSeconds,
      ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
      keepPrevious: request.keepPrevious,
      scaleDownDelaySeconds: request.scaleDownDelaySeconds,
      ...(verification ? { verification } : {}),
      log,
    });
    await session.record({
      ...record,
      result: 'succeeded',
      finishedAt: new Date().toISOString(),
      durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
      ...(result.verification ? { verdict: result.verification.verdict } : {}),
    });
    return {
      restoredServerGroup: target.name,
      capacity: result.capacity,
      disabledServerGroups: result.disabled,
      scaledDownServerGroups: result.scaledDown,
      warmServerGroups: result.warm,
      destroyedServerGroups: result.destroyed,
      launchedInstances: result.launchedInstances,
      verification: result.verification,
    };
  } catch (error) {
    // A failed watch: the group that served before is back (rolled-back), unless putting it back failed.
    const watched = error instanceof BluegreenError && error.details.verification !== undefined;
    const putBack = watched && error.code === 'VerificationFailed' && error.details.autoRolledBack === true;
    await session.record({
      ...record,
      result: putBack ? 'rolled-back' : 'failed',
      ...(watched ? { verdict: 'failed' as const } : {}),
      finishedAt: new Date().toISOString(),
      message: describeError(error),
    });
    throw error;
  }
}

async function redeploy(
  aws: AwsClients,
  request: RollbackRequest,
  plan: RollbackPlan,
  deploymentId: string,
  session: ClusterSession,
  log: Logger,
  verification: PreparedVerification | undefined,
): Promise<RunResult> {
  const deployRequest = redeployRequest(request, plan);
  let deployPlan;
  try {
    deployPlan = await prepareDeploy(aws, deployRequest);
  } catch (error) {
    // Recorded settings (instance type, security groups, …) that no longer exist are not the operator's input.
    if (error instanceof InputError) {
      throw new ConflictError(
        'RecordedSettingsInvalid',
        `redeploying ${plan.amiId} with the launch settings recorded for it fails: ${error.message}`,
        {
          recovery: 'deploy that AMI with blueGreenDeploy and the settings it needs now',
        },
      );
    }
    throw error;
  }
  log.info(`${plan.current.name}'s settings copied; ${plan.amiId} redeployed as ${deployPlan.newServerGroup}`);
  const result = await runRedBlack(aws, {
    request: deployRequest,
    plan: deployPlan,
    deploymentId,
    session,
    log,
    kind: 'rollback',
    ...(request.reason ? { reason: request.reason } : {}),
    ...(verification ? { verification } : {}),
  });
  const [created] = await describeAsgsByName(aws, [result.serverGroup]);
  return {
    restoredServerGroup: result.serverGroup,
    capacity: result.capacity,
    disabledServerGroups: result.disabled,
    scaledDownServerGroups: result.scaledDown,
    warmServerGroups: result.warm,
    destroyedServerGroups: result.destroyed,
    launchedInstances: (created?.Instances ?? []).map((i) => i.InstanceId as string),
    verification: result.verification,
  };
}

function output(
  request: RollbackRequest,
  deploymentId: string,
  plan: RollbackPlan,
  status: RollbackOutput['status'],
  started: number,
  extra: Partial<RunResult> & { recovered?: string[]; plan?: string },
): RollbackOutput {
  return {
    cluster: request.cluster.name,
    region: request.region,
    deploymentId,
    status,
    mode: plan.mode,
    rolledBackFrom: plan.current.name,
    restoredServerGroup: extra.restoredServerGroup ?? plan.target?.name ?? '',
    amiId: plan.amiId,
    version: plan.version ?? null,
    reason: request.reason ?? null,
    capacity: extra.capacity ?? plan.current.capacity,
    disabledServerGroups: extra.disabledServerGroups ?? [],
    scaledDownServerGroups: extra.scaledDownServerGroups ?? [],
    warmServerGroups: extra.warmServerGroups ?? [],
    destroyedServerGroups: extra.destroyedServerGroups ?? [],
    launchedInstances: extra.launchedInstances ?? [],
    recovered: extra.recovered ?? [],
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    verification: extra.verification ?? null,
    ...(extra.plan ? { plan: extra.plan } : {}),
  };
}
