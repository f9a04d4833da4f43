import {
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  SuspendProcessesCommand,
  type LifecycleHookSpecification,
} from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients';
import { isNotFound } from '../aws/errors';
import { OperationFailedError } from '../core/errors';
import { Tag } from '../aws/tags';
import type { Logger } from '../core/log';
import { clusterApisOf, type ClusterApis } from '../cluster/server-group-api';
import { DISABLE_PROCESSES, type ServerGroup, type TargetHealthByGroup } from '../cluster/server-groups';
import { waitForDrainedIn } from '../traffic/drain';
import { attachmentFor, trafficSourcesOf } from '../traffic/sources';
import { deleteGroupAlarms, type AsgSettings } from './copy-settings';
import { mixedInstancesPolicyFor, putWarmPool } from './fleet-settings';
import { deleteLaunchTemplate, type CreatedLaunchTemplate } from './launch-template';
import type { Capacity } from './request';

/**
 * The operations below take the region's clients, or the two narrow
 * interfaces directly (an in-memory fake in fast tests): both go through the
 * same code.
 */
export type ClientsOrApis = AwsClients | ClusterApis;

/** The narrow interfaces of `aws` (the SDK-backed ones for clients). */
export function apisOf(aws: ClientsOrApis): ClusterApis {
  return 'groups' in aws && 'traffic' in aws ? aws : clusterApisOf(aws);
}

/** Everything CreateAutoScalingGroup needs for a new server group. */
export interface NewServerGroupSpec {
  name: string;
  launchTemplate: CreatedLaunchTemplate;
  /** Capacity the group should end with; min is pinned to desired while both groups run. */
  capacity: Capacity;
  subnets: string[];
  availabilityZones?: string[];
  targetGroupArns: string[];
  /** Tags of the source to keep (with their propagate flag), plus ours. */
  tags: Array<{ key: string; value: string; propagateAtLaunch: boolean }>;
  lifecycleHooks: LifecycleHookSpecification[];
  /** Settings copied from the source group (health check, termination, cooldown, suspended processes, …); none on a first deploy. */
  settings?: AsgSettings;
}

/**
 * Creates the ASG of a new server group, min pinned to desired: with the
 * source's mixed instances policy re-pointed at the new launch template when
 * it has one, then the source's warm pool and user-suspended processes.
 */
export async function createServerGroup(aws: AwsClients, spec: NewServerGroupSpec): Promise<void> {
  const { capacity } = spec;
  const copied = spec.settings?.group ?? {};
  const mixed = spec.settings?.mixedInstancesPolicy;
  await aws.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: spec.name,
      ...(mixed
        ? { MixedInstancesPolicy: mixedInstancesPolicyFor(mixed, spec.launchTemplate) }
        : { LaunchTemplate: { LaunchTemplateId: spec.launchTemplate.id, Version: spec.launchTemplate.version } }),
      MinSize: capacity.desired,
      MaxSize: Math.max(capacity.max, capacity.desired),
      DesiredCapacity: capacity.desired,
      ...(spec.subnets.length > 0
        ? { VPCZoneIdentifier: spec.subnets.join(',') }
        : { AvailabilityZones: spec.availabilityZones }),
      ...attachmentFor(spec.targetGroupArns),
      HealthCheckType: spec.targetGroupArns.length > 0 ? 'ELB' : 'EC2',
      HealthCheckGracePeriod: 300,
      ...copied,
      ...(spec.lifecycleHooks.length > 0 ? { LifecycleHookSpecificationList: spec.lifecycleHooks } : {}),
      Tags: spec.tags.map((tag) => ({
        Key: tag.key,
        Value: tag.value,
        PropagateAtLaunch: tag.propagateAtLaunch,
        ResourceId: spec.name,
        ResourceType: 'auto-scaling-group',
      })),
    }),
  );
  if (spec.settings?.warmPool) await putWarmPool(aws, spec.name, spec.settings.warmPool);
  const userSuspended = spec.settings?.suspendedProcesses ?? [];
  if (userSuspended.length > 0) {
    await aws.autoScaling.send(
      new SuspendProcessesCommand({ AutoScalingGroupName: spec.name, ScalingProcesses: userSuspended }),
    );
  }
}

/** Sets (creates or updates) tags on a server group. */
export async function setGroupTags(aws: ClientsOrApis, groupName: string, tags: Record<string, string>): Promise<void> {
  await setTagsOfGroups(aws, [{ name: groupName, tags }]);
}

/** Sets tags on several server groups in as few CreateOrUpdateTags calls as possible. */
export async function setTagsOfGroups(
  aws: ClientsOrApis,
  groups: ReadonlyArray<{ name: string; tags: Record<string, string> }>,
): Promise<void> {
  await apisOf(aws).groups.setTags(groups);
}

/** Removes tags from a server group. */
export async function removeGroupTags(aws: ClientsOrApis, groupName: string, keys: readonly string[]): Promise<void> {
  await apisOf(aws).groups.removeTags(groupName, keys);
}

/** Sets min/max/desired of a group. */
export async function setCapacity(aws: ClientsOrApis, groupName: string, capacity: Partial<Capacity>): Promise<void> {
  await apisOf(aws).groups.setCapacity(groupName, capacity);
}

/**
 * Takes a group out of service: suspends Launch, Terminate and
 * AddToLoadBalancer, deregisters its instances from every target group, and
 * waits until they have drained (in-flight requests finished). With
 * `waitForDrain: false` it looks once and returns: the targets drain on their
 * own (`drained` says whether they already had).
 */
export async function disableServerGroup(
  aws: ClientsOrApis,
  group: { name: string; instances: ReadonlyArray<{ id: string }>; targetGroupArns: readonly string[] },
  options: {
    log: Logger;
    drainTimeoutSeconds?: number;
    targetGroupArns?: readonly string[];
    /** Target health read just before (under the lock), instead of reading it again. */
    health?: TargetHealthByGroup;
    /** Called once the instances are out of the target groups (the watch times traffic-back from it). */
    onDeregistered?: () => void;
    /** False: return once deregistered (one look at the drain), default true: wait until drained. */
    waitForDrain?: boolean;
  },
): Promise<{ drained: boolean }> {
  const { groups, traffic } = apisOf(aws);
  const targetGroupArns = options.targetGroupArns ?? group.targetGroupArns;
  await groups.suspend(group.name, DISABLE_PROCESSES);
  const instanceIds = group.instances.map((i) => i.id);
  if (instanceIds.length === 0 || targetGroupArns.length === 0) {
    options.log.info(`${group.name}: disabled (no instances in target groups)`);
    return { drained: true };
  }
  await traffic.deregister(targetGroupArns, instanceIds, options.health);
  options.onDeregistered?.();
  options.log.info(`${group.name}: out of the load balancer, ${instanceIds.length} instance(s) draining`);
  const look = options.waitForDrain === false;
  const drainSeconds = look ? 0 : (options.drainTimeoutSeconds ?? (await traffic.drainSeconds(targetGroupArns)) + 60);
  try {
    // A deadline of now is one look: targets with nothing in flight may be gone already.
    await waitForDrainedIn(traffic, {
      instanceIds,
      targetGroupArns,
      deadline: Date.now() + drainSeconds * 1000,
      log: options.log,
      label: group.name,
    });
  } catch (error) {
    if (look && error instanceof OperationFailedError && error.code === 'DrainTimeout') return { drained: false };
    throw error;
  }
  return { drained: true };
}

/**
 * Deregisters a group's instances still registered in its target groups, so
 * deleting it never leaves targets behind (an ASG delete does not wait for it).
 */
async function deregisterGroupInstances(
  aws: AwsClients,
  groupName: string,
  targetGroupArns: readonly string[] | undefined,
): Promise<void> {
  const { groups, traffic } = apisOf(aws);
  const [asg] = await groups.describe([groupName]);
  if (!asg) return;
  const arns = targetGroupArns ?? trafficSourcesOf(asg);
  const ids = (asg.Instances ?? []).map((i) => i.InstanceId).filter((id): id is string => id !== undefined);
  if (ids.length === 0 || arns.length === 0) return;
  await traffic.deregister(arns, ids);
}

/** Puts instances of a group into its target groups and resumes its processes. */
export async function enableServerGroup(
  aws: ClientsOrApis,
  groupName: string,
  instanceIds: readonly string[],
  targetGroupArns: readonly string[],
): Promise<void> {
  const { groups, traffic } = apisOf(aws);
  await traffic.register(targetGroupArns, instanceIds);
  await groups.resume(groupName, DISABLE_PROCESSES);
}

/** Resumes only Launch and Terminate (a disabled group scaling up again, still out of the load balancer). */
export async function resumeLaunchAndTerminate(aws: ClientsOrApis, groupName: string): Promise<void> {
  await apisOf(aws).groups.resume(groupName, ['Launch', 'Terminate']);
}

/**
 * Scales a disabled group to 0. Terminate is resumed so instances really go;
 * Launch and AddToLoadBalancer stay suspended, so it stays disabled. Its warm
 * pool (when `warmPool` says it has one) goes too, with its prepared instances.
 */
export async function scaleDownServerGroup(
  aws: ClientsOrApis,
  groupName: string,
  alsoRemoveTags: readonly string[] = [],
  options: { warmPool?: boolean } = {},
): Promise<void> {
  await apisOf(aws).groups.resume(groupName, ['Terminate']);
  await setCapacity(aws, groupName, { min: 0, desired: 0 });
  if (options.warmPool) await apisOf(aws).groups.deleteWarmPool(groupName);
  await removeGroupTags(aws, groupName, [Tag.scaleDownAfter, ...alsoRemoveTags]);
}

/** Restores a group's min after a pin (min held at desired while two groups ran) and drops the pin tag. */
export async function unpinMin(aws: ClientsOrApis, groupName: string, min: number): Promise<void> {
  await setCapacity(aws, groupName, { min });
  await removeGroupTags(aws, groupName, [Tag.pinnedFrom]);
}

/** What {@link destroyServerGroup} deletes. */
export interface GroupToDestroy {
  name: string;
  /** Where its instances may still be registered (default: the target groups the ASG names). */
  targetGroupArns?: readonly string[];
  launchTemplate?: { id?: string; name?: string };
  /** True when bluegreen made the launch template, so it goes with the group; a user's template is never deleted. */
  ownsLaunchTemplate: boolean;
}

/** Deletes a server group, its launch template (when bluegreen made it) and the alarms copied for it. */
export async function destroyServerGroup(aws: AwsClients, group: GroupToDestroy): Promise<void> {
  await deregisterGroupInstances(aws, group.name, group.targetGroupArns);
  try {
    await aws.autoScaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: group.name, ForceDelete: true }),
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (group.launchTemplate && group.ownsLaunchTemplate) await deleteLaunchTemplate(aws, group.launchTemplate);
  await deleteGroupAlarms(aws, group.name);
}

/** A cluster's server group as {@link destroyServerGroup} takes it: its launch template is ours when the group carries our cluster tag. */
export function groupToDestroy(
  group: Pick<ServerGroup, 'name' | 'launchTemplate' | 'tags' | 'targetGroupArns'>,
): GroupToDestroy {
  return {
    name: group.name,
    targetGroupArns: group.targetGroupArns,
    ...(group.launchTemplate ? { launchTemplate: group.launchTemplate } : {}),
    ownsLaunchTemplate: group.tags[Tag.cluster] !== undefined,
  };
}
