// Longer than most files on purpose: the skeleton every strategy runs (strategies/), whose
// automatic-rollback boundary (before traffic moves) and failure handling after it must be read in one place.
import type { RequestLaunchTemplateData } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { BluegreenError, OperationFailedError, describeError } from '../core/errors';
import { failpoint } from '../core/failpoint';
import type { Logger } from '../core/log';
import { Phase } from '../cluster/phases';
import type { CanaryRecordStep, DeploymentRecord, NewDeploymentRecord } from '../ledger';
import type { PreparedVerification } from '../verify/prepare';
import { warmWindowSeconds, type Verification } from '../verify/watch';
import { cutoverWatchHook } from './operations/watch-cutover';
import { operationPortsOf } from './operations/ports';
import { removeNewGroup, restorePinnedMin } from './operations/remove-new-group';
import {
  creationTargetGroups,
  holdsProductionTraffic,
  afterTrafficCommand,
  joinProductionTargetGroups,
  runBeforeTraffic,
} from './operations/before-traffic';
import {
  closeTestListener,
  openTestListener,
  prepareTestListener,
  type PreparedTestListener,
} from './operations/test-listener';
import type { ServerGroup } from '../cluster/server-groups';
import { strategyFor, type DeployStrategy, type Placement } from './strategies';
import {
  asgSettingsOf,
  copyScalingSettings,
  ensureLifecycleHooks,
  lifecycleHookSpecifications,
  userTagsOf,
  type CopiedSettings,
} from './copy-settings';
import { handOffCapacity, type CapacityHandoff } from './capacity-handoff';
import { finishCutover } from './cutover';
import { mixedInstancesPolicyFor, warmPoolOf } from './fleet-settings';
import { waitForHealthyTargets, type HealthProof } from './health';
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
import { createServerGroup, removeGroupTags, setCapacity, setGroupTags } from './server-group-ops';
import { splitSources } from '../traffic/sources';

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
  /** The deploy held for a human (`hold`): the new group healthy outside production, nothing switched. */
  held?: boolean;
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

/** What the first half of the skeleton leaves: the new group made and healthy, in production or not yet. */
export interface BroughtUp {
  started: Date;
  /** `Date.now()` at the start of the run (timings are measured from it). */
  t0: number;
  record: Omit<NewDeploymentRecord, 'result'>;
  template: CreatedLaunchTemplate;
  launchData: RequestLaunchTemplateData;
  copied: CopiedSettings | null;
  createdMs: number;
  /** The poll that proved it healthy where it is (absent when it still has to join production). */
  healthy?: HealthProof;
  healthDeadline: number;
  placement?: Placement;
  /** The strategy that placed it (a canary keeps its placement's state for the shift); absent: chosen anew (promote). */
  strategy?: DeployStrategy;
  /** It is in the production target groups already (false: created outside them, it joins in {@link goLive}). */
  inProduction: boolean;
  /** The tags of a test listener still open to it (a held group): closed before it joins production. */
  openTestListener?: Record<string, string>;
}

/**
 * The deploy skeleton every strategy runs (docs/architecture.md, "Red/black"):
 * new launch template + ASG (min pinned, at the strategy's initial capacity),
 * wait until healthy in every target group, the strategy shifts traffic
 * (`strategies/`: nothing for red/black, the steps for rolling), then the
 * cutover: disable the old groups, the watch, scale them down (now or after
 * the warm window), unpin, destroy beyond keepPrevious ({@link finishCutover}).
 * Before traffic moves any failure removes the new group (automatic rollback, exit 1).
 * With `hold` a deploy runs {@link bringUp} alone and holds (`hold.ts`); promote goes on with {@link goLive}.
 */
export async function runRedBlack(aws: AwsClients, options: RedBlackOptions): Promise<RedBlackResult> {
  return goLive(aws, options, await bringUp(aws, options));
}

/**
 * The first half: new launch template and group, healthy (and `beforeTraffic` passed), still before traffic
 * (in production already unless something runs before traffic or the deploy holds). A failure removes it.
 */
export async function bringUp(aws: AwsClients, options: RedBlackOptions): Promise<BroughtUp> {
  const { request, plan, log, session } = options;
  const started = new Date();
  const t0 = Date.now();
  const source = plan.source;
  const record = baseRecord(options, started);
  await session.record({ ...record, result: 'started' });

  let template: CreatedLaunchTemplate | undefined;
  let launchData: RequestLaunchTemplateData = {};
  let asgCreated = false;
  let createdAt = 0;
  let healthDeadline = 0;
  let copied: CopiedSettings | null = null;
  let testListener: PreparedTestListener | undefined;
  const strategy = strategyFor(request, plan, options.verification);
  let placement: Placement | undefined;
  try {
    placement = await strategy.placement?.(aws, { plan, request, log });
    // Where the new group is created and proved healthy: the strategy's placement (canary), else
    // outside production while beforeTraffic runs or the deploy holds (creationTargetGroups), else the plan's target groups.
    const placedIn = () => placement?.targetGroupArns ?? creationTargetGroups(request, plan, testListener);
    const baseData = source ? await readLaunchData(aws, source) : {};
    launchData = composeLaunchData(baseData, request.amiId, request.launch);
    const tags = ourTags(request, options.deploymentId, source?.name);
    template = await createLaunchTemplate(aws, plan.newServerGroup, launchData, tags);
    log.info(`launch template ${template.name} (${template.id} v${template.version}) for ${request.amiId}`);
    const hooks = source ? await lifecycleHookSpecifications(aws, source) : [];
    if (request.testListener)
      testListener = await prepareTestListener(aws, {
        listenerArn: request.testListener,
        productionTargetGroupArn: splitSources(plan.targetGroupArns).targetGroupArns[0] as string,
        serverGroup: plan.newServerGroup,
        cluster: request.cluster.name,
      });
    if (source) await pinSource(aws, source);
    // Target groups made for the group (canary, test listener) may exist already: recovery finds them by their tags.
    failpoint('before-asg-created');
    await createServerGroup(aws, {
      name: plan.newServerGroup,
      launchTemplate: template,
      capacity: strategy.initialCapacity(plan),
      subnets: plan.subnets,
      ...(source?.asg.AvailabilityZones ? { availabilityZones: source.asg.AvailabilityZones } : {}),
      targetGroupArns: placedIn(),
      tags: [
        ...(source ? userTagsOf(source.asg) : []),
        ...Object.entries({ ...request.tags }).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
        ...Object.entries({
          ...tags,
          [Tag.phase]: Phase.creating,
          [Tag.pinnedFrom]: String(plan.capacity.min),
          [Tag.runSettings]: encodeRunSettings(request),
          ...testListener?.tags,
          ...placement?.tags,
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
      `created ${plan.newServerGroup}: ${plan.capacity.desired} instance(s) of ${request.amiId} in ${placedIn().length} target group(s)`,
    );
    await ensureLifecycleHooks(aws, plan.newServerGroup, hooks);
    if (source) copied = await copyScalingSettings(aws, source, plan.newServerGroup, log);
    await setGroupTags(aws, plan.newServerGroup, { [Tag.phase]: Phase.waitingHealthy });
    failpoint('waiting-healthy');
    assertLockHeld(session);
    healthDeadline = Date.now() + request.healthTimeoutSeconds * 1000;
    const healthy = await waitForHealthyTargets(aws, {
      ...healthWait(request, plan.newServerGroup, started),
      targetGroupArns: placedIn(),
      deadline: healthDeadline,
      giveUpWhenBroken: true,
      log,
    });
    const held = request.hold === true;
    if (request.beforeTraffic) {
      // Before traffic: the command runs against the group outside production; a failure removes it below.
      assertLockHeld(session);
      await runBeforeTraffic(aws, {
        request,
        serverGroup: plan.newServerGroup,
        instanceIds: healthy.healthyInstanceIds,
        ...(testListener ? { testListener } : {}),
        // A held group stays behind the test listener until promote or abort.
        keepTestListener: held,
        log,
      });
    } else if (testListener && held) await openTestListener(aws, testListener, log);
    assertLockHeld(session);
    return {
      started,
      t0,
      record,
      template,
      launchData,
      copied,
      createdMs: createdAt,
      ...(holdsProductionTraffic(request) ? {} : { healthy }),
      healthDeadline,
      ...(placement ? { placement } : {}),
      strategy,
      inProduction: !holdsProductionTraffic(request),
      ...(testListener && held ? { openTestListener: testListener.tags } : {}),
    };
  } catch (error) {
    return removeBeforeTraffic(
      aws,
      options,
      {
        record,
        ...(template ? { template } : {}),
        ...(placement ? { placement } : {}),
        ...(testListener ? { openTestListener: testListener.tags } : {}),
      },
      error,
      asgCreated || template !== undefined,
    );
  }
}

/** The source of a deploy pinned: its min at desired, so nothing scales it in while both run. */
export async function pinSource(aws: AwsClients, source: ServerGroup): Promise<void> {
  await setGroupTags(aws, source.name, { [Tag.pinnedFrom]: String(source.capacity.min) });
  await setCapacity(aws, source.name, { min: source.capacity.desired });
}

/** The health wait's settings common to every wait of a run on its new group. */
function healthWait(request: DeployRequest, groupName: string, since: Date) {
  return {
    groupName,
    targetHealthyPercent: request.targetHealthyPercent,
    since,
    cluster: request.cluster.name,
  };
}

/**
 * The automatic rollback (exit 1): a new group that never took traffic is removed, with what was made for it
 * (test listener back, placement discarded, the old group's min restored). Always throws.
 */
export async function removeBeforeTraffic(
  aws: AwsClients,
  options: RedBlackOptions,
  made: Pick<BroughtUp, 'record' | 'placement' | 'openTestListener'> & { template?: CreatedLaunchTemplate },
  error: unknown,
  groupMade: boolean,
): Promise<never> {
  const { plan, log, session, request } = options;
  const { record, template, placement } = made;
  const source = plan.source;
  const why = describeError(error);
  log.error(`${plan.newServerGroup} failed before taking traffic: ${why}`);
  log.info(`automatic rollback: removing ${plan.newServerGroup}; ${source?.name ?? 'the cluster'} keeps serving`);
  try {
    if (made.openTestListener) await closeTestListener(aws, plan.newServerGroup, made.openTestListener, log);
    if (groupMade)
      await removeNewGroup(
        operationPortsOf(aws),
        plan.newServerGroup,
        template,
        source,
        log,
        request.drainTimeoutSeconds,
      );
    else if (source) await restorePinnedMin(aws, source.name, source.capacity.min, log);
    await placement?.discard();
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

/**
 * The second half: the new group into production (test listener closed, production target groups joined,
 * healthy there, capacity handed off — a failure up to here still removes it), then the strategy shifts
 * traffic and the cutover finishes. A deploy runs it right after {@link bringUp}; promote on a held group.
 */
export async function goLive(aws: AwsClients, options: RedBlackOptions, up: BroughtUp): Promise<RedBlackResult> {
  const { request, plan, log, session } = options;
  const { started, t0, record, template, launchData, copied } = up;
  const source = plan.source;
  const prepared = options.verification;
  const strategy = up.strategy ?? strategyFor(request, plan, prepared);
  let { healthy, healthDeadline } = up;
  let handoff: CapacityHandoff | undefined;
  let healthyAt = 0;
  let healthIn = plan.targetGroupArns;
  try {
    if (up.openTestListener) {
      await closeTestListener(aws, plan.newServerGroup, up.openTestListener, log);
      await removeGroupTags(aws, plan.newServerGroup, Object.keys(up.openTestListener));
    }
    if (!up.inProduction) {
      assertLockHeld(session);
      await joinProductionTargetGroups(aws, plan.newServerGroup, plan.targetGroupArns, log);
      healthDeadline = Date.now() + request.healthTimeoutSeconds * 1000;
      healthy = await waitForHealthyTargets(aws, {
        ...healthWait(request, plan.newServerGroup, started),
        targetGroupArns: plan.targetGroupArns,
        deadline: healthDeadline,
        giveUpWhenBroken: true,
        log,
      });
    } else healthIn = up.placement?.targetGroupArns ?? plan.targetGroupArns;
    if (source && strategy.handsOffAtHealth) {
      // The serving group may have scaled out meanwhile: the new one takes over at least that many.
      handoff = await handOffCapacity(aws, {
        previous: source.name,
        newServerGroup: plan.newServerGroup,
        targetGroupArns: healthIn,
        targetHealthyPercent: request.targetHealthyPercent,
        deadline: Date.now() + request.healthTimeoutSeconds * 1000,
        since: started,
        cluster: request.cluster.name,
        log,
      });
      if (handoff.proof) healthy = handoff.proof;
    }
    healthyAt = Date.now();
    assertLockHeld(session);
  } catch (error) {
    // Each step of closing the test listener tolerates what is already undone.
    return removeBeforeTraffic(aws, options, up, error, true);
  }
  const createdAt = up.createdMs;

  // From here the new group serves (traffic shifts to it): failures leave it serving and say how to finish.
  const recordFailedVerdict = async (error: unknown): Promise<never> => {
    if (error instanceof BluegreenError && error.details.verification) {
      const rolledBack = error.code === 'VerificationFailed' && error.details.autoRolledBack === true;
      await session.record({
        ...record,
        result: rolledBack ? 'rolled-back' : 'failed',
        verdict: 'failed',
        ...canaryRecord(error.details.verification as Verification),
        finishedAt: new Date().toISOString(),
        message: error.message,
      });
    }
    throw error;
  };
  const warmAfterSeconds = warmWindowSeconds(request.scaleDownDelaySeconds, prepared);
  const shifted = await strategy
    .shiftTraffic(aws, {
      request,
      plan,
      source,
      verification: prepared,
      healthy: healthy as HealthProof,
      warmAfterSeconds,
      log,
      check: () => assertLockHeld(session),
    })
    .catch(recordFailedVerdict);
  if (shifted.handoff) handoff = shifted.handoff;
  const watched = cutoverWatchHook(aws, prepared, {
    newServerGroup: plan.newServerGroup,
    healthTimeoutSeconds: request.healthTimeoutSeconds,
    ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
    log,
    check: () => assertLockHeld(session),
    earlierSteps: shifted.steps,
    // A rollback's redeploy made this group: a breach removes it as a deploy's does.
    ...(options.kind === 'rollback' ? { rollback: { reenabled: false } } : {}),
    ...(request.afterTraffic
      ? {
          afterTraffic: afterTrafficCommand(
            aws,
            request,
            plan.newServerGroup,
            (healthy as HealthProof).healthyInstanceIds,
            log,
          ),
        }
      : {}),
  });
  const finished = await finishCutover(aws, {
    cluster: request.cluster.name,
    newServerGroup: plan.newServerGroup,
    ...shifted.cutover,
    newMin: plan.capacity.min,
    scaleDownDelaySeconds: warmAfterSeconds,
    keepPrevious: request.keepPrevious,
    ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
    ...(healthy && healthy.healthy < healthy.desired
      ? { holdScaleDown: () => fullHealthOrReason(aws, plan, healthDeadline, started, log) }
      : {}),
    ...(watched.watch ? { watch: watched.watch } : {}),
    log,
  }).catch(recordFailedVerdict);
  const verification = watched.verification() ?? stepsOnly(shifted.steps, request.verify?.watchSeconds ?? 0);
  const totalMs = Date.now() - t0;
  // The capacity the new group ended with: the plan's, or what it took over from a group that scaled out.
  const capacity = handoff ? { ...plan.capacity, desired: handoff.desired } : plan.capacity;
  const handoffWarnings =
    handoff?.cappedFrom !== undefined
      ? [
          `${source?.name} ran ${handoff.previousDesired} instance(s) at cutover; ${plan.newServerGroup} took ${handoff.desired} (its max): raise its max if it must carry ${handoff.cappedFrom}`,
        ]
      : [];
  await session.record({
    ...record,
    result: 'succeeded',
    finishedAt: new Date().toISOString(),
    durationSeconds: Math.round(totalMs / 1000),
    ...(verification ? { verdict: verification.verdict, ...canaryRecord(verification) } : {}),
    // What a rollback needs to redeploy this AMI the same way once the group is gone.
    launchSettings: recordedLaunchSettings(
      launchData,
      template as CreatedLaunchTemplate,
      { ...plan, capacity },
      {
        ...(source?.asg.MixedInstancesPolicy
          ? {
              mixedInstancesPolicy: mixedInstancesPolicyFor(
                source.asg.MixedInstancesPolicy,
                template as CreatedLaunchTemplate,
              ),
            }
          : {}),
        ...(source ? { warmPool: warmPoolOf(source.asg) } : {}),
      },
    ),
  });
  return {
    serverGroup: plan.newServerGroup,
    previousServerGroup: source?.name ?? null,
    launchTemplate: template as CreatedLaunchTemplate,
    targetGroups: plan.targetGroupArns,
    capacity,
    disabled: finished.disabled,
    scaledDown: finished.scaledDown,
    warm: finished.warm,
    destroyed: finished.destroyed,
    copied,
    warnings: [...handoffWarnings, ...finished.warnings],
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

/** The steps a strategy watched (a canary's analyses) when no watch after the cutover was asked for; null without steps. */
function stepsOnly(steps: Verification['steps'], watchSeconds: number): Verification | null {
  if (steps.length === 0) return null;
  return { watchSeconds, alarms: [], gates: false, baseline: null, steps, verdict: 'passed' };
}

/** The ledger's view of a canary's analysed steps (none for other strategies). */
function canaryRecord(verification: Verification): { canary?: CanaryRecordStep[] } {
  const steps = verification.steps.flatMap((s) =>
    s.analysis
      ? [
          {
            step: s.step,
            score: s.analysis.score,
            verdict: s.analysis.verdict,
            metrics: s.analysis.metrics.map((m) => ({ name: m.name, verdict: m.verdict })),
          },
        ]
      : [],
  );
  return steps.length > 0 ? { canary: steps } : {};
}
