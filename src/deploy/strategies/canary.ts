import { setTimeout as sleep } from 'node:timers/promises';
import type { AwsClients } from '../../aws/clients';
import { Tag } from '../../aws/tags';
import { InputError, OperationFailedError, describeError } from '../../core/errors';
import { failpoint } from '../../core/failpoint';
import { awsSecondsToMs } from '../../core/poll';
import { Phase } from '../../cluster/phases';
import { canaryTargetGroupName, createCanaryTargetGroups, deleteTargetGroups } from '../../traffic/canary-target-group';
import { targetGroupNameFromArn } from '../../traffic/target-group-names';
import { findForwardSites, restoreSites, setCanaryWeight, type ForwardSite } from '../../traffic/listener-weights';
import { readCanaryWindow, type CanarySides } from '../../verify/canary-metrics';
import { judgeWindow } from '../../verify/canary-settings';
import type { CanarySettings } from '../canary';
import { dimensionOf, targetGroupDimensions } from '../../verify/metrics';
import type { Verification, VerificationStep } from '../../verify/watch';
import { handOffCapacity, type CapacityHandoff } from '../capacity-handoff';
import { waitForHealthyTargets } from '../health';
import { abortCanary, canaryOut, joinProduction, retireCanaryTargetGroups } from '../operations/end-canary';
import { removeGroupTags, setGroupTags } from '../server-group-ops';
import type { DeployStrategy, ShiftContext } from './strategy';

/** What the canary made before its group: the sites it weights, its target groups. */
interface Placed {
  sites: ForwardSite[];
  /** Production target group ARN → canary target group ARN. */
  canaryOf: Map<string, string>;
  names: string[];
}

/**
 * Canary on the load balancer (docs/architecture.md, "Canary"): the new group
 * is created at full size in its own target group(s), copied from the
 * production ones and put in the listeners' forward actions at weight 0 (so
 * the load balancer health-checks it). Each step below 100 % weights the
 * actions, watches for `stepWatch` and compares the canary with the
 * production target group over that window (`verify/canary-*.ts`); a failed
 * step puts the listeners back at once and removes the group. At 100 % the
 * group joins the production target groups, the listeners go back to exactly
 * what they were, the canary target groups are deleted, and the ordinary
 * cutover takes the previous group out. Phase `canary` from the first weight
 * on: a crash is undone (`nextAction`), the verdict being unknown.
 */
export function canaryStrategy(settings: CanarySettings): DeployStrategy {
  let placed: Placed | undefined;
  return {
    name: 'canary',
    initialCapacity: (plan) => plan.capacity,
    // Healthy in its canary target groups at weight 0: it takes over what the previous group runs now first.
    handsOffAtHealth: true,
    preflight: async (aws, { plan }) => {
      canaryNamesOf(plan);
      await canarySitesOf(aws, plan);
    },
    placement: async (aws, { plan, request, log }) => {
      const sites = await canarySitesOf(aws, plan);
      const names = canaryNamesOf(plan);
      const canaryOf = await createCanaryTargetGroups(
        aws,
        plan.targetGroupArns,
        plan.newServerGroup,
        request.cluster.name,
      );
      placed = { sites, canaryOf, names };
      // Weight 0: no request yet, but the load balancer health-checks the canary target groups.
      await setCanaryWeight(aws, sites, canaryOf, 0);
      log.info(`canary target group(s) ${names.join(', ')} made and in ${sites.length} listener action(s) at weight 0`);
      const made = placed;
      return {
        targetGroupArns: [...canaryOf.values()],
        tags: { [Tag.canaryTargetGroups]: names.join(',') },
        discard: async () => {
          await restoreSites(aws, made.sites);
          await deleteTargetGroups(aws, [...made.canaryOf.values()]);
        },
      };
    },
    shiftTraffic: async (aws, context) => {
      if (!placed) throw new Error('canary: shiftTraffic before placement');
      const { steps, handoff } = await runCanarySteps(aws, context, settings, placed);
      await promote(aws, context, placed);
      return { steps, ...(handoff ? { handoff } : {}), cutover: { newGroupTags: { [Tag.phase]: Phase.cutover } } };
    },
  };
}

/** The names of the canary target groups (InputError naming `cluster` when one would be too long). */
function canaryNamesOf(plan: ShiftContext['plan']): string[] {
  return plan.targetGroupArns.map((_, index) => canaryTargetGroupName(plan.newServerGroup, index));
}

/** The listener actions and rules to weight: at least one (InputError naming `targetGroups` otherwise). */
async function canarySitesOf(aws: AwsClients, plan: ShiftContext['plan']): Promise<ForwardSite[]> {
  const sites = await findForwardSites(aws, plan.targetGroupArns);
  if (sites.length === 0)
    throw new InputError(
      'targetGroups',
      `canary needs a listener or rule forwarding to the target group(s) ${plan.targetGroupArns.map(targetGroupNameFromArn).join(', ')}; none does: add one, or deploy red-black`,
    );
  return sites;
}

/** The production and canary target groups as CloudWatch names them (the first pair), and the server groups. */
async function sidesOf(aws: AwsClients, context: ShiftContext, placed: Placed): Promise<CanarySides> {
  const [production, canary] = [...placed.canaryOf.entries()][0] as [string, string];
  const [pair] = await targetGroupDimensions(aws, [production]);
  return {
    loadBalancer: pair?.loadBalancer ?? '',
    baselineTargetGroup: dimensionOf(production, 'targetgroup'),
    canaryTargetGroup: dimensionOf(canary, 'targetgroup'),
    canaryServerGroup: context.plan.newServerGroup,
    baselineServerGroup: context.source?.name ?? '',
  };
}

/**
 * Capacity handoff before a canary step (deploy/capacity-handoff.ts): the canary runs at full size, so
 * at every weight — and before it joins production at 100 % — it is raised to at least what the
 * previous group runs now (it may have scaled out during the steps) and waits until that is healthy in
 * its canary target groups. A handoff that fails is a failed step: the canary is undone.
 */
async function handOffAtStep(
  aws: AwsClients,
  context: ShiftContext,
  placed: Placed,
): Promise<CapacityHandoff | undefined> {
  const { plan, source, request, log } = context;
  if (!source) return undefined;
  return handOffCapacity(aws, {
    previous: source.name,
    newServerGroup: plan.newServerGroup,
    targetGroupArns: [...placed.canaryOf.values()],
    targetHealthyPercent: request.targetHealthyPercent,
    deadline: Date.now() + request.healthTimeoutSeconds * 1000,
    since: new Date(),
    log,
  });
}

async function runCanarySteps(
  aws: AwsClients,
  context: ShiftContext,
  settings: CanarySettings,
  placed: Placed,
): Promise<{ steps: VerificationStep[]; handoff?: CapacityHandoff }> {
  const { plan, log } = context;
  const partial = settings.steps.filter((p) => p < 100);
  const done: VerificationStep[] = [];
  let handoff: CapacityHandoff | undefined;
  await setGroupTags(aws, plan.newServerGroup, { [Tag.phase]: Phase.canary });
  const sides = await sidesOf(aws, context, placed);
  const periodSeconds = Math.max(1, Math.round(awsSecondsToMs(settings.analysis.periodSeconds) / 1000));
  /** The handoff before a step (and before 100 %); a failed one fails that step. */
  const handOff = async (step: string): Promise<void> => {
    const startedAt = new Date().toISOString();
    try {
      handoff = (await handOffAtStep(aws, context, placed)) ?? handoff;
    } catch (error) {
      const failed: VerificationStep = {
        step,
        startedAt,
        endedAt: new Date().toISOString(),
        alarms: [],
        requests: 0,
        errors: 0,
        errorRate: 0,
        verdict: 'failed',
        reason: `capacity handoff: ${describeError(error)}`,
        polls: 1,
      };
      done.push(failed);
      throw await undoCanary(aws, context, placed, done, failed, settings);
    }
  };
  for (const [index, percent] of partial.entries()) {
    context.check();
    if (index > 0) await handOff(`${percent}%`);
    await setCanaryWeight(aws, placed.sites, placed.canaryOf, percent);
    const start = Date.now();
    log.info(
      `canary step ${percent}%: ${plan.newServerGroup} takes ${percent} % of the requests; analysing for ${settings.stepWatchSeconds}s`,
    );
    failpoint('canary-step');
    for (let left = settings.stepWatchSeconds * 1000; left > 0; left -= 1000) {
      await sleep(Math.min(1000, left));
      context.check();
    }
    const end = Date.now();
    const data = await readCanaryWindow(aws, {
      sides,
      metrics: settings.analysis.metrics,
      start,
      end,
      periodSeconds,
      minRequests: settings.analysis.minRequests,
    });
    const judged = judgeWindow(settings.analysis, data, index === partial.length - 1);
    const errors = data.get('errorRate');
    const counts = errors?.kind === 'rate' ? errors.canary : { events: 0, total: 0 };
    const step: VerificationStep = {
      step: `${percent}%`,
      startedAt: new Date(start).toISOString(),
      endedAt: new Date(end).toISOString(),
      alarms: [],
      requests: counts.total,
      errors: counts.events,
      errorRate: counts.total > 0 ? counts.events / counts.total : 0,
      verdict: judged.verdict === 'fail' ? 'failed' : 'passed',
      ...(judged.verdict !== 'pass' ? { reason: `canary analysis: ${judged.reason}` } : {}),
      polls: 1,
      analysis: judged,
    };
    done.push(step);
    log.info(`canary step ${percent}%: ${judged.verdict}, ${judged.reason}`);
    if (step.verdict === 'failed') throw await undoCanary(aws, context, placed, done, step, settings);
  }
  await handOff('100%');
  return { steps: done, ...(handoff ? { handoff } : {}) };
}

/** A failed step: the listeners back at once (the canary's weight 0), the group removed; the error to throw. */
async function undoCanary(
  aws: AwsClients,
  context: ShiftContext,
  placed: Placed,
  steps: VerificationStep[],
  step: VerificationStep,
  settings: CanarySettings,
): Promise<OperationFailedError> {
  const { plan, source, log, request } = context;
  const breachAt = Date.now();
  step.breachAt = new Date(breachAt).toISOString();
  const verification: Verification = {
    watchSeconds: context.verification?.watchSeconds ?? settings.stepWatchSeconds,
    alarms: context.verification?.alarms ?? [],
    gates: context.verification?.gates ?? false,
    baseline: context.verification?.baseline ?? null,
    steps,
    verdict: 'failed',
  };
  try {
    await canaryOut(aws, placed.names, log, { sites: placed.sites });
    step.trafficBackMs = Date.now() - breachAt;
    log.warn(
      `canary failed at ${step.step}: listeners put back ${step.trafficBackMs} ms after the verdict; removing ${plan.newServerGroup}`,
    );
    await abortCanary(aws, {
      newServerGroup: plan.newServerGroup,
      canaryNames: placed.names,
      // Put back already: the group goes next.
      sites: [],
      ...(source ? { source } : {}),
      log,
      ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
    });
  } catch (error) {
    return new OperationFailedError(
      'RollbackIncomplete',
      `${plan.newServerGroup} failed its canary at ${step.step} (${step.reason}); undoing it failed: ${describeError(error)}`,
      {
        verification,
        recovery: `run the deploy again: it finds ${plan.newServerGroup} (tag ${Tag.phase} = ${Phase.canary}), puts the listeners back and removes it`,
      },
    );
  }
  return new OperationFailedError(
    'VerificationFailed',
    `${plan.newServerGroup} failed its canary at ${step.step}: ${step.reason}. Rolled back: listeners forward to the production target group(s) alone, ${plan.newServerGroup} removed`,
    {
      verification,
      serverGroup: plan.newServerGroup,
      previousServerGroup: source?.name ?? null,
      autoRolledBack: true,
      recovery:
        'nothing to do: the cluster serves as before the deploy; fix the build (see the reason) and deploy again',
    },
  );
}

/** 100 %: the group into the production target groups, healthy there; the listeners as they were; the canary target groups gone. */
async function promote(aws: AwsClients, context: ShiftContext, placed: Placed): Promise<void> {
  const { plan, log, request } = context;
  context.check();
  await joinProduction(aws, plan.newServerGroup, plan.targetGroupArns);
  await waitForHealthyTargets(aws, {
    groupName: plan.newServerGroup,
    targetGroupArns: plan.targetGroupArns,
    targetHealthyPercent: 100,
    deadline: Date.now() + request.healthTimeoutSeconds * 1000,
    since: new Date(),
    log,
  });
  failpoint('canary-promoting');
  await restoreSites(aws, placed.sites);
  log.info(
    `canary step 100%: ${plan.newServerGroup} in the production target group(s); listeners as before the deploy`,
  );
  await retireCanaryTargetGroups(aws, plan.newServerGroup, [...placed.canaryOf.values()], log);
  await removeGroupTags(aws, plan.newServerGroup, [Tag.canaryTargetGroups]);
}
