import {
  PutWarmPoolCommand,
  type AutoScalingGroup,
  type LaunchTemplateSpecification,
  type MixedInstancesPolicy,
  type PutWarmPoolType,
} from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients';
import { InputError } from '../core/errors';

/**
 * The fleet a user shaped on a group, carried to the group that replaces it:
 * the mixed instances policy (spot and on-demand shares, instance-type
 * overrides) pointed at the new launch template, and the warm pool.
 * What is copied and what is not: docs/architecture.md, "What a new group copies".
 */

/** A warm pool as PutWarmPool takes it (without the group name). */
export type WarmPoolSettings = Omit<PutWarmPoolType, 'AutoScalingGroupName'>;

/** A launch template a group launches from. */
interface TemplateRef {
  id: string;
  version: string;
}

function sameTemplate(a: LaunchTemplateSpecification | undefined, b: LaunchTemplateSpecification | undefined): boolean {
  if (!a || !b) return false;
  if (a.LaunchTemplateId && b.LaunchTemplateId) return a.LaunchTemplateId === b.LaunchTemplateId;
  return Boolean(a.LaunchTemplateName) && a.LaunchTemplateName === b.LaunchTemplateName;
}

/**
 * Refuses (exit 2, nothing changed) a mixed instances policy whose overrides
 * name a launch template other than the group's own: that template names its
 * own AMI (often of another architecture), so the new group would launch the
 * old build on some instances. Overrides naming the group's own template are fine.
 */
export function checkOverrideTemplates(asg: AutoScalingGroup): void {
  const launchTemplate = asg.MixedInstancesPolicy?.LaunchTemplate;
  const groupName = asg.AutoScalingGroupName ?? 'the group';
  const own = launchTemplate?.LaunchTemplateSpecification;
  (launchTemplate?.Overrides ?? []).forEach((override, i) => {
    const spec = override.LaunchTemplateSpecification;
    if (!spec || sameTemplate(spec, own)) return;
    throw new InputError(
      `MixedInstancesPolicy.LaunchTemplate.Overrides[${i}].LaunchTemplateSpecification`,
      `of ${groupName} names launch template ${spec.LaunchTemplateId ?? spec.LaunchTemplateName}, ` +
        'which launches its own AMI: a deploy would run the old build on those instances. ' +
        "Point the override at the group's own launch template or remove its LaunchTemplateSpecification " +
        '(UpdateAutoScalingGroup), then deploy again; nothing was changed',
    );
  });
}

/**
 * A source's mixed instances policy for a new group launching from
 * `template`: the base template and every override naming a template (the
 * source's own, see {@link checkOverrideTemplates}) re-pointed at it; instance
 * types, weights, instance requirements and the instances distribution as the
 * source has them.
 */
export function mixedInstancesPolicyFor(policy: MixedInstancesPolicy, template: TemplateRef): MixedInstancesPolicy {
  const spec: LaunchTemplateSpecification = { LaunchTemplateId: template.id, Version: template.version };
  const overrides = policy.LaunchTemplate?.Overrides;
  return {
    LaunchTemplate: {
      LaunchTemplateSpecification: spec,
      ...(overrides?.length
        ? {
            Overrides: overrides.map((override) =>
              override.LaunchTemplateSpecification ? { ...override, LaunchTemplateSpecification: spec } : override,
            ),
          }
        : {}),
    },
    ...(policy.InstancesDistribution ? { InstancesDistribution: { ...policy.InstancesDistribution } } : {}),
  };
}

/** The source's warm pool as PutWarmPool settings (its status left out); undefined when it has none. */
export function warmPoolOf(asg: AutoScalingGroup): WarmPoolSettings | undefined {
  const pool = asg.WarmPoolConfiguration;
  if (!pool) return undefined;
  return {
    ...(pool.MinSize !== undefined ? { MinSize: pool.MinSize } : {}),
    ...(pool.MaxGroupPreparedCapacity !== undefined ? { MaxGroupPreparedCapacity: pool.MaxGroupPreparedCapacity } : {}),
    ...(pool.PoolState ? { PoolState: pool.PoolState } : {}),
    ...(pool.InstanceReusePolicy ? { InstanceReusePolicy: { ...pool.InstanceReusePolicy } } : {}),
  };
}

/** How a group's desired capacity splits between on-demand and spot, as its instances distribution asks. */
export interface CapacityShares {
  onDemand: number;
  spot: number;
}

/**
 * The on-demand/spot split of `desired` units: the on-demand base first, then
 * the on-demand percentage of what is above it (rounded up), the rest spot.
 * Without a distribution, all on-demand (AWS's defaults: base 0, 100 %).
 */
export function capacityShares(
  desired: number,
  distribution: { OnDemandBaseCapacity?: number; OnDemandPercentageAboveBaseCapacity?: number } = {},
): CapacityShares {
  const base = distribution.OnDemandBaseCapacity ?? 0;
  const percent = distribution.OnDemandPercentageAboveBaseCapacity ?? 100;
  const onDemand = desired <= base ? desired : base + Math.ceil(((desired - base) * percent) / 100);
  return { onDemand, spot: desired - onDemand };
}

/** True when the group has a warm pool (to delete with its instances when it is scaled down). */
export function hasWarmPool(asg: AutoScalingGroup): boolean {
  return asg.WarmPoolConfiguration !== undefined;
}

/** Gives a group a warm pool (PutWarmPool creates or replaces it). */
export async function putWarmPool(aws: AwsClients, groupName: string, pool: WarmPoolSettings): Promise<void> {
  await aws.autoScaling.send(new PutWarmPoolCommand({ AutoScalingGroupName: groupName, ...pool }));
}
