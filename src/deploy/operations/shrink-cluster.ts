import type { AwsClients } from '../../aws/clients';
import type { Logger } from '../../core/log';
import { loadCluster, type ServerGroup } from '../../cluster/server-groups';
import { groupsBeyondKeep } from '../plan';
import { destroyServerGroup, groupToDestroy } from '../server-group-ops';

/**
 * Spinnaker's "shrink cluster": destroy the disabled server groups older than
 * the serving one beyond the `keepPrevious` newest, so a cluster keeps a
 * bounded number of rollback targets.
 */

/**
 * The groups to destroy: disabled, older than `serving`, beyond the
 * `keepPrevious` newest of them — never an enabled group, never one in
 * `spare` (groups kept warm for a fast rollback).
 */
export function groupsToShrink(
  groups: readonly ServerGroup[],
  serving: string,
  keepPrevious: number,
  spare: readonly string[] = [],
): string[] {
  const enabled = new Set(groups.filter((g) => g.enabled).map((g) => g.name));
  return groupsBeyondKeep(groups, serving, keepPrevious).filter((name) => !spare.includes(name) && !enabled.has(name));
}

/** Options of {@link shrinkCluster}. */
export interface ShrinkClusterOptions {
  cluster: string;
  /** The cluster's groups as the caller left them (loaded afresh when absent). */
  groups?: readonly ServerGroup[];
  /** The group that serves; only older groups are destroyed. */
  serving: string;
  keepPrevious: number;
  /** Groups never destroyed by this run (kept warm). */
  spare?: readonly string[];
  log: Logger;
}

/** Destroys the groups {@link groupsToShrink} names, from the cluster's state now. Returns their names. */
export async function shrinkCluster(aws: AwsClients, options: ShrinkClusterOptions): Promise<string[]> {
  const groups = options.groups ?? (await loadCluster(aws, options.cluster)).groups;
  const destroyed = groupsToShrink(groups, options.serving, options.keepPrevious, options.spare);
  for (const name of destroyed) {
    const group = groups.find((g) => g.name === name) as ServerGroup;
    await destroyServerGroup(aws, groupToDestroy(group));
    options.log.info(`${name}: destroyed (beyond keepPrevious=${options.keepPrevious})`);
  }
  return destroyed;
}
