import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * What moto 5.2 gets wrong about a group with a MixedInstancesPolicy, put
 * right inside moto_server (a `sitecustomize` module, loaded by the Python
 * that runs it): moto splits desired capacity into on-demand and spot shares
 * that both round down (desired 2 at 25 % on-demand launches 1 instance),
 * launches every instance with the launch template's type, and marks none as
 * spot; it weighs every instance as the first override; it drops DesiredCapacityType; and any
 * UpdateAutoScalingGroup that does not repeat the policy (a capacity change) drops it. Patched: desired
 * capacity counted in units as AWS counts it — an instance counts its override's WeightedCapacity (1
 * without one), or its type's vCPUs / MiB with DesiredCapacityType vcpu / memory-mib — and instances
 * launched until their units reach desired (ceil(desired / weight) of one type; scale-in removes
 * instances while the rest still cover desired): the on-demand share (base, then the percentage above
 * it, rounded up) with the first override's type, the rest spot (`InstanceLifecycle: spot` in
 * DescribeInstances) across the overrides' types in turn. DesiredCapacityType is kept and returned. Like
 * moto, Instances[].WeightedCapacity is not returned (AWS returns it; the engine derives it when absent).
 * An update without a policy or launch template keeps it. Groups without overrides are moto's as before;
 * anything that fails to patch leaves moto as it is, with a line on its stderr.
 * Also: DeregisterInstancesFromLoadBalancer takes out an instance an Auto
 * Scaling group registered (moto removes only the ones registered by hand).
 */
const FLEET_PATCH = `
import copy, math, os, sys

# DesiredCapacityType of a group being created or updated, by name, until the call returns.
_pending_capacity_type = {}

def _patch():
    from moto.autoscaling import models as m
    from moto.autoscaling import responses as r
    from moto.ec2.models.instance_types import INSTANCE_TYPES
    group = m.FakeAutoScalingGroup
    original_set = group.set_desired_capacity
    original_replace = group.replace_autoscaling_group_instances
    original_type = group.instance_type

    def mixed(self):
        policy = getattr(self, '_sandbox_mixed', None) or self.mixed_instances_policy
        if policy and policy.get('LaunchTemplate', {}).get('Overrides'):
            return policy
        return None

    def capacity_type(self):
        return getattr(self, '_sandbox_capacity_type', None) or _pending_capacity_type.get(self.name)

    def weight(self, policy, instance_type):
        # What one instance counts for in desired capacity: its type's vCPUs or MiB with DesiredCapacityType
        # vcpu / memory-mib, else its override's WeightedCapacity (1 without one).
        kind = capacity_type(self)
        if kind in ('vcpu', 'memory-mib'):
            info = INSTANCE_TYPES.get(instance_type or '') or {}
            if kind == 'vcpu':
                return max(1, int((info.get('VCpuInfo') or {}).get('DefaultVCpus') or 1))
            return max(1, int((info.get('MemoryInfo') or {}).get('SizeInMiB') or 1))
        for override in policy['LaunchTemplate']['Overrides']:
            if override.get('InstanceType') == instance_type and str(override.get('WeightedCapacity', '')).isdigit():
                return max(1, int(override['WeightedCapacity']))
        return 1

    def units_of(self, policy, states):
        return sum(weight(self, policy, state.instance.instance_type) for state in states)

    def set_desired_capacity(self, new_capacity):
        policy = mixed(self)
        if policy is None:
            return original_set(self, new_capacity)
        # Capacity in units, as AWS counts it: instances are launched until their weights reach desired
        # (moto's own split rounds both shares down and weighs every instance as the first override).
        self.desired_capacity = self.min_size if new_capacity is None else new_capacity
        desired = self.desired_capacity or 0
        live = self.active_instances()
        units = units_of(self, policy, live)
        if units < desired:
            self.replace_autoscaling_group_instances(0, self.get_propagated_tags())
        elif units > desired:
            remove = []
            for state in reversed([s for s in live if not s.protected_from_scale_in]):
                w = weight(self, policy, state.instance.instance_type)
                if units - w < desired:
                    continue
                units -= w
                remove.append(state)
            if remove:
                self.autoscaling_backend.ec2_backend.terminate_instances([s.instance.id for s in remove])
                self.instance_states = [s for s in self.instance_states if s not in remove]
        if self.name in self.autoscaling_backend.autoscaling_groups:
            self.autoscaling_backend.update_attached_elbs(self.name)
            self.autoscaling_backend.update_attached_target_groups(self.name)

    def replace_autoscaling_group_instances(self, count_needed, propagated_tags):
        policy = mixed(self)
        if policy is None:
            return original_replace(self, count_needed, propagated_tags)
        # What is missing, in units (count_needed is moto's count of instances: ignored). On-demand first
        # (the first override, as "prioritized" does), then spot across the overrides' types.
        overrides = policy['LaunchTemplate']['Overrides']
        types = [o['InstanceType'] for o in overrides if o.get('InstanceType')] or [None]
        dist = policy.get('InstancesDistribution') or {}
        base = int(dist.get('OnDemandBaseCapacity', 0) or 0)
        share = dist.get('OnDemandPercentageAboveBaseCapacity')
        share = 100 if share is None else int(share)
        desired = self.desired_capacity or 0
        on_demand = desired if desired <= base else base + math.ceil((desired - base) * share / 100)
        live = self.active_instances()
        spots = [s for s in live if getattr(s.instance, 'lifecycle', None) == 'spot']
        needed = desired - units_of(self, policy, live)
        if needed <= 0:
            return
        od_units = max(0, min(needed, on_demand - (units_of(self, policy, live) - units_of(self, policy, spots))))
        spot_units = needed - od_units
        # A few launches, not one per instance: one per instance made a 200-instance group's creation
        # outlast the 90 s call deadline in a bench run.
        batches = []
        if od_units:
            batches.append((types[0], math.ceil(od_units / weight(self, policy, types[0] or self.instance_type)), False))
        per_type = [0] * len(types)
        k = len(spots)
        while spot_units > 0:
            j = k % len(types)
            per_type[j] += 1
            spot_units -= weight(self, policy, types[j] or self.instance_type)
            k += 1
        batches += [(types[j], n, True) for j, n in enumerate(per_type) if n]
        for instance_type, count, spot in batches:
            before = len(self.instance_states)
            self._sandbox_type = instance_type
            try:
                original_replace(self, count, dict(propagated_tags))
            finally:
                self._sandbox_type = None
            if spot:
                for state in self.instance_states[before:]:
                    state.instance.lifecycle = 'spot'

    def instance_type(self):
        return getattr(self, '_sandbox_type', None) or original_type.fget(self)

    original_update = group.update

    def update(self, *args, **kwargs):
        # moto drops the policy on any UpdateAutoScalingGroup that does not repeat it (AWS keeps it).
        keep = self.mixed_instances_policy
        launch = kwargs.get('launch_config_name') or kwargs.get('launch_template')
        if kwargs.get('mixed_instances_policy') is None and not launch and keep:
            # moto filled in the template's name next to its id; given both, it refuses the policy.
            kept = copy.deepcopy(keep)
            spec = kept['LaunchTemplate']['LaunchTemplateSpecification']
            if spec.get('LaunchTemplateId'):
                spec.pop('LaunchTemplateName', None)
            kwargs['mixed_instances_policy'] = kept
        return original_update(self, *args, **kwargs)

    def remembering_capacity_type(action):
        original_action = getattr(r.AutoScalingResponse, action)

        def handler(self):
            # moto drops DesiredCapacityType: kept on the group (and seen while the call launches).
            name = self._get_param('AutoScalingGroupName')
            kind = self._get_param('DesiredCapacityType')
            if kind:
                _pending_capacity_type[name] = kind
            try:
                return original_action(self)
            finally:
                if kind:
                    found = self.autoscaling_backend.autoscaling_groups.get(name)
                    if found is not None:
                        found._sandbox_capacity_type = kind
                    _pending_capacity_type.pop(name, None)

        setattr(r.AutoScalingResponse, action, handler)

    remembering_capacity_type('create_auto_scaling_group')
    remembering_capacity_type('update_auto_scaling_group')
    group.desired_capacity_type = property(capacity_type)
    group.update = update
    group.set_desired_capacity = set_desired_capacity
    group.replace_autoscaling_group_instances = replace_autoscaling_group_instances
    group.instance_type = property(instance_type)

def _patch_elb():
    # AWS's DeregisterInstancesFromLoadBalancer takes an instance out whoever registered it; moto 5.2 only
    # removes the ones registered by hand, so an Auto Scaling group's instance could never be deregistered.
    from moto.elb import models as elb
    backend = elb.ELBBackend
    original = backend.deregister_instances

    def deregister_instances(self, load_balancer_name, instance_ids, from_autoscaling=False):
        result = original(self, load_balancer_name, instance_ids, from_autoscaling)
        if not from_autoscaling:
            original(self, load_balancer_name, instance_ids, True)
        return result

    backend.deregister_instances = deregister_instances

    # AWS lists a registered instance once; moto keeps hand- and Auto Scaling-registered ids in two lists (and
    # appends again on a second RegisterInstancesWithLoadBalancer), so a re-enabled group's instances came twice.
    def instance_ids(self):
        return list(dict.fromkeys(self.instance_sparse_ids + self.instance_autoscaling_ids))

    elb.LoadBalancer.instance_ids = property(instance_ids)

if os.path.basename(sys.argv[0] if sys.argv else '').startswith('moto_server'):
    try:
        _patch()
    except Exception as error:
        print('bluegreen sandbox: moto fleet patch not applied: %r' % (error,), file=sys.stderr)
    try:
        _patch_elb()
    except Exception as error:
        print('bluegreen sandbox: moto classic ELB patch not applied: %r' % (error,), file=sys.stderr)
`;

/** A directory holding the patch as `sitecustomize.py`, to put on moto's PYTHONPATH; `remove()` deletes it. */
export function writeMotoFleetPatch(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bluegreen-moto-'));
  writeFileSync(join(dir, 'sitecustomize.py'), FLEET_PATCH);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** PYTHONPATH with `dir` first (anything set before kept after it). */
export function pythonPathWith(dir: string, current = process.env.PYTHONPATH): string {
  return current ? `${dir}${delimiter}${current}` : dir;
}
