import {
  AttachLoadBalancerTargetGroupsCommand,
  DetachLoadBalancerTargetGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../../aws/clients';
import { Tag } from '../../aws/tags';
import type { Logger } from '../../core/log';
import { awsSecondsToMs } from '../../core/poll';
import { waitForDrainedIn } from '../../traffic/drain';
import { targetGroupTraffic } from '../../traffic/target-groups';
import { describeAsgsByName } from '../../cluster/server-groups';
import { deleteTargetGroups, findCanaryTargetGroups } from '../../traffic/canary-target-group';
import { removeCanaryFromListeners, restoreSites, type ForwardSite } from '../../traffic/listener-weights';
import type { CreatedLaunchTemplate } from '../launch-template';
import { operationPortsOf } from './ports';
import { removeNewGroup } from './remove-new-group';

/**
 * The first half of ending a canary that did not pass (a breach, or a crash:
 * the verdict is unknown): the listeners forward to the production target
 * groups alone (seconds: one ModifyListener/ModifyRule per site, no launch).
 * `sites` as read before the canary are written back exactly; without them
 * (after a crash) the canary target groups are taken out of the live actions.
 * Returns the canary target groups' ARNs, for {@link deleteTargetGroups} once the group is gone.
 */
export async function canaryOut(
  aws: AwsClients,
  canaryNames: readonly string[],
  log: Logger,
  known: { sites: readonly ForwardSite[] } | { productionArns: readonly string[] },
): Promise<string[]> {
  const canaryArns = await findCanaryTargetGroups(aws, canaryNames);
  if ('sites' in known) await restoreSites(aws, known.sites);
  else await removeCanaryFromListeners(aws, canaryArns, known.productionArns);
  log.info(`listeners forward to the production target group(s) alone again (canary ${canaryNames.join(', ')} out)`);
  return canaryArns;
}

/**
 * Ends a failed canary: the listeners back ({@link canaryOut}), then the group
 * drained and removed, then its target groups deleted. The previous group
 * never left the production target groups, so it serves throughout.
 */
export async function abortCanary(
  aws: AwsClients,
  options: {
    newServerGroup: string;
    canaryNames: readonly string[];
    /** The sites as read before the canary (written back exactly); empty when already put back. */
    sites: readonly ForwardSite[];
    source?: Parameters<typeof removeNewGroup>[3];
    log: Logger;
    drainTimeoutSeconds?: number;
  },
): Promise<void> {
  const { log } = options;
  const canaryArns = await canaryOut(aws, options.canaryNames, log, { sites: options.sites });
  const [asg] = await describeAsgsByName(aws, [options.newServerGroup]);
  const template = asg?.LaunchTemplate;
  await removeNewGroup(
    operationPortsOf(aws),
    options.newServerGroup,
    template?.LaunchTemplateId
      ? ({
          id: template.LaunchTemplateId,
          name: template.LaunchTemplateName ?? '',
          version: template.Version ?? '',
        } satisfies CreatedLaunchTemplate)
      : undefined,
    options.source,
    log,
    options.drainTimeoutSeconds,
  );
  await deleteTargetGroups(aws, canaryArns);
  log.info(`canary target group(s) ${options.canaryNames.join(', ')} deleted`);
}

/** The canary group into the production target groups (Auto Scaling registers its instances, and later ones). */
export async function joinProduction(aws: AwsClients, group: string, productionArns: readonly string[]): Promise<void> {
  await aws.autoScaling.send(
    new AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: group, TargetGroupARNs: [...productionArns] }),
  );
}

/**
 * After a passed canary: the group leaves its canary target groups (no listener
 * forwards to them any more), they are deleted, and the group's canary tag goes.
 */
export async function retireCanaryTargetGroups(
  aws: AwsClients,
  group: string,
  canaryArns: readonly string[],
  log: Logger,
): Promise<void> {
  const traffic = targetGroupTraffic(aws);
  const health = await traffic.health(canaryArns);
  const instanceIds = [...new Set([...health.values()].flat().map((t) => t.Target?.Id as string))];
  await aws.autoScaling.send(
    new DetachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: group, TargetGroupARNs: [...canaryArns] }),
  );
  // Requests already sent to the canary target groups finish before they go (bounded by their deregistration delay).
  await waitForDrainedIn(traffic, {
    instanceIds,
    targetGroupArns: canaryArns,
    deadline: Date.now() + awsSecondsToMs(await traffic.drainSeconds(canaryArns)) + 5_000,
    log,
    label: `${group} leaving its canary target group(s)`,
  });
  await deleteTargetGroups(aws, canaryArns);
  log.info(`${group}: canary target group(s) detached and deleted`);
}

/** The canary target group names a group's tag records (empty: not a canary). */
export function canaryNamesOf(tags: Readonly<Record<string, string>>): string[] {
  return (tags[Tag.canaryTargetGroups] ?? '').split(',').filter(Boolean);
}
