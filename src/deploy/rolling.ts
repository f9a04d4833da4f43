import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { InputError } from '../core/errors';
import { failpoint } from '../core/failpoint';
import type { Logger } from '../core/log';
import { Phase } from '../cluster/phases';
import { describeAsgsByName, describeTargetHealth, type ServerGroup } from '../cluster/server-groups';
import type { PreparedVerification } from '../verify/prepare';
import { rollBackAfterBreach, watchStep, type Verification, type VerificationStep } from '../verify/watch';
import { handOffCapacity, type HandoffOptions } from './capacity-handoff';
import { waitForHealthyTargets } from './health';
import { disableServerGroup, setCapacity, setGroupTags } from './server-group-ops';

/**
 * Spinnaker's rolling red/black: the new group grows in steps (percent of
 * desired) while the same share of the previous group's instances leave the
 * target groups (deregistered and drained, not terminated). After each step
 * health, alarms and gates are watched for `stepWatch`; a breach re-registers
 * the previous group's instances (full strength again) and drains and removes
 * the new group. The last step (100 %) is the ordinary cutover and its watch.
 */

/** `strategy: 'rolling'` settings. */
export interface RollingSettings {
  /** Ascending percentages of desired, ending at 100, e.g. [25, 50, 100]. */
  steps: number[];
  /** Seconds to watch after each step before the next. */
  stepWatchSeconds: number;
}

/** Validates `steps`: whole percentages 1–100, ascending, ending at 100. */
export function parseSteps(value: unknown, field = 'steps'): number[] {
  const list =
    typeof value === 'string'
      ? value.split(',').map((s) => Number(s.trim()))
      : Array.isArray(value)
        ? value.map((v) => (typeof v === 'string' ? Number(v) : v))
        : undefined;
  if (!list || list.length === 0)
    throw new InputError(field, 'must be a list of percentages of desired capacity ending at 100, e.g. [25, 50, 100]');
  list.forEach((step, index) => {
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 1 || step > 100) {
      throw new InputError(
        `${field}[${index}]`,
        `must be a whole percentage from 1 to 100 (got ${JSON.stringify(value instanceof Array ? value[index] : step)})`,
      );
    }
    if (index > 0 && step <= (list[index - 1] as number))
      throw new InputError(field, `must be ascending (got ${list.join(', ')})`);
  });
  if (list[list.length - 1] !== 100) throw new InputError(field, `must end at 100 (got ${list.join(', ')})`);
  return list as number[];
}

/** Instances for `percent` of `total` (at least one). */
export function stepCount(total: number, percent: number): number {
  return Math.min(total, Math.max(1, Math.ceil((total * percent) / 100)));
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

/** Handoff at a rolling step: `percent` of the previous group's current desired, waited on fully healthy. */
function handoffOptions(options: RollingOptions, percent: number): HandoffOptions {
  return {
    previous: options.previous.name,
    newServerGroup: options.newServerGroup,
    targetGroupArns: options.targetGroupArns,
    percent,
    targetHealthyPercent: 100,
    deadline: Date.now() + options.healthTimeoutSeconds * 1000,
    since: new Date(),
    log: options.log,
  };
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
    // The previous group may have scaled out since: this step's share of what it runs now.
    const handed = await handOffCapacity(aws, handoffOptions(options, percent));
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
      `step ${percent}%: ${options.newServerGroup} at ${handed.desired}/${Math.max(options.desired, handed.previousDesired)}; ${out.size} of ${oldIds.length} instance(s) of ${previous.name} out of the target groups (still running)`,
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
