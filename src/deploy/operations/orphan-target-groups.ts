import {
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../aws/clients';
import { awsErrorCode } from '../../aws/errors';
import { chunk } from '../../aws/paginate';
import { Tag } from '../../aws/tags';
import type { Logger } from '../../core/log';
import type { ServerGroup } from '../../cluster/server-groups';
import { deleteTargetGroups } from '../../traffic/canary-target-group';
import { removeCanaryFromListeners } from '../../traffic/listener-weights';
import { TEST_TARGET_GROUP_PREFIX, TestListenerTag } from './test-listener';

/**
 * Target groups a deploy made for its new group before creating it — a
 * canary's `<group>-cyN` (already weighted at 0 in the listeners) or a test
 * listener's `bgtest-…` — left behind when the run was killed between the two
 * creations: no server group of the cluster owns them, so the phase rows of
 * recovery never see them. Only what this project made for this cluster is
 * touched: the name pattern and the tags must both say so (`bluegreen:cluster`,
 * and `bluegreen:canary-of` naming the group the name is made from, or
 * `bluegreen:test-listener`).
 */

/** A target group made for a deploy of the cluster that no group of it owns, and which kind. */
export interface OrphanTargetGroup {
  arn: string;
  name: string;
  kind: 'canary' | 'test';
}

/** Whether a target group's name and tags say this project made it for `cluster`, and no group owns it. Pure. */
export function orphanKind(
  name: string,
  arn: string,
  tags: Readonly<Record<string, string>>,
  cluster: string,
  groups: readonly Pick<ServerGroup, 'name' | 'tags'>[],
): OrphanTargetGroup['kind'] | undefined {
  if (tags[Tag.cluster] !== cluster) return undefined;
  const canaryOf = tags[Tag.canaryOf];
  if (canaryOf && new RegExp(`^${escapeRegExp(canaryOf)}-cy\\d+$`).test(name))
    return groups.some((g) => g.name === canaryOf) ? undefined : 'canary';
  if (name.startsWith(TEST_TARGET_GROUP_PREFIX) && tags[TestListenerTag.listener])
    return groups.some((g) => g.tags[TestListenerTag.targetGroup] === arn) ? undefined : 'test';
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every target group (paginated), keeping only the names a deploy of `cluster` could have made. */
async function candidates(aws: AwsClients, cluster: string): Promise<TargetGroup[]> {
  const found: TargetGroup[] = [];
  let marker: string | undefined;
  do {
    const page = await aws.elbv2.send(new DescribeTargetGroupsCommand({ Marker: marker }));
    for (const group of page.TargetGroups ?? []) {
      const name = group.TargetGroupName ?? '';
      if (name.startsWith(`${cluster}-v`) || name.startsWith(TEST_TARGET_GROUP_PREFIX)) found.push(group);
    }
    marker = page.NextMarker;
  } while (marker);
  return found;
}

/** The orphan target groups of `cluster` (read-only). */
export async function findOrphanTargetGroups(
  aws: AwsClients,
  cluster: string,
  groups: readonly Pick<ServerGroup, 'name' | 'tags'>[],
): Promise<OrphanTargetGroup[]> {
  const orphans: OrphanTargetGroup[] = [];
  for (const batch of chunk(await candidates(aws, cluster), 20)) {
    const described = await aws.elbv2.send(
      new DescribeTagsCommand({ ResourceArns: batch.map((g) => g.TargetGroupArn as string) }),
    );
    for (const entry of described.TagDescriptions ?? []) {
      const arn = entry.ResourceArn as string;
      const name = batch.find((g) => g.TargetGroupArn === arn)?.TargetGroupName ?? '';
      const tags = Object.fromEntries((entry.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      const kind = orphanKind(name, arn, tags, cluster, groups);
      if (kind) orphans.push({ arn, name, kind });
    }
  }
  return orphans;
}

/**
 * Removes the cluster's orphan target groups: a canary's are taken out of the
 * listener actions and rules first (the production target groups alone again),
 * then each is deleted. A temporary test target group a listener still
 * forwards to is left, with a warning: its listener's previous action was on
 * the group that never came (or is gone). Returns what it did, one line each.
 */
export async function removeOrphanTargetGroups(
  aws: AwsClients,
  options: {
    cluster: string;
    groups: readonly Pick<ServerGroup, 'name' | 'tags' | 'targetGroupArns'>[];
    productionArns: readonly string[];
    log: Logger;
  },
): Promise<string[]> {
  const { log } = options;
  const orphans = await findOrphanTargetGroups(aws, options.cluster, options.groups);
  if (orphans.length === 0) return [];
  const actions: string[] = [];
  const canary = orphans.filter((o) => o.kind === 'canary').map((o) => o.arn);
  const changed = await removeCanaryFromListeners(aws, canary, options.productionArns);
  if (changed > 0) {
    actions.push(`put back ${changed} listener action(s) weighted to an orphan canary target group`);
    log.warn(`${changed} listener action(s) or rule(s) forwarded to an orphan canary target group: put back`);
  }
  for (const orphan of orphans) {
    if (orphan.kind === 'test' && (await forwardedToByAListener(aws, orphan.arn))) {
      log.warn(
        `temporary target group ${orphan.name} has no server group but a listener still forwards to it: set that listener's action back by hand, then run the deploy or cleanup again to delete it`,
      );
      continue;
    }
    try {
      await deleteTargetGroups(aws, [orphan.arn]);
    } catch (error) {
      if (awsErrorCode(error) !== 'ResourceInUse') throw error;
      log.warn(`orphan target group ${orphan.name} is still in use (${awsErrorCode(error)}): left for the next run`);
      continue;
    }
    actions.push(`deleted orphan ${orphan.kind} target group ${orphan.name}`);
    log.info(`deleted target group ${orphan.name}: made by an interrupted deploy for a group that does not exist`);
  }
  return actions;
}

/** Whether a load balancer routes to the target group (a listener action or rule forwards to it). */
async function forwardedToByAListener(aws: AwsClients, arn: string): Promise<boolean> {
  const [group] =
    (await aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups ?? [];
  return (group?.LoadBalancerArns ?? []).length > 0;
}
