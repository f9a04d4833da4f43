import { Tag } from '../../aws/tags';
import type { Logger } from '../../core/log';
import { trafficSourcesOf } from '../../traffic/sources';
import type { ServerGroup } from '../../cluster/server-groups';
import {
  disableServerGroup,
  enableServerGroup,
  removeGroupTags,
  scaleDownServerGroup,
  setCapacity,
} from '../server-group-ops';
import type { OperationPorts } from './ports';

/** Options of {@link restorePrevious}. */
export interface RestoreOptions {
  /** The group that failed its watch: taken out of service and deleted. */
  newServerGroup: string;
  /** The disabled groups it replaced, instances still running. */
  previous: readonly ServerGroup[];
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  /** The failed group is an older release a rollback re-enabled: disabled and scaled to 0, kept (not deleted). */
  keepNewGroup?: boolean;
  log: Logger;
}

/**
 * After a breach: the previous groups' running instances back into their
 * target groups (processes resumed), healthy; then the new group drained
 * and deleted (or, `keepNewGroup`, scaled to 0 and kept), the previous groups' pins and warm-window tags removed.
 * Returns when the previous groups were serving again, and when the new one was out.
 */
export async function restorePrevious(
  ports: OperationPorts,
  options: RestoreOptions,
): Promise<{ servingAt: number; outAt: number }> {
  const { log } = options;
  const since = new Date();
  for (const group of options.previous) {
    const [asg] = await ports.groups.describe([group.name]);
    const ids = (asg?.Instances ?? [])
      .filter((i) => i.LifecycleState === 'InService')
      .map((i) => i.InstanceId as string);
    await enableServerGroup(ports, group.name, ids, group.targetGroupArns);
    log.info(
      `${group.name}: ${ids.length} running instance(s) back in ${group.targetGroupArns.length} target group(s)`,
    );
  }
  for (const group of options.previous) {
    await ports.untilHealthy({
      groupName: group.name,
      targetGroupArns: group.targetGroupArns,
      deadline: Date.now() + options.healthTimeoutSeconds * 1000,
      since,
      log,
    });
  }
  const servingAt = Date.now();
  let outAt = servingAt;
  const [asg] = await ports.groups.describe([options.newServerGroup]);
  if (asg) {
    const group = {
      name: options.newServerGroup,
      instances: (asg.Instances ?? []).map((i) => ({ id: i.InstanceId as string })) as ServerGroup['instances'],
      targetGroupArns: trafficSourcesOf(asg),
    };
    await disableServerGroup(ports, group, {
      log,
      onDeregistered: () => {
        outAt = Date.now();
      },
      ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
    });
  }
  for (const group of options.previous) {
    const pinned = group.tags[Tag.pinnedFrom];
    if (pinned !== undefined)
      await setCapacity(ports, group.name, { min: Math.min(Number(pinned) || 0, group.capacity.desired) });
    await removeGroupTags(ports, group.name, [Tag.pinnedFrom, Tag.scaleDownAfter, Tag.phase]);
  }
  if (asg && options.keepNewGroup) {
    await scaleDownServerGroup(ports, options.newServerGroup, [
      Tag.phase,
      Tag.pinnedFrom,
      Tag.watchUntil,
      Tag.watchedBy,
    ]);
    log.info(`${options.newServerGroup}: drained, disabled and scaled to 0 (kept)`);
  } else if (asg) {
    const template = asg.LaunchTemplate?.LaunchTemplateId
      ? {
          id: asg.LaunchTemplate.LaunchTemplateId,
          name: asg.LaunchTemplate.LaunchTemplateName ?? '',
          version: asg.LaunchTemplate.Version ?? '',
        }
      : undefined;
    // This deploy made the new group and its launch template: both go.
    await ports.destroy({
      name: options.newServerGroup,
      ...(template ? { launchTemplate: template } : {}),
      ownsLaunchTemplate: true,
      targetGroupArns: trafficSourcesOf(asg),
    });
    log.info(`${options.newServerGroup}: drained and deleted`);
  }
  return { servingAt, outAt };
}
