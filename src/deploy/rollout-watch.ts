import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { Phase } from '../cluster/phases';
import type { ServerGroup } from '../cluster/server-groups';
import { ledgerAws, readLock, type LedgerRef } from '../ledger';
import { removeGroupTags, setGroupTags } from './server-group-ops';

/**
 * A region a rollout has done while later waves still run (issue #24): its
 * verdict is the rollout's, which is not known yet, so its new group is
 * under watch like a deploy's (`phase: watching`, `watched-by: rollout:<id>`)
 * and the previous group stays warm. The rollout holds the cluster's
 * rollout lock (`{cluster}/lock.json`) while it runs. A run that finds the
 * mark while that lock is held by the rollout leaves the region to it; once
 * the rollout is gone (finished, or killed between waves), the mark is an
 * interrupted watch: with the rollout's `onFailure: rollback`, a failed
 * rollout puts its regions back, and a killed one has no verdict, so not a
 * passing one — recovery re-enables the warm previous group (seconds).
 */

const MARK = 'rollout:';

/** The rollout whose later waves a group's watch waits for, if any. */
export function watchingRollout(group: ServerGroup): string | undefined {
  const by = group.tags[Tag.watchedBy];
  return group.tags[Tag.phase] === Phase.watching && by?.startsWith(MARK) ? by.slice(MARK.length) : undefined;
}

/** Puts a region's new group under the rollout's watch (until {@link endRolloutWatch}). */
export async function startRolloutWatch(aws: AwsClients, groupName: string, rolloutId: string): Promise<void> {
  await setGroupTags(aws, groupName, { [Tag.phase]: Phase.watching, [Tag.watchedBy]: `${MARK}${rolloutId}` });
}

/** Ends the rollout's watch of a group (back to `done`, as its deploy left it): the rollout has decided (kept, or put back). */
export async function endRolloutWatch(aws: AwsClients, groupName: string): Promise<void> {
  await setGroupTags(aws, groupName, { [Tag.phase]: Phase.done });
  await removeGroupTags(aws, groupName, [Tag.watchedBy]);
}

/** True while the rollout runs: its lock is held under its id and its lease has not ended (S3's clock). */
export async function isRolloutRunning(
  aws: AwsClients,
  ledger: LedgerRef,
  cluster: string,
  rolloutId: string,
): Promise<boolean> {
  const lock = await readLock(ledgerAws(ledger, aws), ledger, cluster);
  return lock !== null && !lock.expired && lock.deploymentId === rolloutId;
}
