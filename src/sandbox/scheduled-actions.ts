import {
  DeleteScheduledActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScheduledActionsCommand,
  UpdateAutoScalingGroupCommand,
  type ScheduledUpdateGroupAction,
} from '@aws-sdk/client-auto-scaling';
import { DeregisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../core/errors';
import type { Logger } from '../core/log';
import type { AwsCall } from './aws-request';
import type { MotoClients } from './moto-world';
import type { TargetHealthView } from './target-health';
import { emptyScope, type WorldScope } from './world-scope';

/**
 * Scheduled actions, run at their time. Moto stores one-time scheduled
 * actions (PutScheduledUpdateGroupAction with a StartTime) and runs none;
 * this runner performs them as EC2 Auto Scaling does: at StartTime (wall
 * clock: the caller already put the sandbox's scaled delays into it), the
 * group's min/max/desired set as the action says, the action then deleted.
 *
 * Scale-in waits for the load balancer as on AWS: an instance that leaves
 * is first deregistered from the group's target groups (if still registered)
 * and terminated only once its targets have drained
 * (`WaitingForELBConnectionDraining`), so requests in flight finish.
 * Recurring actions are not run. An action whose group has `ScheduledActions`
 * suspended, or `Terminate` when it would scale in, is dropped without
 * effect (AWS skips the first; with the second it would lower the desired
 * capacity and terminate nothing, which moto cannot do). The capacity is set
 * once the drain is over (moto terminates at once), so an action deleted
 * while its instances drain is not applied. Changes go straight to moto, like
 * every other change the sandbox makes on its own.
 */

/** The calls after which the runner reads moto's scheduled actions again. */
const RELEVANT = new Set([
  'PutScheduledUpdateGroupAction',
  'BatchPutScheduledUpdateGroupAction',
  'DeleteScheduledAction',
  'BatchDeleteScheduledAction',
  'DeleteAutoScalingGroup',
]);

/** Longest sleep between two reads of the pending actions (a safety net, real ms). */
const MAX_SLEEP_MS = 30_000;
/** How often a scale-in checks whether its instances have drained (real ms). */
const DRAIN_POLL_MS = 100;

/** A one-time action whose time has come. Pure. */
export function dueActions(
  actions: readonly ScheduledUpdateGroupAction[],
  now: number,
): Array<ScheduledUpdateGroupAction & { AutoScalingGroupName: string; ScheduledActionName: string }> {
  return actions.filter(
    (a): a is ScheduledUpdateGroupAction & { AutoScalingGroupName: string; ScheduledActionName: string } =>
      !a.Recurrence &&
      a.AutoScalingGroupName !== undefined &&
      a.ScheduledActionName !== undefined &&
      a.StartTime !== undefined &&
      a.StartTime.getTime() <= now,
  );
}

/** What the runner needs of the traffic layer. */
export interface ScheduledActionHost {
  moto: MotoClients;
  /** A target's health as the sandbox's checks see it (undefined: not tracked). */
  healthOf(targetGroupArn: string, instanceId: string): TargetHealthView | undefined;
  /** Deregistration delay of a target group, real ms on the sandbox clock (for the drain bound). */
  drainMs(targetGroupArn: string): number;
  /** After a change the runner made in moto: forget cached answers and read `scope` again. */
  changed(services: readonly string[], scope: WorldScope): Promise<void>;
  log: Logger;
}

/** Runs moto's one-time scheduled actions at their time (see the file comment). */
export class ScheduledActionRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Actions being performed now (`group/name`), so a re-read does not start them twice. */
  private readonly inProgress = new Set<string>();

  constructor(private readonly host: ScheduledActionHost) {}

  /** Called after each mutating call through the gateway: re-reads the actions when the call may have changed them. */
  notice(call: Pick<AwsCall, 'service' | 'action'>): void {
    if (call.service === 'autoscaling' && RELEVANT.has(call.action)) this.wake();
  }

  /** Reads the pending actions now and runs those due. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.tick()
      .catch((error: unknown) => this.host.log.warn(`scheduled actions: ${describeError(error)}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async tick(): Promise<void> {
    const actions: ScheduledUpdateGroupAction[] = [];
    let token: string | undefined;
    do {
      const page = await this.host.moto.autoScaling.send(new DescribeScheduledActionsCommand({ NextToken: token }));
      actions.push(...(page.ScheduledUpdateGroupActions ?? []));
      token = page.NextToken;
    } while (token);
    const now = Date.now();
    this.host.log.debug(
      `scheduled actions: ${actions.map((a) => `${a.AutoScalingGroupName}/${a.ScheduledActionName}@${a.StartTime?.toISOString() ?? a.Recurrence}`).join(', ') || 'none'} pending`,
    );
    for (const action of dueActions(actions, now)) {
      const key = `${action.AutoScalingGroupName}/${action.ScheduledActionName}`;
      if (this.inProgress.has(key)) continue;
      this.inProgress.add(key);
      void this.perform(action)
        .catch((error: unknown) => this.host.log.warn(`scheduled action ${key}: ${describeError(error)}`))
        .finally(() => this.inProgress.delete(key));
    }
    const next = Math.min(
      ...actions
        .filter((a) => !a.Recurrence && a.StartTime && a.StartTime.getTime() > now)
        .map((a) => (a.StartTime as Date).getTime() - now),
    );
    if (this.stopped || !Number.isFinite(next)) return;
    this.timer = setTimeout(() => this.wake(), Math.min(MAX_SLEEP_MS, Math.max(0, next)));
  }

  private async perform(
    action: ScheduledUpdateGroupAction & { AutoScalingGroupName: string; ScheduledActionName: string },
  ): Promise<void> {
    const { moto, log } = this.host;
    const name = action.AutoScalingGroupName;
    const described = await moto.autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
    );
    const asg = described.AutoScalingGroups?.[0];
    const remove = async (): Promise<void> => {
      await moto.autoScaling.send(
        new DeleteScheduledActionCommand({
          AutoScalingGroupName: name,
          ScheduledActionName: action.ScheduledActionName,
        }),
      );
    };
    if (!asg) return;
    const suspended = new Set((asg.SuspendedProcesses ?? []).map((p) => p.ProcessName));
    const instances = (asg.Instances ?? []).map((i) => i.InstanceId as string);
    const desired = action.DesiredCapacity ?? asg.DesiredCapacity ?? 0;
    const scalesIn = desired < instances.length;
    if (suspended.has('ScheduledActions') || (scalesIn && suspended.has('Terminate'))) {
      log.info(`scheduled action ${name}/${action.ScheduledActionName}: skipped (processes suspended)`);
      await remove();
      return;
    }
    if (scalesIn) await this.drainBeforeScaleIn(name, asg.TargetGroupARNs ?? [], instances);
    // Deleted while its instances drained (a group brought back): not applied. On AWS it would have set the
    // capacity at StartTime already; here the group simply keeps its instances, as if it had not fired.
    if (this.stopped || !(await this.stillPending(name, action.ScheduledActionName))) return;
    await moto.autoScaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        ...(action.MinSize !== undefined ? { MinSize: action.MinSize } : {}),
        ...(action.MaxSize !== undefined ? { MaxSize: action.MaxSize } : {}),
        ...(action.DesiredCapacity !== undefined ? { DesiredCapacity: action.DesiredCapacity } : {}),
      }),
    );
    await remove();
    log.info(
      `scheduled action ${name}/${action.ScheduledActionName}: min ${action.MinSize ?? '-'} max ${action.MaxSize ?? '-'} desired ${action.DesiredCapacity ?? '-'}`,
    );
    await this.host.changed(['autoscaling'], { ...emptyScope(), asgNames: new Set([name]) });
  }

  private async stillPending(group: string, name: string): Promise<boolean> {
    const out = await this.host.moto.autoScaling.send(
      new DescribeScheduledActionsCommand({ AutoScalingGroupName: group, ScheduledActionNames: [name] }),
    );
    return (out.ScheduledUpdateGroupActions ?? []).length > 0;
  }

  /**
   * As an ASG attached to target groups does on scale-in: deregister the
   * leaving instances still registered, wait until none is draining
   * (bounded by the longest deregistration delay + 5 s).
   */
  private async drainBeforeScaleIn(
    name: string,
    targetGroupArns: readonly string[],
    instanceIds: readonly string[],
  ): Promise<void> {
    const { moto } = this.host;
    // Moto picks which instances go; the runner drains them all (the actions here scale to 0).
    for (const arn of targetGroupArns) {
      const registered = instanceIds.filter((id) => {
        const state = this.host.healthOf(arn, id)?.state;
        return state !== undefined && state !== 'draining' && state !== 'unused';
      });
      if (registered.length === 0) continue;
      await moto.elbv2.send(
        new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: registered.map((Id) => ({ Id })) }),
      );
      await this.host.changed(['elasticloadbalancing'], { ...emptyScope(), targetGroupArns: new Set([arn]) });
      this.host.log.info(`${name}: scale-in deregistered ${registered.length} target(s) of ${arn}`);
    }
    const bound = Date.now() + Math.max(0, ...targetGroupArns.map((arn) => this.host.drainMs(arn))) + 5_000;
    while (!this.stopped && Date.now() < bound) {
      const draining = targetGroupArns.some((arn) =>
        instanceIds.some((id) => this.host.healthOf(arn, id)?.state === 'draining'),
      );
      if (!draining) return;
      await sleep(DRAIN_POLL_MS);
    }
  }

  /** Stops the timer; an action in progress ends at its next step. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}
