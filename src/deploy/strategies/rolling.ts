import type { AwsClients } from '../../aws/clients';
import { Tag } from '../../aws/tags';
import { failpoint } from '../../core/failpoint';
import type { Logger } from '../../core/log';
import { Phase } from '../../cluster/phases';
import { describeAsgsByName, describeTargetHealth, type ServerGroup } from '../../cluster/server-groups';
import type { PreparedVerification } from '../../verify/prepare';
import { watchStep, type Verification, type VerificationStep } from '../../verify/watch';
import { waitForHealthyTargets } from '../health';
import { rollBackAfterBreach } from '../operations/watch-cutover';
import type { DeployPlan } from '../plan';
import { stepCount, type RollingSettings } from '../rolling';
import { disableServerGroup, setCapacity, setGroupTags } from '../server-group-ops';
import type { DeployStrategy } from './strategy';

/**
 * Rolling red/black (settings and their checks: `deploy/rolling.ts`): the new
 * group is created at the first step's size; the steps below 100 % move that
 * share of the traffic, each watched; the last step is the ordinary cutover,
 * from live state. The `cutover` phase goes on before the first step: the new
 * group takes traffic from then on.
 */
export function rollingStrategy(rolling: RollingSettings): DeployStrategy {
  return {
    name: 'rolling',
    initialCapacity: (plan) => firstStep(plan.capacity, rolling.steps),
    shiftTraffic: async (aws, context) => {
      const { request, plan, source, verification } = context;
      if (!source || !verification) throw new Error('rolling needs a previous group and a watch');
      await setGroupTags(aws, plan.newServerGroup, { [Tag.phase]: Phase.cutover });
      failpoint('cutover-started');
      const steps = await runRollingSteps(aws, {
        rolling,
        prepared: verification,
        newServerGroup: plan.newServerGroup,
        targetGroupArns: plan.targetGroupArns,
        previous: source,
        desired: plan.capacity.desired,
        healthTimeoutSeconds: request.healthTimeoutSeconds,
        ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
        warmAfterSeconds: context.warmAfterSeconds,
        log: context.log,
        check: context.check,
      });
      return { steps, cutover: {} };
    },
  };
}

/** The capacity a rolling deploy creates its group with: the first step's share of desired, min pinned to it. */
export function firstStep(capacity: DeployPlan['capacity'], steps: readonly number[]): DeployPlan['capacity'] {
  const desired = stepCount(capacity.desired, steps[0] ?? 100);
  return { min: desired, max: capacity.max, desired };
}

/** Options of {@link runRollingSteps}. */
export interface RollingOptions {
  rolling: RollingSettings;
  prepared: PreparedVerification;
  newServerGroup: string;
  /** The new group's target groups. */
  targetGroupArns: readonly string[];
  /** The group serving before (its instances leave step by step). */
  previous: ServerGroup;
  /** The new group's final desired capacity. */
  desired: number;
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  /** Extra seconds the previous group must stay warm after the steps (scaleDownDelay, watch). */
  warmAfterSeconds: number;
  log: Logger;
  check?: () => void;
}

/**
 * Runs the steps below 100 % (the new group was created at the first step's
 * size and is healthy). Returns their verdicts; a breach rolls back and
 * throws `VerificationFailed` with the verification so far.
 */
export async function runRollingSteps(aws: AwsClients, options: RollingOptions): Promise<VerificationStep[]> {
  const { previous, log, rolling } = options;
  const partial = rolling.steps.filter((p) => p < 100);
  const done: VerificationStep[] = [];
  if (partial.length === 0) return done;
  const until = new Date(
    Date.now() + partial.length * (rolling.stepWatchSeconds + options.healthTimeoutSeconds) * 1000,
  );
  // A crash from here is settled like an interrupted watch: the previous group still has every instance.
  await setGroupTags(aws, options.newServerGroup, {
    [Tag.phase]: Phase.watching,
    [Tag.watchUntil]: until.toISOString(),
  });
  await setGroupTags(aws, previous.name, {
    [Tag.scaleDownAfter]: new Date(until.getTime() + options.warmAfterSeconds * 1000).toISOString(),
  });
  const oldIds = previous.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.id);
  const out = new Set<string>();
  // After each growth: every instance of the new group InService and healthy in every target group.
  const untilFullyHealthy = () =>
    waitForHealthyTargets(aws, {
      groupName: options.newServerGroup,
      targetGroupArns: options.targetGroupArns,
      targetHealthyPercent: 100,
      deadline: Date.now() + options.healthTimeoutSeconds * 1000,
      since: new Date(),
      log,
    });
  for (const percent of partial) {
    const newCount = stepCount(options.desired, percent);
    const [asg] = await describeAsgsByName(aws, [options.newServerGroup]);
    if ((asg?.DesiredCapacity ?? 0) < newCount) {
      await setCapacity(aws, options.newServerGroup, { min: newCount, desired: newCount });
      await untilFullyHealthy();
    }
    const leaving = oldIds
      .filter((id) => !out.has(id))
      .slice(0, Math.max(0, stepCount(oldIds.length, percent) - out.size));
    if (leaving.length > 0) {
      const health = await describeTargetHealth(aws, previous.targetGroupArns);
      const registered = new Set([...health.values()].flat().map((t) => t.Target?.Id));
      const instances = previous.instances.filter((i) => leaving.includes(i.id) && registered.has(i.id));
      await disableServerGroup(
        aws,
        { name: previous.name, instances, targetGroupArns: previous.targetGroupArns },
        {
          log,
          ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
        },
      );
      for (const id of leaving) out.add(id);
    }
    log.info(
      `step ${percent}%: ${options.newServerGroup} at ${newCount}/${options.desired}; ${out.size} of ${oldIds.length} instance(s) of ${previous.name} out of the target groups (still running)`,
    );
    failpoint('rolling-step');
    const step = await watchStep(aws, {
      step: `${percent}%`,
      prepared: options.prepared,
      seconds: rolling.stepWatchSeconds,
      serverGroup: options.newServerGroup,
      log,
      ...(options.check ? { check: options.check } : {}),
    });
    done.push(step);
    if (step.verdict === 'failed') {
      const verification: Verification = {
        watchSeconds: options.prepared.watchSeconds,
        alarms: options.prepared.alarms,
        gates: options.prepared.gates,
        baseline: options.prepared.baseline,
        steps: done,
        verdict: 'failed',
      };
      throw await rollBackAfterBreach(aws, {
        newServerGroup: options.newServerGroup,
        previous: [previous],
        healthTimeoutSeconds: options.healthTimeoutSeconds,
        ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
        log,
        verification,
        step,
      });
    }
  }
  // The last step: the whole new group, then the ordinary cutover disables what is left of the previous one.
  await setCapacity(aws, options.newServerGroup, { min: options.desired, desired: options.desired });
  await untilFullyHealthy();
  await setGroupTags(aws, options.newServerGroup, { [Tag.phase]: Phase.cutover });
  return done;
}
