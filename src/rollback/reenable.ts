import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { BluegreenError, OperationFailedError, describeError } from '../core/errors';
import type { Logger } from '../core/log';
import { describeAsgsByName, type ServerGroup } from '../cluster/server-groups';
import { failpoint } from '../core/failpoint';
import { waitForHealthyTargets, waitForInService } from '../deploy/health';
import { assertLockHeld, type ClusterSession } from '../deploy/journal';
import { Phase } from '../cluster/phases';
import { finishCutover, type CutoverResult } from '../deploy/cutover';
import { cancelScheduledScaleDown } from '../deploy/scheduled-scale-down';
import type { PreparedVerification } from '../verify/prepare';
import { cutoverWatchHook } from '../deploy/operations/watch-cutover';
import { warmWindowSeconds, type Verification } from '../verify/watch';
import { putWarmPool, warmPoolOf } from '../deploy/fleet-settings';
import { capacityUnits, readUnitWeight } from '../deploy/capacity-units';
import {
  disableServerGroup,
  enableServerGroup,
  removeGroupTags,
  resumeLaunchAndTerminate,
  scaleDownServerGroup,
  setCapacity,
  setGroupTags,
} from '../deploy/server-group-ops';

/** Options of {@link reenableServerGroup}. */
export interface ReenableOptions {
  cluster: string;
  /** The group serving now; disabled once the target is healthy. */
  current: ServerGroup;
  /** The disabled group to bring back. */
  target: ServerGroup;
  session: ClusterSession;
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  keepPrevious: number;
  scaleDownDelaySeconds: number;
  /** Alarms and gates to watch after the cutover, while the current group stays disabled at full capacity. */
  verification?: PreparedVerification;
  log: Logger;
}

/** What a re-enable did. */
export interface ReenableResult extends Pick<CutoverResult, 'disabled' | 'scaledDown' | 'warm' | 'destroyed'> {
  /** Instances that were already running in the target and served again (no launch needed for them). */
  reusedInstances: string[];
  /** Instances the target launched to reach the current capacity. */
  launchedInstances: string[];
  capacity: { min: number; max: number; desired: number };
  /** Milliseconds from start until the target was healthy in every target group. */
  healthyMs: number;
  /** The watch after the cutover, when one was asked for. */
  verification: Verification | null;
}

/**
 * Re-enables a disabled server group (docs/architecture.md, "Rollback"): resume Launch and
 * Terminate, scale it to the current group's capacity (min pinned to desired
 * while both run), wait until its instances are InService, register them in
 * its target groups, wait until healthy in every one, then cut over with
 * {@link finishCutover} exactly as a deploy does. Instances still running
 * (the warm window) are reused; a group at 0 launches from its own launch
 * template. Phase tags (`reenabling`, then `cutover`) let crash recovery
 * disable it again or finish the cutover. A target that never gets healthy is
 * put back as it was; the current group keeps serving (exit 1). With a
 * verification, the cutover is watched while the current group stays disabled
 * at full capacity; a breach puts it back and disables the target again (exit 1).
 */
export async function reenableServerGroup(aws: AwsClients, options: ReenableOptions): Promise<ReenableResult> {
  const { current, target, log } = options;
  const t0 = Date.now();
  const since = new Date();
  const capacity = {
    min: current.capacity.min,
    max: Math.max(current.capacity.max, current.capacity.desired),
    desired: current.capacity.desired,
  };
  // First of all, before any capacity change: its pending scale-down must not fire while it comes back.
  await cancelScheduledScaleDown(aws, target.name);
  // Had it fired already, the group is going to 0: its instances do not count, it launches what it needs.
  const fired = await scaleDownStarted(aws, target);
  const running =
    fired || target.capacity.desired === 0
      ? []
      : (target.asg.Instances ?? []).filter((i) => i.LifecycleState === 'InService');
  // Desired is in the group's units (capacity-units.ts): an instance of weight 2 counts 2.
  const runningUnits = capacityUnits(running, await readUnitWeight(aws, target.asg));
  log.info(
    `re-enabling ${target.name}: ${running.length} instance(s) still running (${runningUnits} of its capacity units), ` +
      `scaling to ${capacity.desired} ` +
      `(${runningUnits >= capacity.desired ? 'no launch needed' : `${capacity.desired - runningUnits} unit(s) to launch from its launch template`})`,
  );
  try {
    await setGroupTags(aws, target.name, { [Tag.phase]: Phase.reenabling, [Tag.pinnedFrom]: String(capacity.min) });
    // Pin the serving group's min while both run, as a deploy does.
    await setGroupTags(aws, current.name, { [Tag.pinnedFrom]: String(current.capacity.min) });
    await setCapacity(aws, current.name, { min: current.capacity.desired });
    // A warm group with enough instances needs no launch: its processes are resumed once registered (enableServerGroup).
    if (runningUnits < capacity.desired) await resumeLaunchAndTerminate(aws, target.name);
    // Its warm pool went when it was scaled down: the serving group's (copied from it) comes back with it.
    const warmPool = target.asg.WarmPoolConfiguration ? undefined : warmPoolOf(current.asg);
    if (warmPool) await putWarmPool(aws, target.name, warmPool);
    const pinned = { min: capacity.desired, max: capacity.max, desired: capacity.desired };
    if (
      target.capacity.min !== pinned.min ||
      target.capacity.max !== pinned.max ||
      target.capacity.desired !== pinned.desired
    ) {
      await setCapacity(aws, target.name, pinned);
    }
    failpoint('reenable-scaled');
    const inService = await waitForInService(aws, {
      groupName: target.name,
      count: capacity.desired,
      deadline: Date.now() + options.healthTimeoutSeconds * 1000,
      since,
      log,
    });
    await enableServerGroup(aws, target.name, inService, target.targetGroupArns);
    log.info(
      `${target.name}: ${inService.length} instance(s) registered in ${target.targetGroupArns.length} target group(s); waiting until healthy in every one`,
    );
    failpoint('reenable-registered');
    assertLockHeld(options.session);
    await waitForHealthyTargets(aws, {
      groupName: target.name,
      targetGroupArns: target.targetGroupArns,
      targetHealthyPercent: 100,
      deadline: t0 + options.healthTimeoutSeconds * 1000,
      since,
      log,
    });
    assertLockHeld(options.session);
  } catch (error) {
    const why = describeError(error);
    log.error(`${target.name} did not become healthy: ${why}`);
    try {
      await putBack(aws, options, log);
    } catch (cleanupError) {
      throw new OperationFailedError(
        'RollbackIncomplete',
        `${why}; putting ${target.name} back failed: ${describeError(cleanupError)}`,
        {
          recovery: `run the rollback again or deploy: crash recovery finds ${target.name} (tag ${Tag.phase}=${Phase.reenabling}) and disables it; ${current.name} still serves`,
        },
      );
    }
    const details = error instanceof BluegreenError ? error.details : {};
    throw new OperationFailedError(
      error instanceof BluegreenError ? error.code : 'RollbackFailed',
      `${why}. ${target.name} put back disabled; ${current.name} still serves`,
      {
        ...details,
        restoredServerGroup: null,
        rolledBackFrom: null,
        recovery: `nothing to do: ${current.name} serves as before; see the reasons, or roll back to another release`,
      },
    );
  }
  const healthyMs = Date.now() - t0;
  const afterScale = new Set(running.map((i) => i.InstanceId));
  await setGroupTags(aws, target.name, { [Tag.phase]: Phase.cutover });
  if (target.tags[Tag.scaleDownAfter] !== undefined) await removeGroupTags(aws, target.name, [Tag.scaleDownAfter]);
  const prepared = options.verification;
  const watched = cutoverWatchHook(aws, prepared, {
    newServerGroup: target.name,
    healthTimeoutSeconds: options.healthTimeoutSeconds,
    ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
    log,
    check: () => assertLockHeld(options.session),
    rollback: { reenabled: true },
  });
  const finished = await finishCutover(aws, {
    cluster: options.cluster,
    newServerGroup: target.name,
    newMin: capacity.min,
    scaleDownDelaySeconds: warmWindowSeconds(options.scaleDownDelaySeconds, prepared),
    ...(watched.watch ? { watch: watched.watch } : {}),
    keepPrevious: options.keepPrevious,
    ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
    log,
  });
  const [now] = await describeAsgsByName(aws, [target.name]);
  const ids = (now?.Instances ?? []).map((i) => i.InstanceId as string);
  return {
    ...finished,
    reusedInstances: ids.filter((id) => afterScale.has(id)),
    launchedInstances: ids.filter((id) => !afterScale.has(id)),
    capacity,
    healthyMs,
    verification: watched.verification(),
  };
}

/** True when the group's desired capacity is below what the caller saw: its scheduled scale-down ran. */
async function scaleDownStarted(aws: AwsClients, target: ServerGroup): Promise<boolean> {
  if (target.capacity.desired === 0) return false;
  const [asg] = await describeAsgsByName(aws, [target.name]);
  return (asg?.DesiredCapacity ?? 0) < target.capacity.desired;
}

/** Undoes a re-enable that never cut over: the target disabled again at its old capacity, the current group's min unpinned. */
async function putBack(aws: AwsClients, options: ReenableOptions, log: Logger): Promise<void> {
  const { current, target } = options;
  const [asg] = await describeAsgsByName(aws, [target.name]);
  const instances = (asg?.Instances ?? []).map((i) => ({ id: i.InstanceId as string }));
  await disableServerGroup(
    aws,
    { name: target.name, instances: instances as ServerGroup['instances'], targetGroupArns: target.targetGroupArns },
    {
      log,
      ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
    },
  );
  if (target.capacity.desired === 0)
    await scaleDownServerGroup(aws, target.name, [], { warmPool: Boolean(asg?.WarmPoolConfiguration) });
  else await setCapacity(aws, target.name, target.capacity);
  await removeGroupTags(aws, target.name, [Tag.phase, Tag.pinnedFrom]);
  await setCapacity(aws, current.name, { min: current.capacity.min });
  await removeGroupTags(aws, current.name, [Tag.pinnedFrom]);
  log.info(`${target.name}: disabled again at ${target.capacity.desired} instance(s); ${current.name} unchanged`);
}
