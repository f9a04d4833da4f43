import {
  DeleteScheduledActionCommand,
  PutScheduledUpdateGroupActionCommand,
  ResumeProcessesCommand,
} from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients';
import { isNotFound } from '../aws/errors';

/**
 * The scale-down a run does not wait for: a one-time scheduled action on the
 * disabled group (min and desired 0 at its `bluegreen:scale-down-after`
 * time), so EC2 Auto Scaling scales it down when the drain (or the warm
 * window) ends, with no Jenkins executor held. The tag stays the truth: the
 * next run, a rollback or `cleanup` still scale down what is due, and put the
 * action again when it is missing (the call is idempotent by name).
 */

/** How the names of bluegreen's scale-down actions start (never copied to a new group). */
export const SCALE_DOWN_ACTION_PREFIX = 'bluegreen-scale-down';

/**
 * The name of a group's scale-down action: `bluegreen-scale-down-<group>`.
 * AWS keys scheduled actions per group, so the group in the name is only
 * for people reading account-wide lists; moto keys them by name alone (one
 * group's action would replace another's), so the sandbox needs it too. Pure.
 */
export function scaleDownActionName(groupName: string): string {
  return `${SCALE_DOWN_ACTION_PREFIX}-${groupName}`;
}

/**
 * Earliest StartTime put, from now (ms): AWS refuses a StartTime in the
 * past, and a call's own latency must not make a near one past.
 */
const MIN_LEAD_MS = 5_000;

/**
 * When a group just taken out of traffic may go to 0: once its targets have
 * drained (deregistration delay after they left the target groups; AWS ends it
 * sooner when no request is in flight) and its warm window has passed. Pure.
 */
export function scaleDownTime(input: { deregisteredAt: number; drainMs: number; warmMs: number }): number {
  return input.deregisteredAt + Math.max(input.drainMs, input.warmMs);
}

/** The StartTime to put for a scale-down due at `due`: whole seconds, at least {@link MIN_LEAD_MS} ahead. Pure. */
export function scheduledStartTime(due: number, now: number): Date {
  return new Date(Math.ceil(Math.max(due, now + MIN_LEAD_MS) / 1000) * 1000);
}

/**
 * Schedules the scale-down of a disabled group at `due` (epoch ms): resumes
 * `Terminate` (suspended while disabled, it would keep the instances), then
 * puts its {@link scaleDownActionName} action. `Launch` and `AddToLoadBalancer` stay
 * suspended, so the group stays out of service. Returns the StartTime put.
 */
export async function scheduleScaleDown(aws: AwsClients, groupName: string, due: number): Promise<Date> {
  const startTime = scheduledStartTime(due, Date.now());
  await aws.autoScaling.send(
    new ResumeProcessesCommand({ AutoScalingGroupName: groupName, ScalingProcesses: ['Terminate'] }),
  );
  await aws.autoScaling.send(
    new PutScheduledUpdateGroupActionCommand({
      AutoScalingGroupName: groupName,
      ScheduledActionName: scaleDownActionName(groupName),
      StartTime: startTime,
      MinSize: 0,
      DesiredCapacity: 0,
    }),
  );
  return startTime;
}

/**
 * Removes a pending scale-down (a group about to serve again must not be
 * scaled to 0 by it). Nothing to remove is fine.
 */
export async function cancelScheduledScaleDown(aws: AwsClients, groupName: string): Promise<void> {
  try {
    await aws.autoScaling.send(
      new DeleteScheduledActionCommand({
        AutoScalingGroupName: groupName,
        ScheduledActionName: scaleDownActionName(groupName),
      }),
    );
  } catch (error) {
    if (!isNotFound(error) && !isMissingAction(error)) throw error;
  }
}

/** AWS answers a delete of an action that does not exist with a ValidationError naming it. */
function isMissingAction(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  return name === 'ValidationError' && /scheduled action|not exist|not found/i.test(message ?? '');
}
