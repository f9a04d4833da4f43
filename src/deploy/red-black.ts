// Longer than most files on purpose: one red/black run, whose automatic-rollback boundary (before
// cutover) and failure handling after it must be read in one place.
import type { RequestLaunchTemplateData } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { BluegreenError, OperationFailedError, describeError } from '../core/errors';
import { failpoint } from '../core/failpoint';
import type { Logger } from '../core/log';
import { Phase } from '../cluster/phases';
import { describeAsgsByName, describeTargetHealth, toServerGroup, type ServerGroup } from '../cluster/server-groups';
import type { DeploymentRecord, NewDeploymentRecord } from '../ledger';
import type { PreparedVerification } from '../verify/prepare';
import { cutoverWatchHook, warmWindowSeconds, type Verification, type VerificationStep } from '../verify/watch';
import { runRollingSteps, stepCount } from './rolling';
import {
  asgSettingsOf,
  copyScalingSettings,
  ensureLifecycleHooks,
  lifecycleHookSpecifications,
  userTagsOf,
  type CopiedSettings,
} from './copy-settings';
import { finishCutover } from './cutover';
import { waitForHealthyTargets } from './health';
import {
  composeLaunchData,
  createLaunchTemplate,
  readLaunchData,
  recordedLaunchSettings,
  type CreatedLaunchTemplate,
} from './launch-template';
import { assertLockHeld, type ClusterSession } from './journal';
import type { DeployPlan } from './plan';
import type { DeployRequest } from './request';
import { encodeRunSettings } from './run-settings';
import {
  createServerGroup,
  destroyServerGroup,
  disableServerGroup,
  setCapacity,
  setGroupTags,
  unpinMin,
} from './server-group-ops';

/** Timings of one red/black run, in milliseconds since its start. */
export interface DeployTimings {
  createdMs: number;
  healthyMs: number;
  /** Last new target healthy → disabling of the old group starts. */
  cutoverLatencyMs: number;
  disabledMs: number;
  totalMs: number;
}

/** What a red/black run did. */
export interface RedBlackResult {
  serverGroup: string;
  previousServerGroup: string | null;
  launchTemplate: CreatedLaunchTemplate;
  targetGroups: string[];
  capacity: DeployPlan['capacity'];
  disabled: string[];
  scaledDown: string[];
  warm: string[];
  destroyed: string[];
  copied: CopiedSettings | null;
  timings: DeployTimings;
  /** What the run did not do as usual, and why (e.g. old groups kept warm). */
  warnings: string[];
  /** The watch after cutover, when one was asked for. */
  verification: Verification | null;
}

/** Options of {@link runRedBlack}. */
export interface RedBlackOptions {
  request: DeployRequest;
  plan: DeployPlan;
  deploymentId: string;
  session: ClusterSession;
  log: Logger;
  /** Record kind in the ledger (`deploy`, or `rollback` for a redeploy). */
  kind: DeploymentRecord['kind'];
  reason?: string;
  /** Alarms and gates to watch after cutover (read before the deploy). */
  verification?: PreparedVerification;
}

function ourTags(request: DeployRequest, deploymentId: string, previous: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {
    [Tag.cluster]: request.cluster.name,
    [Tag.deploymentId]: deploymentId,
    [Tag.amiId]: request.amiId,
  };
  if (request.build.artifactUrl) tags[Tag.artifactUrl] = request.build.artifactUrl.slice(0, 256);
  if (request.build.buildUrl) tags[Tag.buildUrl] = request.build.buildUrl.slice(0, 256);
  if (request.build.version) tags[Tag.version] = request.build.version;
  if (request.build.gitCommit) tags[Tag.gitCommit] = request.build.gitCommit;
  if (previous) tags[Tag.previousServerGroup] = previous;
  return tags;
}

/** The ledger record fields common to every record of this run. */
export function baseRecord(options: RedBlackOptions, startedAt: Date): Omit<NewDeploymentRecord, 'result'> {
  const { request, plan } = options;
  return {
    kind: options.kind,
    deploymentId: options.deploymentId,
    ...(request.rolloutId ? { rolloutId: request.rolloutId } : {}),
    cluster: request.cluster.name,
    region: request.region,
    startedAt: startedAt.toISOString(),
    who: options.session.lock.record.owner,
    ...(request.build.buildUrl ? { buildUrl: request.build.buildUrl } : {}),
    ...(request.build.gitCommit ? { gitCommit: request.build.gitCommit } : {}),
    ...(request.build.artifactUrl ? { artifactUrl: request.build.artifactUrl } : {}),
    ...(request.build.version ? { version: request.build.version } : {}),
    amiId: request.amiId,
    serverGroup: plan.newServerGroup,
    ...(plan.source ? { previousServerGroup: plan.source.name, from: plan.source.name } : {}),
    to: plan.newServerGroup,
    ...(options.reason ? { reason: options.reason } : {}),
  };
}

/**
 * Undoes a new group that never took traffic: delete it and the launch
 * template this run made for it, restore the old group's min. The old group
 * was never disabled.
 */
async function removeNewGroup(
  aws: AwsClients,
  name: string,
  template: CreatedLaunchTemplate | undefined,
  source: ServerGroup | undefined,
  log: Logger,
  drainTimeoutSeconds: number | undefined,
): Promise<void> {
  await drainIfServing(aws, name, log, drainTimeoutSeconds);
  // This run made the template (whether or not the group got created): it goes too.
  await destroyServerGroup(aws, { name, ...(template ? { launchTemplate: template } : {}), ownsLaunchTemplate: true });
  if (source) await restorePinnedMin(aws, source.name, source.capacity.min, log);
  log.info(
    `removed ${name}${template ? ` and launch template ${template.name}` : ''}; ${source ? `${source.name} unchanged` : 'cluster as before'}`,
  );
}

/**
 * Before a new group is deleted: if any of its instances took traffic (healthy
 * or draining in a target group), take it out of the load balancer and let
 * in-flight requests finish (bounded by the drain timeout), so deleting it cuts none.
 */
async function drainIfServing(
  aws: AwsClients,
  name: string,
  log: Logger,
  drainTimeoutSeconds: number | undefined,
): Promise<void> {
  const [asg] = await describeAsgsByName(aws, [name]);
  if (!asg || (asg.Instances ?? []).length === 0) return;
  const health = await describeTargetHealth(aws, asg.TargetGroupARNs ?? []);
  const group = await toServerGroup(aws, asg, health);
  const ids = new Set(group.instances.map((i) => i.id));
  const served = [...health.values()]
    .flat()
    .some((t) => ids.has(t.Target?.Id ?? '') && ['healthy', 'draining'].includes(t.TargetHealth?.State ?? ''));
  if (!served) return;
  log.info(`${name}: some instances took traffic; draining them before the group is deleted`);
  await disableServerGroup(aws, group, { log, ...(drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds } : {}) });
}

async function restorePinnedMin(aws: AwsClients, groupName: string, min: number, log: Logger): Promise<void> {
  await unpinMin(aws, groupName, min);
  log.debug(`${groupName}: min restored to ${min}`);
}

/**
 * Red/black (docs/architecture.md, "Red/black"): new launch template + ASG (min pinned),
 * wait until healthy in every target group, disable the old groups, scale
 * them down (now or after the warm window), unpin, destroy beyond keepPrevious
 * ({@link finishCutover}).
 * Before cutover any failure removes the new group (automatic rollback, exit 1).
 */
export async function runRedBlack(aws: AwsClients, options: RedBlackOptions): Promise<RedBlackResult> {
  const { request, plan, log, session } = options;
  const started = new Date();
  const t0 = Date.now();
  const source = plan.source;
  const record = baseRecord(options, started);
  await session.record({ ...record, result: 'started' });

  let template: CreatedLaunchTemplate | undefined;
  let launchData: RequestLaunchTemplateData = {};
  let asgCreated = false;
  let healthyAt = 0;
  let createdAt = 0;
  let healthDeadline = 0;
  let healthy: Awaited<ReturnType<typeof waitForHealthyTargets>> | undefined;
  let copied: CopiedSettings | null = null;
  try {
    const baseData = source ? await readLaunchData(aws, source) : {};
    launchData = composeLaunchData(baseData, request.amiId, request.launch);
    const tags = ourTags(request, options.deploymentId, source?.name);
    template = await createLaunchTemplate(aws, plan.newServerGroup, launchData, tags);
    log.info(`launch template ${template.name} (${template.id} v${template.version}) for ${request.amiId}`);
    const hooks = source ? await lifecycleHookSpecifications(aws, source) : [];
    if (source) {
      // Pin the old group's min so nothing scales it in while both run.
      await setGroupTags(aws, source.name, { [Tag.pinnedFrom]: String(source.capacity.min) });
      await setCapacity(aws, source.name, { min: source.capacity.desired });
    }
    await createServerGroup(aws, {
      name: plan.newServerGroup,
      launchTemplate: template,
      // Rolling: created at the first step's size, grown step by step after.
      capacity: request.rolling && source ? firstStep(plan.capacity, request.rolling.steps) : plan.capacity,
      subnets: plan.subnets,
      ...(source?.asg.AvailabilityZones ? { availabilityZones: source.asg.AvailabilityZones } : {}),
      targetGroupArns: plan.targetGroupArns,
      tags: [
        ...(source ? userTagsOf(source.asg) : []),
        ...Object.entries({ ...request.tags }).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
        ...Object.entries({
          ...tags,
          [Tag.phase]: Phase.creating,
          [Tag.pinnedFrom]: String(plan.capacity.min),
          [Tag.runSettings]: encodeRunSettings(request),
        }).map(([key, value]) => ({
          key,
          value,
          propagateAtLaunch: key === Tag.cluster || key === Tag.version,
        })),
      ],
      lifecycleHooks: hooks,
      ...(source ? { settings: asgSettingsOf(source.asg) } : {}),
    });
    asgCreated = true;
    failpoint('after-asg-created');
    createdAt = Date.now() - t0;
    log.info(
      `created ${plan.newServerGroup}: ${plan.capacity.desired} instance(s) of ${request.amiId} in ${plan.targetGroupArns.length} target group(s)`,
    );
    await ensureLifecycleHooks(aws, plan.newServerGroup, hooks);
    if (source) copied = await copyScalingSettings(aws, source, plan.newServerGroup, log);
    await setGroupTags(aws, plan.newServerGroup, { [Tag.phase]: Phase.waitingHealthy });
    failpoint('waiting-healthy');
    assertLockHeld(session);
    healthDeadline = Date.now() + request.healthTimeoutSeconds * 1000;
    healthy = await waitForHealthyTargets(aws, {
      groupName: plan.newServerGroup,
      targetGroupArns: plan.targetGroupArns,
      targetHealthyPercent: request.targetHealthyPercent,
      deadline: healthDeadline,
      since: started,
      log,
      giveUpWhenBroken: true,
      cluster: request.cluster.name,
    });
    healthyAt = Date.now();
    assertLockHeld(session);
  } catch (error) {
    const why = describeError(error);
    log.error(`${plan.newServerGroup} did not become healthy: ${why}`);
    log.info(`automatic rollback: removing ${plan.newServerGroup}; ${source?.name ?? 'the cluster'} keeps serving`);
    try {
      if (asgCreated || template)
        await removeNewGroup(aws, plan.newServerGroup, template, source, log, request.drainTimeoutSeconds);
      else if (source) await restorePinnedMin(aws, source.name, source.capacity.min, log);
    } catch (cleanupError) {
      log.error(`automatic rollback incomplete: ${describeError(cleanupError)}`);
      await session.record({
        ...record,
        result: 'failed',
        finishedAt: new Date().toISOString(),
        message: `${why}; cleanup failed: ${describeError(cleanupError)}`,
      });
      throw new OperationFailedError(
        'RollbackIncomplete',
        `${why}; removing ${plan.newServerGroup} failed: ${describeError(cleanupError)}`,
        {
          recovery: `run the deploy or rollback again: it finds ${plan.newServerGroup} (tag ${Tag.phase}) and removes it; ${source?.name ?? 'no group'} still serves`,
        },
      );
    }
    await session.record({ ...record, result: 'rolled-back', finishedAt: new Date().toISOString(), message: why });
    const details = error instanceof BluegreenError ? error.details : {};
    throw new OperationFailedError(
      error instanceof BluegreenError ? error.code : 'DeployFailed',
      `${why}. Rolled back automatically: ${plan.newServerGroup} removed, ${source?.name ?? 'nothing'} left as it was`,
      {
        ...details,
        serverGroup: plan.newServerGroup,
        previousServerGroup: source?.name ?? null,
        autoRolledBack: true,
        recovery: 'nothing to do: the cluster serves as before; fix the build (see reasons) and deploy again',
      },
    );
  }

  // Cutover: from here the new group serves, so failures leave it serving and say how to finish.
  const prepared = options.verification;
  const rolling = request.rolling && source && prepared ? request.rolling : undefined;
  if (rolling) {
    // Rolling steps come first; the `cutover` phase says the new group takes traffic from the first step.
    await setGroupTags(aws, plan.newServerGroup, { [Tag.phase]: Phase.cutover });
    failpoint('cutover-started');
  }
  const recordFailedVerdict = async (error: unknown): Promise<never> => {
    if (error instanceof BluegreenError && error.details.verification) {
      const rolledBack = error.code === 'VerificationFailed' && error.details.autoRolledBack === true;
      await session.record({
        ...record,
        result: rolledBack ? 'rolled-back' : 'failed',
        verdict: 'failed',
        finishedAt: new Date().toISOString(),
        message: error.message,
      });
    }
    throw error;
  };
  const rollingSteps: VerificationStep[] =
    rolling && source && prepared
      ? await runRollingSteps(aws, {
          rolling,
          prepared,
          newServerGroup: plan.newServerGroup,
          targetGroupArns: plan.targetGroupArns,
          previous: source,
          desired: plan.capacity.desired,
          healthTimeoutSeconds: request.healthTimeoutSeconds,
          ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
          warmAfterSeconds: warmWindowSeconds(request.scaleDownDelaySeconds, prepared),
          log,
          check: () => assertLockHeld(session),
        }).catch(recordFailedVerdict)
      : [];
  const watched = cutoverWatchHook(aws, prepared, {
    newServerGroup: plan.newServerGroup,
    healthTimeoutSeconds: request.healthTimeoutSeconds,
    ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
    log,
    check: () => assertLockHeld(session),
    earlierSteps: rollingSteps,
    // A rollback's redeploy made this group: a breach removes it as a deploy's does.
    ...(options.kind === 'rollback' ? { rollback: { reenabled: false } } : {}),
  });
  const finished = await finishCutover(aws, {
    cluster: request.cluster.name,
    newServerGroup: plan.newServerGroup,
    // Red/black: the `cutover` phase goes out with the old groups' scale-down times, in one call, on the state that proved health.
    ...(rolling
      ? {}
      : {
          newGroupTags: { [Tag.phase]: Phase.cutover },
          ...(healthy?.clusterState ? { state: healthy.clusterState } : {}),
        }),
    newMin: plan.capacity.min,
    scaleDownDelaySeconds: warmWindowSeconds(request.scaleDownDelaySeconds, prepared),
    keepPrevious: request.keepPrevious,
    ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
    ...(healthy && healthy.healthy < healthy.desired
      ? { holdScaleDown: () => fullHealthOrReason(aws, plan, healthDeadline, started, log) }
      : {}),
    ...(watched.watch ? { watch: watched.watch } : {}),
    log,
  }).catch(recordFailedVerdict);
  const verification = watched.verification();
  const totalMs = Date.now() - t0;
  await session.record({
    ...record,
    result: 'succeeded',
    finishedAt: new Date().toISOString(),
    durationSeconds: Math.round(totalMs / 1000),
    ...(verification ? { verdict: verification.verdict } : {}),
    // What a rollback needs to redeploy this AMI the same way once the group is gone.
    launchSettings: recordedLaunchSettings(launchData, template as CreatedLaunchTemplate, plan),
  });
  return {
    serverGroup: plan.newServerGroup,
    previousServerGroup: source?.name ?? null,
    launchTemplate: template as CreatedLaunchTemplate,
    targetGroups: plan.targetGroupArns,
    capacity: plan.capacity,
    disabled: finished.disabled,
    scaledDown: finished.scaledDown,
    warm: finished.warm,
    destroyed: finished.destroyed,
    copied,
    warnings: finished.warnings,
    verification,
    timings: {
      createdMs: createdAt,
      healthyMs: healthyAt - t0,
      cutoverLatencyMs: finished.disableStartedAt - healthyAt,
      disabledMs: finished.disabledAt - t0,
      totalMs,
    },
  };
}

/** The capacity a rolling deploy creates its group with: the first step's share of desired, min pinned to it. */
function firstStep(capacity: DeployPlan['capacity'], steps: readonly number[]): DeployPlan['capacity'] {
  const desired = stepCount(capacity.desired, steps[0] ?? 100);
  return { min: desired, max: capacity.max, desired };
}

/**
 * Below 100 % the cutover happened with part of the new group still failing:
 * the old groups are scaled down only once the new one is fully healthy
 * (waiting up to the health deadline). Returns why to keep them running, or
 * undefined when the new group got there.
 */
async function fullHealthOrReason(
  aws: AwsClients,
  plan: DeployPlan,
  deadline: number,
  since: Date,
  log: Logger,
): Promise<string | undefined> {
  try {
    await waitForHealthyTargets(aws, {
      groupName: plan.newServerGroup,
      targetGroupArns: plan.targetGroupArns,
      targetHealthyPercent: 100,
      deadline,
      since,
      log,
    });
    return undefined;
  } catch (error) {
    return (
      `${describeError(error)}. The previous group(s) stay disabled at full capacity for a fast rollback; ` +
      'scale them down with the next deploy (keepPrevious) or roll back'
    );
  }
}
