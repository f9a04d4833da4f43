import {
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  DeleteTagsCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
  type LifecycleHookSpecification,
} from '@aws-sdk/client-auto-scaling';
import { DeregisterTargetsCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { isNotFound } from '../aws/errors';
import { OperationFailedError } from '../core/errors';
import { chunk } from '../aws/paginate';
import { Tag } from '../aws/tags';
import type { Logger } from '../core/log';
import {
  DISABLE_PROCESSES,
  describeAsgsByName,
  describeTargetHealth,
  type ServerGroup,
  type TargetHealthByGroup,
} from '../cluster/server-groups';
import { deleteGroupAlarms, type AsgSettings } from './copy-settings';
import { deleteLaunchTemplate, type CreatedLaunchTemplate } from './launch-template';
import { deregistrationDelaySeconds, waitForDrained } from './health';
import type { Capacity } from './request';

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

/** Creates the ASG of a new server group, min pinned to desired. */
export async function createServerGroup(aws: AwsClients, spec: NewServerGroupSpec): Promise<void> {
  const { capacity } = spec;
  const copied = spec.settings?.group ?? {};
  await aws.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: spec.name,
      LaunchTemplate: { LaunchTemplateId: spec.launchTemplate.id, Version: spec.launchTemplate.version },
      MinSize: capacity.desired,
      MaxSize: Math.max(capacity.max, capacity.desired),
      DesiredCapacity: capacity.desired,
      ...(spec.subnets.length > 0
        ? { VPCZoneIdentifier: spec.subnets.join(',') }
        : { AvailabilityZones: spec.availabilityZones }),
      TargetGroupARNs: spec.targetGroupArns,
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
  const userSuspended = spec.settings?.suspendedProcesses ?? [];
  if (userSuspended.length > 0) {
    await aws.autoScaling.send(
      new SuspendProcessesCommand({ AutoScalingGroupName: spec.name, ScalingProcesses: userSuspended }),
    );
  }
}

/** Sets (creates or updates) tags on a server group. */
export async function setGroupTags(aws: AwsClients, groupName: string, tags: Record<string, string>): Promise<void> {
  await setTagsOfGroups(aws, [{ name: groupName, tags }]);
}

/**
 * Most tags one CreateOrUpdateTags carries here. The API takes tags of
 * several groups in one call; its own limit is not documented as a number, so
 * the batch stays small.
 */
const TAGS_PER_CALL = 50;

/** Sets tags on several server groups in as few CreateOrUpdateTags calls as possible (one for up to {@link TAGS_PER_CALL} tags). */
export async function setTagsOfGroups(
  aws: AwsClients,
  groups: ReadonlyArray<{ name: string; tags: Record<string, string> }>,
): Promise<void> {
  const tags = groups.flatMap((group) =>
    Object.entries(group.tags).map(([Key, Value]) => ({
      Key,
      Value,
      PropagateAtLaunch: false,
      ResourceId: group.name,
      ResourceType: 'auto-scaling-group',
    })),
  );
  for (const batch of chunk(tags, TAGS_PER_CALL))
    await aws.autoScaling.send(new CreateOrUpdateTagsCommand({ Tags: batch }));
}

/** Removes tags from a server group. */
export async function removeGroupTags(aws: AwsClients, groupName: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await aws.autoScaling.send(
    new DeleteTagsCommand({
      Tags: keys.map((Key) => ({ Key, ResourceId: groupName, ResourceType: 'auto-scaling-group' })),
    }),
  );
}

/** Sets min/max/desired of a group. */
export async function setCapacity(aws: AwsClients, groupName: string, capacity: Partial<Capacity>): Promise<void> {
  await aws.autoScaling.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: groupName,
      ...(capacity.min !== undefined ? { MinSize: capacity.min } : {}),
      ...(capacity.max !== undefined ? { MaxSize: capacity.max } : {}),
      ...(capacity.desired !== undefined ? { DesiredCapacity: capacity.desired } : {}),
    }),
  );
}

/**
 * Takes a group out of service: suspends Launch, Terminate and
 * AddToLoadBalancer, deregisters its instances from every target group, and
 * waits until they have drained (in-flight requests finished). With
 * `waitForDrain: false` it looks once and returns: the targets drain on their
 * own (`drained` says whether they already had).
 */
export async function disableServerGroup(
  aws: AwsClients,
  group: Pick<ServerGroup, 'name' | 'instances' | 'targetGroupArns'>,
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
  const targetGroupArns = options.targetGroupArns ?? group.targetGroupArns;
  await aws.autoScaling.send(
    new SuspendProcessesCommand({ AutoScalingGroupName: group.name, ScalingProcesses: [...DISABLE_PROCESSES] }),
  );
  const instanceIds = group.instances.map((i) => i.id);
  if (instanceIds.length === 0 || targetGroupArns.length === 0) {
    options.log.info(`${group.name}: disabled (no instances in target groups)`);
    return { drained: true };
  }
  await deregisterTargets(aws, targetGroupArns, instanceIds, options.health);
  options.onDeregistered?.();
  options.log.info(`${group.name}: out of the load balancer, ${instanceIds.length} instance(s) draining`);
  const look = options.waitForDrain === false;
  const drainSeconds = look
    ? 0
    : (options.drainTimeoutSeconds ?? (await deregistrationDelaySeconds(aws, targetGroupArns)) + 60);
  try {
    // A deadline of now is one look: targets with nothing in flight may be gone already.
    await waitForDrained(aws, {
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
  const [asg] = await describeAsgsByName(aws, [groupName]);
  if (!asg) return;
  const arns = targetGroupArns ?? asg.TargetGroupARNs ?? [];
  const ids = (asg.Instances ?? []).map((i) => i.InstanceId).filter((id): id is string => id !== undefined);
  if (ids.length === 0 || arns.length === 0) return;
  await deregisterTargets(aws, arns, ids);
}

/**
 * Deregisters the given instances from each target group where they are
 * registered and not already draining, in batches of 100 (the API's limit).
 * One DescribeTargetHealth per target group (none when `known` covers them), never one per instance.
 */
async function deregisterTargets(
  aws: AwsClients,
  targetGroupArns: readonly string[],
  instanceIds: readonly string[],
  known?: TargetHealthByGroup,
): Promise<void> {
  const health =
    known && targetGroupArns.every((arn) => known.has(arn)) ? known : await describeTargetHealth(aws, targetGroupArns);
  const ids = new Set(instanceIds);
  for (const arn of targetGroupArns) {
    const registered = (health.get(arn) ?? []).filter(
      (t) => ids.has(t.Target?.Id ?? '') && t.TargetHealth?.State !== 'draining',
    );
    for (const batch of chunk(registered, 100)) {
      await aws.elbv2.send(
        new DeregisterTargetsCommand({
          TargetGroupArn: arn,
          Targets: batch.map((t) => ({ Id: t.Target?.Id as string, Port: t.Target?.Port })),
        }),
      );
    }
  }
}

/** Puts instances of a group into its target groups and resumes its processes. */
export async function enableServerGroup(
  aws: AwsClients,
  groupName: string,
  instanceIds: readonly string[],
  targetGroupArns: readonly string[],
): Promise<void> {
  for (const arn of targetGroupArns) {
    for (const batch of chunk(instanceIds, 100)) {
      await aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: batch.map((Id) => ({ Id })) }));
    }
  }
  await aws.autoScaling.send(
    new ResumeProcessesCommand({ AutoScalingGroupName: groupName, ScalingProcesses: [...DISABLE_PROCESSES] }),
  );
}

/** Resumes only Launch and Terminate (a disabled group scaling up again, still out of the load balancer). */
export async function resumeLaunchAndTerminate(aws: AwsClients, groupName: string): Promise<void> {
  await aws.autoScaling.send(
    new ResumeProcessesCommand({ AutoScalingGroupName: groupName, ScalingProcesses: ['Launch', 'Terminate'] }),
  );
}

/**
 * Scales a disabled group to 0. Terminate is resumed so instances really go;
 * Launch and AddToLoadBalancer stay suspended, so it stays disabled.
 */
export async function scaleDownServerGroup(
  aws: AwsClients,
  groupName: string,
  alsoRemoveTags: readonly string[] = [],
): Promise<void> {
  await aws.autoScaling.send(
    new ResumeProcessesCommand({ AutoScalingGroupName: groupName, ScalingProcesses: ['Terminate'] }),
  );
  await setCapacity(aws, groupName, { min: 0, desired: 0 });
  await removeGroupTags(aws, groupName, [Tag.scaleDownAfter, ...alsoRemoveTags]);
}

/** Restores a group's min after a pin (min held at desired while two groups ran) and drops the pin tag. */
export async function unpinMin(aws: AwsClients, groupName: string, min: number): Promise<void> {
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
