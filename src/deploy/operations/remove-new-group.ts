import type { AwsClients } from '../../aws/clients';
import type { Logger } from '../../core/log';
import { describeAsgsByName, describeTargetHealth, toServerGroup, type ServerGroup } from '../../cluster/server-groups';
import type { CreatedLaunchTemplate } from '../launch-template';
import { destroyServerGroup, disableServerGroup, unpinMin } from '../server-group-ops';

/**
 * Undoes a new group that never took traffic: delete it and the launch
 * template this run made for it, restore the old group's min. The old group
 * was never disabled.
 */
export async function removeNewGroup(
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

/** Restores a group's min pinned while two groups ran (the pin tag goes too). */
export async function restorePinnedMin(aws: AwsClients, groupName: string, min: number, log: Logger): Promise<void> {
  await unpinMin(aws, groupName, min);
  log.debug(`${groupName}: min restored to ${min}`);
}
