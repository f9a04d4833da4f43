import type { AwsClients } from '../../aws/clients';
import { Tag } from '../../aws/tags';
import { failpoint } from '../../core/failpoint';
import type { Logger } from '../../core/log';
import { Phase } from '../../cluster/phases';
import { clusterApisOf, type ClusterApis } from '../../cluster/server-group-api';
import type { ServerGroup } from '../../cluster/server-groups';
import type { PreparedVerification } from '../../verify/prepare';
import { watchStep, type Verification, type VerificationStep } from '../../verify/watch';
import { handOffCapacity } from '../capacity-handoff';
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
    handsOffAtHealth: false,
    shiftTraffic: async (aws, context) => {
      const { request, plan, source, verification } = context;
      if (!source || !verification) throw new Error('rolling needs a previous group and a watch');
      await setGroupTags(aws, plan.newServerGroup, { [Tag.phase]: Phase.cutover });
      failpoint('cutover-started');
      const settings: RollingOptions = {
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
      };
      const steps = await runRollingSteps(rollingPortsOf(aws, { ...settings, check: context.check }), settings);
      // After the last step the new group takes over what the previous group runs now.
      const handoff = await handOffCapacity(aws, {
        previous: source.name,
        newServerGroup: plan.newServerGroup,
        targetGroupArns: plan.targetGroupArns,
        targetHealthyPercent: 100,
        deadline: Date.now() + request.healthTimeoutSeconds * 1000,
        since: new Date(),
        log: context.log,
      });
      return { steps, handoff, cutover: {} };
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
}

/**
 * What the steps do to the cluster besides the narrow interfaces: the waits
 * and the watch (real ones: {@link rollingPortsOf}; an in-memory fake runs the
 * steps in tests).
 */
export interface RollingPorts extends ClusterApis {
  /** Every instance of the group InService and healthy in every target group; throws at the health deadline. */
  untilFullyHealthy(groupName: string): Promise<void>;
  /**
   * Capacity handoff at a step (deploy/capacity-handoff.ts): the new group raised to `percent` of what the
   * previous group runs now, when that is more, and waited on fully healthy.
   */
  handOff(percent: number): Promise<{ desired: number; previousDesired: number }>;
  /** Watches one step (alarms, gates); changes nothing. */
  watch(step: string): Promise<VerificationStep>;
  /** After a breached step: the previous group back at full strength, the new one out; returns the error to throw. */
  rollBack(verification: Verification, step: VerificationStep): Promise<Error>;
}

/** The real {@link RollingPorts}: AWS through the clients, the health wait, the alarm and gate watch, the breach's undo. */
export function rollingPortsOf(aws: AwsClients, options: RollingOptions & { check?: () => void }): RollingPorts {
  const { log } = options;
  return {
    ...clusterApisOf(aws),
    untilFullyHealthy: async (groupName) => {
      await waitForHealthyTargets(aws, {
        groupName,
        targetGroupArns: options.targetGroupArns,
        targetHealthyPercent: 100,
        deadline: Date.now() + options.healthTimeoutSeconds * 1000,
        since: new Date(),
        log,
      });
    },
    handOff: (percent) =>
      handOffCapacity(aws, {
        previous: options.previous.name,
        newServerGroup: options.newServerGroup,
        targetGroupArns: options.targetGroupArns,
        percent,
        targetHealthyPercent: 100,
        deadline: Date.now() + options.healthTimeoutSeconds * 1000,
        since: new Date(),
        log,
      }),
    watch: (step) =>
      watchStep(aws, {
        step,
        prepared: options.prepared,
        seconds: options.rolling.stepWatchSeconds,
        serverGroup: options.newServerGroup,
        log,
        ...(options.check ? { check: options.check } : {}),
      }),
    rollBack: (verification, step) =>
      rollBackAfterBreach(aws, {
        newServerGroup: options.newServerGroup,
        previous: [options.previous],
        healthTimeoutSeconds: options.healthTimeoutSeconds,
        ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
        log,
        verification,
        step,
      }),
  };
}

/** The previous group's instances out of the target groups at `percent` (the same share as the new group has grown to). */
export function leavingAt(oldIds: readonly string[], out: ReadonlySet<string>, percent: number): string[] {
  return oldIds.filter((id) => !out.has(id)).slice(0, Math.max(0, stepCount(oldIds.length, percent) - out.size));
}

/**
 * Runs the steps below 100 % (the new group was created at the first step's
 * size and is healthy). Returns their verdicts; a breach rolls back and
 * throws `VerificationFailed` with the verification so far.
 */
export async function runRollingSteps(ports: RollingPorts, options: RollingOptions): Promise<VerificationStep[]> {
  const { previous, log, rolling } = options;
  const partial = rolling.steps.filter((p) => p < 100);
  const done: VerificationStep[] = [];
  if (partial.length === 0) return done;
  const until = new Date(
    Date.now() + partial.length * (rolling.stepWatchSeconds + options.healthTimeoutSeconds) * 1000,
  );
  // A crash from here is settled like an interrupted watch: the previous group still has every instance.
  await setGroupTags(ports, options.newServerGroup, {
    [Tag.phase]: Phase.watching,
    [Tag.watchUntil]: until.toISOString(),
  });
  await setGroupTags(ports, previous.name, {
    [Tag.scaleDownAfter]: new Date(until.getTime() + options.warmAfterSeconds * 1000).toISOString(),
  });
  const oldIds = previous.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.id);
  const out = new Set<string>();
  for (const percent of partial) {
    const newCount = stepCount(options.desired, percent);
    const [asg] = await ports.groups.describe([options.newServerGroup]);
    if ((asg?.DesiredCapacity ?? 0) < newCount) {
      // After each growth: every instance of the new group InService and healthy in every target group.
      await setCapacity(ports, options.newServerGroup, { min: newCount, desired: newCount });
      await ports.untilFullyHealthy(options.newServerGroup);
    }
    // The previous group may have scaled out since: this step's share of what it runs now.
    const handed = await ports.handOff(percent);
    const leaving = leavingAt(oldIds, out, percent);
    if (leaving.length > 0) {
      const health = await ports.traffic.health(previous.targetGroupArns);
      const registered = new Set([...health.values()].flat().map((t) => t.Target?.Id));
      const instances = previous.instances.filter((i) => leaving.includes(i.id) && registered.has(i.id));
      await disableServerGroup(
        ports,
        { name: previous.name, instances, targetGroupArns: previous.targetGroupArns },
        {
          log,
          ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
        },
      );
      for (const id of leaving) out.add(id);
    }
    log.info(
      `step ${percent}%: ${options.newServerGroup} at ${handed.desired}/${Math.max(options.desired, handed.previousDesired)}; ${out.size} of ${oldIds.length} instance(s) of ${previous.name} out of the target groups (still running)`,
    );
    failpoint('rolling-step');
    const step = await ports.watch(`${percent}%`);
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
      throw await ports.rollBack(verification, step);
    }
  }
  // The last step: the whole new group, then the ordinary cutover disables what is left of the previous one.
  await setCapacity(ports, options.newServerGroup, { min: options.desired, desired: options.desired });
  await ports.untilFullyHealthy(options.newServerGroup);
  await setGroupTags(ports, options.newServerGroup, { [Tag.phase]: Phase.cutover });
  return done;
}
