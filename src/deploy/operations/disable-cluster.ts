import type { AwsClients } from '../../aws/clients';
import { Tag } from '../../aws/tags';
import type { Logger } from '../../core/log';
import type { ServerGroup, TargetHealthByGroup } from '../../cluster/server-groups';
import { UNFINISHED_PHASES } from '../../cluster/phases';
import { awsSecondsToMs } from '../../core/poll';
import { deregistrationDelaySeconds } from '../health';
import { scaleDownTime } from '../scheduled-scale-down';
import { disableServerGroup, removeGroupTags, setTagsOfGroups } from '../server-group-ops';

/**
 * Spinnaker's "disable cluster": take every server group of a cluster but
 * the one that serves out of traffic (processes suspended, instances
 * deregistered and drained), marking each with when it may be scaled down.
 */

/** Targets of a group still registered and not draining (i.e. taking new requests) in its target groups. */
export function servingTargets(group: ServerGroup, health: TargetHealthByGroup): number {
  const ids = new Set(group.instances.map((i) => i.id));
  let serving = 0;
  for (const arn of group.targetGroupArns) {
    serving += (health.get(arn) ?? []).filter(
      (t) => ids.has(t.Target?.Id ?? '') && !['draining', 'unused'].includes(t.TargetHealth?.State ?? ''),
    ).length;
  }
  return serving;
}

/**
 * The groups to disable when `serving` is to be the only one in traffic:
 * every other enabled group, and every other group whose instances still
 * take requests (a crash between suspending and deregistering leaves a group
 * "disabled" whose instances still serve).
 */
export function groupsToDisable(
  groups: readonly ServerGroup[],
  serving: string,
  health: TargetHealthByGroup,
): ServerGroup[] {
  return groups.filter((g) => g.name !== serving && (g.enabled || servingTargets(g, health) > 0));
}

/** Options of {@link disableCluster}. */
export interface DisableClusterOptions {
  /** The cluster's groups and their target health, as loaded just before. */
  groups: readonly ServerGroup[];
  health: TargetHealthByGroup;
  /** The group that keeps serving. */
  serving: string;
  /** Tags for the serving group, written in the same call as the others' scale-down times (before any is disabled). */
  servingTags?: Record<string, string>;
  /** Called once those tags are written, before any group is disabled (a crash test's failpoint). */
  onTagged?: () => void;
  /** The warm window: disabled groups may be scaled down this long after they are out of traffic. */
  scaleDownDelaySeconds: number;
  /**
   * `wait` (default): until every disabled group has drained. `return`: once
   * every group is out of the target groups; their scale-down time then also
   * waits for the drain (the deregistration delay), and nothing waits here.
   */
  drain?: 'wait' | 'return';
  drainTimeoutSeconds?: number;
  log: Logger;
}

/** What {@link disableCluster} did. */
export interface DisabledCluster {
  disabled: ServerGroup[];
  /** When disabling started and ended (epoch ms). */
  startedAt: number;
  finishedAt: number;
  /** When the disabled groups may be scaled down (ISO time, on their `bluegreen:scale-down-after` tag). */
  scaleDownAfter: string;
}

/**
 * Disables every group but `serving`, one after the other. Each is tagged
 * with when it may be scaled down before it is disabled, so a crash after
 * this point still scales it down later; once all are out of traffic the
 * warm window is restarted from that moment (draining takes its own time).
 */
export async function disableCluster(aws: AwsClients, options: DisableClusterOptions): Promise<DisabledCluster> {
  const { log } = options;
  const toDisable = groupsToDisable(options.groups, options.serving, options.health);
  const startedAt = Date.now();
  const provisional = new Date(startedAt + options.scaleDownDelaySeconds * 1000).toISOString();
  // One tag write for every group: each disabled group's scale-down time (so a crash from here still scales it down) and the serving group's.
  await setTagsOfGroups(aws, [
    ...(options.servingTags ? [{ name: options.serving, tags: options.servingTags }] : []),
    ...toDisable.map((group) => ({ name: group.name, tags: { [Tag.scaleDownAfter]: provisional } })),
  ]);
  options.onTagged?.();
  const draining: ServerGroup[] = [];
  for (const group of toDisable) {
    const { drained } = await disableServerGroup(aws, group, {
      log,
      health: options.health,
      ...(options.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: options.drainTimeoutSeconds } : {}),
      ...(options.drain === 'return' ? { waitForDrain: false } : {}),
    });
    if (!drained) draining.push(group);
    // A group an interrupted deploy had cut over, now out of service: nothing of that deploy is left to finish.
    if (UNFINISHED_PHASES.has(group.tags[Tag.phase] ?? '')) await removeGroupTags(aws, group.name, [Tag.phase]);
  }
  const finishedAt = Date.now();
  // Targets still draining: not before the drain ends (an ASG scale-in would wait for it too).
  const drainMs =
    draining.length > 0
      ? awsSecondsToMs(await deregistrationDelaySeconds(aws, [...new Set(draining.flatMap((g) => g.targetGroupArns))]))
      : 0;
  const scaleDownAfter = new Date(
    scaleDownTime({ deregisteredAt: finishedAt, drainMs, warmMs: options.scaleDownDelaySeconds * 1000 }),
  ).toISOString();
  if (options.scaleDownDelaySeconds > 0 || drainMs > 0) {
    await setTagsOfGroups(
      aws,
      toDisable.map((group) => ({ name: group.name, tags: { [Tag.scaleDownAfter]: scaleDownAfter } })),
    );
  }
  return { disabled: toDisable, startedAt, finishedAt, scaleDownAfter };
}
