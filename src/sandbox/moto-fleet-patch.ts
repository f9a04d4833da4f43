import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * What moto 5.2 gets wrong about a group with a MixedInstancesPolicy, put
 * right inside moto_server (a `sitecustomize` module, loaded by the Python
 * that runs it): moto splits desired capacity into on-demand and spot shares
 * that both round down (desired 2 at 25 % on-demand launches 1 instance),
 * launches every instance with the launch template's type, and marks none as
 * spot; and any UpdateAutoScalingGroup that does not repeat the policy (a
 * capacity change) drops it. Patched: one instance per unit of desired capacity, the on-demand
 * share (base, then the percentage above it, rounded up) with the first
 * override's type, the rest spot (`InstanceLifecycle: spot` in
 * DescribeInstances) spread over the overrides' types. Weights are not applied
 * (one instance per unit); an update without a policy or launch template keeps it. Groups without overrides are moto's as before;
 * anything that fails to patch leaves moto as it is, with a line on its stderr.
 * Also: DeregisterInstancesFromLoadBalancer takes out an instance an Auto
 * Scaling group registered (moto removes only the ones registered by hand).
 */
const FLEET_PATCH = `
import copy, math, os, sys

def _patch():
    from moto.autoscaling import models as m
    group = m.FakeAutoScalingGroup
    original_set = group.set_desired_capacity
    original_replace = group.replace_autoscaling_group_instances
    original_type = group.instance_type

    def mixed(self):
        policy = getattr(self, '_sandbox_mixed', None) or self.mixed_instances_policy
        if policy and policy.get('LaunchTemplate', {}).get('Overrides'):
            return policy
        return None

    def set_desired_capacity(self, new_capacity):
        policy = mixed(self)
        if policy is None:
            return original_set(self, new_capacity)
        # One instance per unit of desired capacity: moto's own split of a mixed group's capacity rounds
        # both shares down (2 at 25 % on-demand launches 1 instance).
        self._sandbox_mixed = policy
        self.mixed_instances_policy = None
        try:
            original_set(self, new_capacity)
        finally:
            self.mixed_instances_policy = policy
            self._sandbox_mixed = None

    def replace_autoscaling_group_instances(self, count_needed, propagated_tags):
        policy = mixed(self)
        if policy is None:
            return original_replace(self, count_needed, propagated_tags)
        # On-demand first (the first override, as "prioritized" does), then spot across the overrides' types.
        overrides = policy['LaunchTemplate']['Overrides']
        types = [o['InstanceType'] for o in overrides if o.get('InstanceType')]
        dist = policy.get('InstancesDistribution') or {}
        base = int(dist.get('OnDemandBaseCapacity', 0) or 0)
        share = dist.get('OnDemandPercentageAboveBaseCapacity')
        share = 100 if share is None else int(share)
        desired = self.desired_capacity or 0
        on_demand = desired if desired <= base else base + math.ceil((desired - base) * share / 100)
        live = [state.instance for state in self.instance_states]
        spots = sum(1 for instance in live if getattr(instance, 'lifecycle', None) == 'spot')
        od_needed = max(0, min(count_needed, on_demand - (len(live) - spots)))
        spot_needed = count_needed - od_needed
        # A few launches, not one per instance: one per instance made a 200-instance group's creation
        # outlast the 90 s call deadline in a bench run.
        batches = [(types[0] if types else None, od_needed, False)] if od_needed else []
        if spot_needed and types:
            per_type = [0] * len(types)
            for k in range(spot_needed):
                per_type[(spots + k) % len(types)] += 1
            batches += [(types[j], n, True) for j, n in enumerate(per_type) if n]
        elif spot_needed:
            batches.append((None, spot_needed, True))
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
