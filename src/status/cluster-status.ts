import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { formatTable } from '../core/table';
import { nextAction, Phase, UNFINISHED_PHASES, type NextAction } from '../cluster/phases';
import { targetGroupNameFromArn } from '../traffic/target-group-names';
import { splitSources } from '../traffic/sources';
import { capacityShares, type CapacityShares } from '../deploy/fleet-settings';
import { loadCluster, sortOldestFirst, type ServerGroup, type TargetHealthByGroup } from '../cluster/server-groups';

/** One server group as `status` reports it. */
export interface ServerGroupStatus {
  name: string;
  amiId: string | null;
  version: string | null;
  deploymentId: string | null;
  createdTime: string;
  enabled: boolean;
  state: 'enabled' | 'disabled';
  /** Made by a bluegreen deploy of this cluster; false: only named or tagged like it, never changed by bluegreen. */
  managed: boolean;
  capacity: { min: number; max: number; desired: number };
  instances: { inService: number; total: number };
  targetGroups: Array<{ arn: string; name: string; healthy: number; registered: number }>;
  /** Its classic load balancers (`InService` counted as healthy). */
  loadBalancers: Array<{ name: string; healthy: number; registered: number }>;
  launchTemplate: { id: string; name: string; version: string } | null;
  suspendedProcesses: string[];
  /** Phase of a deployment still in progress (or interrupted) on this group, else null. */
  phase: string | null;
  /** When a disabled group kept warm will be scaled to 0 (scaleDownDelay), else null. */
  scaleDownAfter: string | null;
  /** Under watch after cutover (alarms, gates) until this time, else null; the previous group stays warm meanwhile. */
  watchUntil: string | null;
  /** Which run watches it (with watchUntil): a rollback's interrupted watch is finished, a deploy's rolled back. */
  watchedBy: 'deploy' | 'rollback' | null;
  /** Its mixed instances policy (spot and on-demand), else null. */
  mixedInstances: {
    /** Instance types of the overrides (instance-requirement overrides are not listed). */
    instanceTypes: string[];
    onDemandBaseCapacity: number;
    onDemandPercentageAboveBaseCapacity: number;
    spotAllocationStrategy: string | null;
    /** The split of desired capacity the distribution asks for. */
    shares: CapacityShares;
  } | null;
  /** Its warm pool, else null. */
  warmPool: {
    minSize: number;
    maxGroupPreparedCapacity: number | null;
    poolState: string;
    reuseOnScaleIn: boolean;
    /** Instances in the pool now (as DescribeAutoScalingGroups reports). */
    size: number;
  } | null;
}

function mixedInstancesOf(group: ServerGroup): ServerGroupStatus['mixedInstances'] {
  const policy = group.asg.MixedInstancesPolicy;
  if (!policy) return null;
  const distribution = policy.InstancesDistribution ?? {};
  return {
    instanceTypes: (policy.LaunchTemplate?.Overrides ?? []).flatMap((o) => (o.InstanceType ? [o.InstanceType] : [])),
    onDemandBaseCapacity: distribution.OnDemandBaseCapacity ?? 0,
    onDemandPercentageAboveBaseCapacity: distribution.OnDemandPercentageAboveBaseCapacity ?? 100,
    spotAllocationStrategy: distribution.SpotAllocationStrategy ?? null,
    shares: capacityShares(group.capacity.desired, distribution),
  };
}

function warmPoolStatusOf(group: ServerGroup): ServerGroupStatus['warmPool'] {
  const pool = group.asg.WarmPoolConfiguration;
  if (!pool) return null;
  return {
    minSize: pool.MinSize ?? 0,
    maxGroupPreparedCapacity: pool.MaxGroupPreparedCapacity ?? null,
    poolState: pool.PoolState ?? 'Stopped',
    reuseOnScaleIn: pool.InstanceReusePolicy?.ReuseOnScaleIn ?? false,
    size: group.asg.WarmPoolSize ?? 0,
  };
}

/** The fleet of a group in one line of the status notes (spot/on-demand shares, warm pool), or undefined. */
function fleetNote(g: ServerGroupStatus): string | undefined {
  const parts: string[] = [];
  const mixed = g.mixedInstances;
  if (mixed)
    parts.push(
      `${mixed.shares.onDemand} on-demand + ${mixed.shares.spot} spot of ${g.capacity.desired} ` +
        `(base ${mixed.onDemandBaseCapacity}, ${mixed.onDemandPercentageAboveBaseCapacity} % on-demand above it` +
        `${mixed.spotAllocationStrategy ? `, spot ${mixed.spotAllocationStrategy}` : ''}; ` +
        `types ${mixed.instanceTypes.join(', ') || 'from instance requirements'})`,
    );
  const pool = g.warmPool;
  if (pool)
    parts.push(
      `warm pool ${pool.poolState}, min ${pool.minSize}` +
        `${pool.maxGroupPreparedCapacity !== null ? `, up to ${pool.maxGroupPreparedCapacity} prepared` : ''}` +
        `${pool.reuseOnScaleIn ? ', reused on scale-in' : ''}, ${pool.size} in the pool`,
    );
  return parts.length > 0 ? `${g.name}: ${parts.join('; ')}` : undefined;
}

/** A deployment a crashed or running deploy left mid-way, and what the next run will do with it. */
export interface UnfinishedDeployment {
  serverGroup: string;
  deploymentId: string | null;
  phase: string;
  /** What the next run does with it (`nextAction` in cluster/phases.ts, the rule recovery acts on). */
  nextRunWill: NextAction;
}

/** The `status` output for a cluster. */
export interface ClusterStatus {
  cluster: string;
  region: string;
  serverGroups: ServerGroupStatus[];
  /** Name of the newest enabled server group, or null. */
  active: string | null;
  /** Deployments left mid-way (a deploy running now, or one that died): the next deploy, rollback or cleanup settles them. */
  unfinished: UnfinishedDeployment[];
  /** Deployments held for a human (`hold`): healthy outside production until promote or abort; nothing else settles them. */
  held: HeldDeployment[];
}

/** A deployment held for a human. */
export interface HeldDeployment {
  serverGroup: string;
  deploymentId: string | null;
  version: string | null;
}

// Kept here too: stages and the library API read it from status.
export { targetGroupNameFromArn };

/** The status of one server group, counting only its own instances in each target group. */
export function describeServerGroup(group: ServerGroup, health: TargetHealthByGroup): ServerGroupStatus {
  const ids = new Set(group.instances.map((i) => i.id));
  const { targetGroupArns, loadBalancerNames } = splitSources(group.targetGroupArns);
  // Only its own instances in each source (the health maps classic InService onto healthy).
  const counts = (source: string) => {
    const mine = (health.get(source) ?? []).filter((t) => ids.has(t.Target?.Id ?? ''));
    return { healthy: mine.filter((t) => t.TargetHealth?.State === 'healthy').length, registered: mine.length };
  };
  return {
    name: group.name,
    amiId: group.amiId ?? null,
    version: group.tags[Tag.version] ?? null,
    deploymentId: group.tags[Tag.deploymentId] ?? null,
    createdTime: group.createdTime.toISOString(),
    enabled: group.enabled,
    state: group.enabled ? 'enabled' : 'disabled',
    managed: group.managed,
    capacity: group.capacity,
    instances: {
      inService: group.instances.filter((i) => i.lifecycleState === 'InService').length,
      total: group.instances.length,
    },
    targetGroups: targetGroupArns.map((arn) => ({ arn, name: targetGroupNameFromArn(arn), ...counts(arn) })),
    loadBalancers: loadBalancerNames.map((name) => ({ name, ...counts(name) })),
    launchTemplate: group.launchTemplate ?? null,
    suspendedProcesses: group.suspendedProcesses,
    phase: UNFINISHED_PHASES.has(group.tags[Tag.phase] ?? '') ? (group.tags[Tag.phase] as string) : null,
    scaleDownAfter: !group.enabled && group.capacity.desired > 0 ? (group.tags[Tag.scaleDownAfter] ?? null) : null,
    watchUntil: group.tags[Tag.phase] === Phase.watching ? (group.tags[Tag.watchUntil] ?? null) : null,
    watchedBy:
      group.tags[Tag.phase] === Phase.watching
        ? group.tags[Tag.watchedBy] === 'rollback'
          ? 'rollback'
          : 'deploy'
        : null,
    mixedInstances: mixedInstancesOf(group),
    warmPool: warmPoolStatusOf(group),
  };
}

/** Reads the cluster's server groups from live AWS (no cache). */
export async function getClusterStatus(aws: AwsClients, cluster: string): Promise<ClusterStatus> {
  const { groups, foreign, health } = await loadCluster(aws, cluster, { includeNamedOnly: true });
  const serverGroups = sortOldestFirst([...groups, ...foreign]).map((group) => describeServerGroup(group, health));
  const heldNames = new Set(groups.filter((g) => g.tags[Tag.phase] === Phase.held).map((g) => g.name));
  // A held group is not in production (it may be in no target group at all): never the active one.
  const active = [...serverGroups].reverse().find((g) => g.enabled && !heldNames.has(g.name))?.name ?? null;
  const held = serverGroups
    .filter((g) => heldNames.has(g.name))
    .map((g) => ({ serverGroup: g.name, deploymentId: g.deploymentId, version: g.version }));
  const unfinished = serverGroups
    .filter((g) => g.managed && g.phase !== null)
    .map((g) => ({
      serverGroup: g.name,
      deploymentId: g.deploymentId,
      phase: g.phase as string,
      nextRunWill: nextAction(g.phase as string, g.watchedBy ?? undefined) as NextAction,
    }));
  return { cluster, region: aws.region, serverGroups, active, unfinished, held };
}

/** The human table of a cluster status. */
export function formatClusterStatus(status: ClusterStatus): string {
  if (status.serverGroups.length === 0)
    return `cluster ${status.cluster} in ${status.region}: nothing there (no server groups)`;
  const rows = status.serverGroups.map((g) => [
    g.name,
    g.state,
    g.amiId ?? '-',
    g.version ?? '-',
    g.createdTime.replace(/\.\d{3}Z$/, 'Z'),
    `${g.capacity.min}/${g.capacity.max}/${g.capacity.desired}`,
    `${g.instances.inService}/${g.instances.total}`,
    [...g.targetGroups, ...g.loadBalancers].map((t) => `${t.name} ${t.healthy}/${t.registered}`).join(', ') || '-',
  ]);
  const table = formatTable(
    ['SERVER GROUP', 'STATE', 'AMI', 'VERSION', 'CREATED', 'MIN/MAX/DES', 'IN SERVICE', 'HEALTHY/REGISTERED'],
    rows,
  );
  const notes = [
    ...status.serverGroups.flatMap((g) => fleetNote(g) ?? []),
    ...status.serverGroups
      .filter((g) => g.watchUntil)
      .map(
        (g) =>
          `${g.name}: under watch (alarms, gates) until ${g.watchUntil}; a breach re-enables the warm previous group`,
      ),
    ...status.serverGroups
      .filter((g) => g.scaleDownAfter)
      .map((g) => `${g.name}: disabled, kept warm for a fast rollback until ${g.scaleDownAfter}`),
    ...status.serverGroups
      .filter((g) => !g.managed)
      .map((g) => `${g.name}: not made by a bluegreen deploy of this cluster: reported, never changed`),
    ...(status.held ?? []).map(
      (h) =>
        `${h.serverGroup}: held for a human (deployment ${h.deploymentId ?? '?'}${h.version ? `, version ${h.version}` : ''}), ` +
        `healthy outside production; blueGreenPromote finishes it, blueGreenAbort removes it; deploys and rollbacks wait (exit 3)`,
    ),
    ...status.unfinished.map(
      (u) =>
        `${u.serverGroup}: deployment ${u.deploymentId ?? '?'} is in phase ${u.phase} (running now, or interrupted): ` +
        (u.phase === Phase.watching && u.nextRunWill === 'roll-back'
          ? 'if it is not running any more, the next deploy, rollback or cleanup will roll it back (its verdict is unknown)'
          : `the next deploy, rollback or cleanup will ${u.nextRunWill.replace('-', ' ')} it`),
    ),
  ];
  return [`cluster ${status.cluster} in ${status.region}`, table, ...notes].join('\n');
}
