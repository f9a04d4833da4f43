import type { Logger } from '../../core/log';
import { trafficSourcesOf } from '../../traffic/sources';
import type { ClusterApis } from '../../cluster/server-group-api';
import type { ServerGroup } from '../../cluster/server-groups';
import type { CreatedLaunchTemplate } from '../launch-template';
import { disableServerGroup, unpinMin, type ClientsOrApis } from '../server-group-ops';
import type { OperationPorts } from './ports';

/**
 * Undoes a new group that never took traffic: delete it and the launch
 * template this run made for it, restore the old group's min. The old group
 * was never disabled.
 */
export async function removeNewGroup(
  ports: OperationPorts,
  name: string,
  template: CreatedLaunchTemplate | undefined,
  source: ServerGroup | undefined,
  log: Logger,
  drainTimeoutSeconds: number | undefined,
): Promise<void> {
  await drainIfServing(ports, name, log, drainTimeoutSeconds);
  // This run made the template (whether or not the group got created): it goes too.
  await ports.destroy({ name, ...(template ? { launchTemplate: template } : {}), ownsLaunchTemplate: true });
  if (source) await restorePinnedMin(ports, source.name, source.capacity.min, log);
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
  ports: ClusterApis,
  name: string,
  log: Logger,
  drainTimeoutSeconds: number | undefined,
): Promise<void> {
  const [asg] = await ports.groups.describe([name]);
  if (!asg || (asg.Instances ?? []).length === 0) return;
  const health = await ports.traffic.health(trafficSourcesOf(asg));
  const group = {
    name,
    instances: (asg.Instances ?? []).map((i) => ({ id: i.InstanceId ?? '' })),
    targetGroupArns: trafficSourcesOf(asg),
  };
  const ids = new Set(group.instances.map((i) => i.id));
  const served = [...health.values()]
    .flat()
    .some((t) => ids.has(t.Target?.Id ?? '') && ['healthy', 'draining'].includes(t.TargetHealth?.State ?? ''));
  if (!served) return;
  log.info(`${name}: some instances took traffic; draining them before the group is deleted`);
  await disableServerGroup(ports, group, {
    log,
    ...(drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds } : {}),
  });
}

/** Restores a group's min pinned while two groups ran (the pin tag goes too). */
export async function restorePinnedMin(aws: ClientsOrApis, groupName: string, min: number, log: Logger): Promise<void> {
  await unpinMin(aws, groupName, min);
  log.debug(`${groupName}: min restored to ${min}`);
}
