import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ClusterApis, GroupCapacity, ServerGroupApi } from '../../src/cluster/server-group-api';
import type { TargetHealthByGroup, Traffic } from '../../src/traffic/traffic';

/** One server group as the fake keeps it. */
interface FakeGroup {
  name: string;
  capacity: GroupCapacity;
  instances: string[];
  targetGroupArns: string[];
  suspended: Set<string>;
  tags: Map<string, string>;
  launched: number;
}

/**
 * An in-memory cluster behind target groups, implementing both narrow
 * interfaces ({@link ServerGroupApi}, {@link Traffic}) the way Auto Scaling
 * and an ALB behave, at once: a group grown launches instances InService and,
 * unless `AddToLoadBalancer` is suspended, registers them healthy; a group
 * shrunk terminates its newest ones unless `Terminate` is suspended; a
 * deregistered target is gone at once (a deregistration delay of 0), or
 * `draining` for one health read with `slowDrain`. Every
 * call is logged (`calls`), so a test asserts what an operation did, in
 * milliseconds, where the moto/sandbox tests assert it against AWS.
 */
export class InMemoryCluster implements ClusterApis {
  readonly calls: string[] = [];
  constructor(private readonly options: { slowDrain?: boolean } = {}) {}

  private readonly groupsByName = new Map<string, FakeGroup>();
  /** Target group ARN → instance → state. */
  private readonly targets = new Map<string, Map<string, string>>();

  /** A group with `count` InService instances, registered healthy in its target groups. */
  addGroup(name: string, options: { count: number; targetGroupArns: string[]; registered?: boolean }): string[] {
    const group: FakeGroup = {
      name,
      capacity: { min: options.count, max: Math.max(options.count, 10), desired: options.count },
      instances: [],
      targetGroupArns: options.targetGroupArns,
      suspended: new Set(),
      tags: new Map(),
      launched: 0,
    };
    this.groupsByName.set(name, group);
    if (options.registered === false) group.suspended.add('AddToLoadBalancer');
    this.reconcile(group);
    return [...group.instances];
  }

  /** A group's capacity, instances, tags and suspended processes now. */
  group(name: string): {
    capacity: GroupCapacity;
    instances: string[];
    tags: Record<string, string>;
    suspended: string[];
  } {
    const group = this.groupsByName.get(name);
    if (!group) throw new Error(`no group ${name}`);
    return {
      capacity: { ...group.capacity },
      instances: [...group.instances],
      tags: Object.fromEntries(group.tags),
      suspended: [...group.suspended].sort(),
    };
  }

  /** Instances registered (any state) in a target group. */
  registered(arn: string): string[] {
    return [...(this.targets.get(arn)?.keys() ?? [])].sort();
  }

  /** Deletes a group as a forced ASG delete does: its instances terminated and out of the target groups. */
  deleteGroup(name: string): void {
    this.calls.push(`delete ${name}`);
    const group = this.groupsByName.get(name);
    if (!group) return;
    for (const id of group.instances) for (const arn of group.targetGroupArns) this.targetsOf(arn).delete(id);
    this.groupsByName.delete(name);
  }

  /** True when the group exists. */
  has(name: string): boolean {
    return this.groupsByName.has(name);
  }

  /** Sets an instance's state in a target group (e.g. `unhealthy`). */
  setTargetState(arn: string, instanceId: string, state: string): void {
    this.targetsOf(arn).set(instanceId, state);
  }

  readonly groups: ServerGroupApi = {
    describe: async (names) => {
      this.calls.push(`describe ${names.join(',')}`);
      return names.flatMap((name) => {
        const group = this.groupsByName.get(name);
        return group ? [this.asgOf(group)] : [];
      });
    },
    setCapacity: async (name, capacity) => {
      this.calls.push(`setCapacity ${name} ${JSON.stringify(capacity)}`);
      const group = this.mustGet(name);
      group.capacity = { ...group.capacity, ...capacity };
      this.reconcile(group);
    },
    setTags: async (groups) => {
      for (const { name, tags } of groups) {
        this.calls.push(`setTags ${name} ${Object.keys(tags).join(',')}`);
        const group = this.mustGet(name);
        for (const [key, value] of Object.entries(tags)) group.tags.set(key, value);
      }
    },
    removeTags: async (name, keys) => {
      if (keys.length === 0) return;
      this.calls.push(`removeTags ${name} ${keys.join(',')}`);
      for (const key of keys) this.mustGet(name).tags.delete(key);
    },
    suspend: async (name, processes) => {
      this.calls.push(`suspend ${name} ${processes.join(',')}`);
      for (const process of processes) this.mustGet(name).suspended.add(process);
    },
    resume: async (name, processes) => {
      this.calls.push(`resume ${name} ${processes.join(',')}`);
      const group = this.mustGet(name);
      for (const process of processes) group.suspended.delete(process);
      this.reconcile(group);
    },
    deleteWarmPool: async (name) => {
      this.calls.push(`deleteWarmPool ${name}`);
    },
  };

  readonly traffic: Traffic = {
    health: async (sources) => {
      this.calls.push(`health ${sources.length}`);
      const result: TargetHealthByGroup = new Map();
      for (const arn of new Set(sources)) {
        const states = this.targetsOf(arn);
        result.set(
          arn,
          [...states].map(([id, state]): TargetHealthDescription => ({
            Target: { Id: id, Port: 80 },
            TargetHealth: { State: state as never },
          })),
        );
        // A drain completes once seen: the next read no longer lists the target.
        for (const [id, state] of states) if (state === 'draining') states.delete(id);
      }
      return result;
    },
    register: async (sources, instanceIds) => {
      this.calls.push(`register ${instanceIds.join(',')}`);
      for (const arn of sources) for (const id of instanceIds) this.targetsOf(arn).set(id, 'healthy');
    },
    deregister: async (sources, instanceIds) => {
      this.calls.push(`deregister ${instanceIds.join(',')}`);
      for (const arn of sources) {
        const states = this.targetsOf(arn);
        for (const id of instanceIds) {
          if (!states.has(id) || states.get(id) === 'draining') continue;
          if (this.options.slowDrain) states.set(id, 'draining');
          else states.delete(id);
        }
      }
    },
    drainSeconds: async () => 0,
  };

  private mustGet(name: string): FakeGroup {
    const group = this.groupsByName.get(name);
    if (!group) throw new Error(`AutoScalingGroup ${name} not found`);
    return group;
  }

  private targetsOf(arn: string): Map<string, string> {
    let states = this.targets.get(arn);
    if (!states) this.targets.set(arn, (states = new Map()));
    return states;
  }

  /** Auto Scaling's part: launch up to desired, terminate down to it (newest first), as the processes allow. */
  private reconcile(group: FakeGroup): void {
    while (group.instances.length < group.capacity.desired && !group.suspended.has('Launch')) {
      group.launched += 1;
      const id = `i-${group.name}-${group.launched}`;
      group.instances.push(id);
      if (!group.suspended.has('AddToLoadBalancer'))
        for (const arn of group.targetGroupArns) this.targetsOf(arn).set(id, 'healthy');
    }
    while (group.instances.length > group.capacity.desired && !group.suspended.has('Terminate')) {
      const id = group.instances.pop() as string;
      for (const arn of group.targetGroupArns) this.targetsOf(arn).delete(id);
    }
  }

  private asgOf(group: FakeGroup): AutoScalingGroup {
    return {
      AutoScalingGroupName: group.name,
      MinSize: group.capacity.min,
      MaxSize: group.capacity.max,
      DesiredCapacity: group.capacity.desired,
      Instances: group.instances.map((id) => ({
        InstanceId: id,
        LifecycleState: 'InService',
        HealthStatus: 'Healthy',
        AvailabilityZone: 'us-east-1a',
        ProtectedFromScaleIn: false,
      })),
      TargetGroupARNs: group.targetGroupArns,
      SuspendedProcesses: [...group.suspended].map((ProcessName) => ({ ProcessName })),
      Tags: [...group.tags].map(([Key, Value]) => ({ Key, Value })),
      CreatedTime: new Date(0),
      DefaultCooldown: 300,
      HealthCheckType: 'ELB',
      AvailabilityZones: ['us-east-1a'],
    };
  }
}
