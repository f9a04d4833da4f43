import { paginateDescribeAutoScalingGroups, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';
import { collectPages } from '../aws/paginate';
import { Tag, tagMap } from '../aws/tags';
import { parseServerGroupName } from '../core/naming';
import { sourceTraffic, trafficSourcesOf } from '../traffic/sources';
import type { TargetHealthByGroup } from '../traffic/traffic';

export type { TargetHealthByGroup };

/** Scaling processes suspended to take a server group out of service (Spinnaker's "disable"). */
export const DISABLE_PROCESSES = ['Launch', 'Terminate', 'AddToLoadBalancer'] as const;

/** A server group (ASG) of a cluster, with what status, deploy and rollback need. */
export interface ServerGroup {
  name: string;
  /** The `vNNN` number, when the name follows the scheme. */
  sequence: number | undefined;
  createdTime: Date;
  amiId: string | undefined;
  launchTemplate: { id: string; name: string; version: string } | undefined;
  capacity: { min: number; max: number; desired: number };
  instances: Array<{ id: string; lifecycleState: string; healthStatus: string; availabilityZone: string }>;
  targetGroupArns: string[];
  suspendedProcesses: string[];
  tags: Record<string, string>;
  /** Disabled = `AddToLoadBalancer` suspended, or none of its instances registered in its target groups. */
  enabled: boolean;
  /** Made by a bluegreen deploy of this cluster (see {@link isManagedBy}): only such groups are ever changed. */
  managed: boolean;
  /** The raw ASG description. */
  asg: AutoScalingGroup;
}

/** True when the ASG belongs to `cluster`: named `<cluster>-vNNN`, or tagged for it. */
export function belongsToCluster(asg: AutoScalingGroup, cluster: string): boolean {
  const name = asg.AutoScalingGroupName ?? '';
  if (parseServerGroupName(name)?.cluster === cluster) return true;
  return (asg.Tags ?? []).some((tag) => tag.Key === Tag.cluster && tag.Value === cluster);
}

/**
 * True when bluegreen may act on the ASG: named `<cluster>-vNNN` *and* made
 * by a deploy of that cluster (our cluster and deployment tags). A group
 * merely tagged for the cluster, or merely named like it, is someone else's:
 * status reports it, deploys, rollbacks and cleanups never change it.
 */
export function isManagedBy(asg: AutoScalingGroup, cluster: string): boolean {
  const tags = tagMap(asg.Tags);
  return (
    parseServerGroupName(asg.AutoScalingGroupName ?? '')?.cluster === cluster &&
    tags[Tag.cluster] === cluster &&
    Boolean(tags[Tag.deploymentId])
  );
}

/**
 * Lists the cluster's ASGs by our cluster tag (a tag filter: the region is not
 * scanned, whatever the number of ASGs in the account). `includeNamedOnly`
 * also scans the region once for groups only *named* like the cluster (made
 * by Spinnaker, never changed by bluegreen): status reports them, nothing else needs them.
 */
export async function listClusterAsgs(
  aws: AwsClients,
  cluster: string,
  options: { includeNamedOnly?: boolean } = {},
): Promise<AutoScalingGroup[]> {
  const query = options.includeNamedOnly ? {} : { Filters: [{ Name: `tag:${Tag.cluster}`, Values: [cluster] }] };
  const found = await collectPages(
    paginateDescribeAutoScalingGroups({ client: aws.autoScaling, pageSize: 100 }, query),
    (page) => page.AutoScalingGroups,
  );
  return found.filter((asg) => belongsToCluster(asg, cluster));
}

/** Describes the given ASGs by name (for polling a known set). */
export async function describeAsgsByName(aws: AwsClients, names: readonly string[]): Promise<AutoScalingGroup[]> {
  if (names.length === 0) return [];
  return collectPages(
    paginateDescribeAutoScalingGroups(
      { client: aws.autoScaling, pageSize: 100 },
      { AutoScalingGroupNames: [...names] },
    ),
    (page) => page.AutoScalingGroups,
  );
}

/** Target health of each target group: one call per group, never one per instance (the traffic interface's `health`). */
export async function describeTargetHealth(
  aws: AwsClients,
  targetGroupArns: readonly string[],
): Promise<TargetHealthByGroup> {
  return sourceTraffic(aws).health(targetGroupArns);
}

function launchTemplateOf(asg: AutoScalingGroup): ServerGroup['launchTemplate'] {
  const spec = asg.LaunchTemplate ?? asg.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  if (!spec?.LaunchTemplateId && !spec?.LaunchTemplateName) return undefined;
  return { id: spec.LaunchTemplateId ?? '', name: spec.LaunchTemplateName ?? '', version: spec.Version ?? '$Default' };
}

/** Finds the AMI a group launches: our tag first, else its launch template version. */
async function resolveAmi(
  aws: AwsClients,
  asg: AutoScalingGroup,
  tags: Record<string, string>,
): Promise<string | undefined> {
  if (tags[Tag.amiId]) return tags[Tag.amiId];
  const template = launchTemplateOf(asg);
  if (!template) return undefined;
  const response = await aws.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      ...(template.id ? { LaunchTemplateId: template.id } : { LaunchTemplateName: template.name }),
      Versions: [template.version],
    }),
  );
  return response.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.ImageId;
}

/** Whether an ASG is in service: not suspended from the load balancer and (when it has instances) registered. */
export function isEnabled(asg: AutoScalingGroup, health: TargetHealthByGroup): boolean {
  const suspended = (asg.SuspendedProcesses ?? []).some((p) => p.ProcessName === 'AddToLoadBalancer');
  if (suspended) return false;
  const targetGroups = trafficSourcesOf(asg);
  const instanceIds = new Set((asg.Instances ?? []).map((i) => i.InstanceId));
  if (targetGroups.length === 0 || instanceIds.size === 0) return true;
  return targetGroups.some((arn) => (health.get(arn) ?? []).some((t) => instanceIds.has(t.Target?.Id)));
}

/** Builds the model of one ASG, given target health of its target groups. */
export async function toServerGroup(
  aws: AwsClients,
  asg: AutoScalingGroup,
  health: TargetHealthByGroup,
  cluster?: string,
): Promise<ServerGroup> {
  return serverGroupOf(asg, health, await resolveAmi(aws, asg, tagMap(asg.Tags)), cluster);
}

/** The model of one ASG, given target health of its target groups and the AMI it launches. */
function serverGroupOf(
  asg: AutoScalingGroup,
  health: TargetHealthByGroup,
  amiId: string | undefined,
  cluster?: string,
): ServerGroup {
  const name = asg.AutoScalingGroupName ?? '';
  const tags = tagMap(asg.Tags);
  return {
    name,
    sequence: parseServerGroupName(name)?.sequence,
    createdTime: asg.CreatedTime ?? new Date(0),
    amiId,
    launchTemplate: launchTemplateOf(asg),
    capacity: { min: asg.MinSize ?? 0, max: asg.MaxSize ?? 0, desired: asg.DesiredCapacity ?? 0 },
    instances: (asg.Instances ?? []).map((i) => ({
      id: i.InstanceId ?? '',
      lifecycleState: i.LifecycleState ?? 'Unknown',
      healthStatus: i.HealthStatus ?? 'Unknown',
      availabilityZone: i.AvailabilityZone ?? '',
    })),
    targetGroupArns: trafficSourcesOf(asg),
    suspendedProcesses: (asg.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? '').filter(Boolean),
    tags,
    enabled: isEnabled(asg, health),
    managed: cluster !== undefined && isManagedBy(asg, cluster),
    asg,
  };
}

/** Sorts server groups oldest first (by creation time, then sequence). */
export function sortOldestFirst(groups: ServerGroup[]): ServerGroup[] {
  return [...groups].sort(
    (a, b) => a.createdTime.getTime() - b.createdTime.getTime() || (a.sequence ?? 0) - (b.sequence ?? 0),
  );
}

/**
 * The cluster's server groups with target health, oldest first: `groups` are
 * the ones bluegreen made and may change; `foreign` the ones only named or
 * tagged like the cluster (reported, never changed).
 */
export async function loadCluster(
  aws: AwsClients,
  cluster: string,
  options: { includeNamedOnly?: boolean } = {},
): Promise<{ groups: ServerGroup[]; foreign: ServerGroup[]; health: TargetHealthByGroup }> {
  const asgs = await listClusterAsgs(aws, cluster, options);
  // Target health and the AMIs of groups without our AMI tag are independent reads: both at once.
  const [health, amiIds] = await Promise.all([
    describeTargetHealth(
      aws,
      asgs.flatMap((asg) => trafficSourcesOf(asg)),
    ),
    Promise.all(asgs.map((asg) => resolveAmi(aws, asg, tagMap(asg.Tags)))),
  ]);
  return { ...managedAndForeign(asgs.map((asg, i) => serverGroupOf(asg, health, amiIds[i], cluster))), health };
}

/** Oldest first, split into the groups bluegreen made and the ones only named or tagged like the cluster. */
function managedAndForeign(groups: ServerGroup[]): { groups: ServerGroup[]; foreign: ServerGroup[] } {
  const all = sortOldestFirst(groups);
  return { groups: all.filter((g) => g.managed), foreign: all.filter((g) => !g.managed) };
}

/** The cluster's server groups, oldest first, from ASGs and target health already described (see {@link loadCluster}). */
export async function clusterOf(
  aws: AwsClients,
  cluster: string,
  asgs: readonly AutoScalingGroup[],
  health: TargetHealthByGroup,
): Promise<{ groups: ServerGroup[]; foreign: ServerGroup[] }> {
  return managedAndForeign(await Promise.all(asgs.map((asg) => toServerGroup(aws, asg, health, cluster))));
}

/** A group deployed as a canary that has not joined production (it carries its canary target groups' names). */
export function isCanaryGroup(group: Pick<ServerGroup, 'tags'>): boolean {
  return group.tags[Tag.canaryTargetGroups] !== undefined;
}
