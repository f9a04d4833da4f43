import { DescribeInstanceTypesCommand, type _InstanceType } from '@aws-sdk/client-ec2';
import type { AutoScalingGroup, Instance, LaunchTemplateSpecification } from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients';
import { chunk } from '../aws/paginate';
import { InputError, OperationFailedError } from '../core/errors';

/**
 * Desired capacity in the group's units (docs/architecture.md, "Capacity
 * units"): with a mixed instances policy whose overrides carry
 * `WeightedCapacity`, or `DesiredCapacityType` `vcpu` / `memory-mib`, a
 * desired 4 may be 2 instances of weight 2. The health wait, the capacity
 * handoff and a re-enable count what instances give in those units, never
 * the instances themselves.
 */

/** What one instance of a group counts for in its desired capacity. */
export type UnitWeight = (instance: Pick<Instance, 'InstanceType' | 'WeightedCapacity' | 'LaunchTemplate'>) => number;

/** vCPUs and memory of instance types (DescribeInstanceTypes), by type. */
export type InstanceTypeSizes = Map<string, { vcpus: number; memoryMiB: number }>;

/** The capacity types that weigh an instance by its type's size, not by an override's weight. */
const SIZED = new Set(['vcpu', 'memory-mib']);

/** A positive whole number from AWS's string weights ("2"), else undefined. */
function weightValue(value: string | undefined): number | undefined {
  const weight = Number(value);
  return value !== undefined && Number.isInteger(weight) && weight > 0 ? weight : undefined;
}

function sameTemplate(
  override: LaunchTemplateSpecification,
  instance: LaunchTemplateSpecification | undefined,
): boolean {
  if (!instance) return false;
  if (override.LaunchTemplateId && instance.LaunchTemplateId)
    return override.LaunchTemplateId === instance.LaunchTemplateId;
  return Boolean(override.LaunchTemplateName) && override.LaunchTemplateName === instance.LaunchTemplateName;
}

/**
 * How much each instance of `asg` counts for, pure: the `WeightedCapacity`
 * AWS reports on the instance when it does; else, with `DesiredCapacityType`
 * `vcpu` / `memory-mib`, its type's vCPUs / MiB from `sizes`; else the
 * `WeightedCapacity` of the override matching its instance type (and launch
 * template, when the override names one); else 1 (an instance per unit).
 */
export function unitWeightOf(asg: AutoScalingGroup, sizes: InstanceTypeSizes = new Map()): UnitWeight {
  const kind = asg.DesiredCapacityType ?? 'units';
  const overrides = asg.MixedInstancesPolicy?.LaunchTemplate?.Overrides ?? [];
  return (instance) => {
    const reported = weightValue(instance.WeightedCapacity);
    if (reported !== undefined) return reported;
    const type = instance.InstanceType ?? '';
    if (SIZED.has(kind)) {
      const size = sizes.get(type);
      return Math.max(1, (kind === 'vcpu' ? size?.vcpus : size?.memoryMiB) ?? 1);
    }
    const override = overrides.find(
      (o) =>
        o.InstanceType === type &&
        (!o.LaunchTemplateSpecification || sameTemplate(o.LaunchTemplateSpecification, instance.LaunchTemplate)),
    );
    return weightValue(override?.WeightedCapacity) ?? 1;
  };
}

/** The units `instances` give together. */
export function capacityUnits(instances: ReadonlyArray<Parameters<UnitWeight>[0]>, weight: UnitWeight): number {
  return instances.reduce((sum, instance) => sum + weight(instance), 0);
}

/** Instance types of `asg`'s instances whose size must be read (vcpu / memory-mib groups, no reported weight). */
function typesToRead(asg: AutoScalingGroup, sizes: InstanceTypeSizes): string[] {
  if (!SIZED.has(asg.DesiredCapacityType ?? 'units')) return [];
  const types = (asg.Instances ?? [])
    .filter((i) => weightValue(i.WeightedCapacity) === undefined)
    .map((i) => i.InstanceType ?? '');
  return [...new Set(types)].filter((type) => type && !sizes.has(type));
}

/**
 * The group's {@link UnitWeight}, reading the vCPUs / memory of instance
 * types not yet in `sizes` (DescribeInstanceTypes, up to 100 types a call,
 * cached in `sizes`) — only for `vcpu` / `memory-mib` groups whose instances
 * carry no reported weight. Throws `CapacityUnitsUnknown` when a type's size
 * cannot be read: counting it as 1 would wait for the wrong capacity.
 */
export async function readUnitWeight(
  aws: AwsClients,
  asg: AutoScalingGroup,
  sizes: InstanceTypeSizes = new Map(),
): Promise<UnitWeight> {
  const missing = typesToRead(asg, sizes);
  for (const batch of chunk(missing, 100)) {
    let answer;
    try {
      answer = await aws.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: batch as _InstanceType[] }));
    } catch (error) {
      throw unreadable(asg, batch, (error as Error).message);
    }
    for (const info of answer.InstanceTypes ?? [])
      if (info.InstanceType)
        sizes.set(info.InstanceType, {
          vcpus: info.VCpuInfo?.DefaultVCpus ?? 0,
          memoryMiB: info.MemoryInfo?.SizeInMiB ?? 0,
        });
    const unknown = batch.filter(
      (type) => !(sizes.get(type)?.[asg.DesiredCapacityType === 'vcpu' ? 'vcpus' : 'memoryMiB'] ?? 0),
    );
    if (unknown.length > 0) throw unreadable(asg, unknown, 'not in the answer');
  }
  return unitWeightOf(asg, sizes);
}

function unreadable(asg: AutoScalingGroup, types: string[], why: string): OperationFailedError {
  const kind = asg.DesiredCapacityType ?? 'units';
  const reason =
    `the ${kind === 'vcpu' ? 'vCPUs' : 'memory'} of instance type(s) ${types.join(', ')} could not be read ` +
    `(ec2:DescribeInstanceTypes: ${why})`;
  return new OperationFailedError(
    'CapacityUnitsUnknown',
    `${asg.AutoScalingGroupName ?? 'the group'} counts desired capacity in ${kind}: ${reason}`,
    { reason },
  );
}

/**
 * Read-only, before a deploy changes anything: the source group's capacity
 * units can be counted. Throws {@link InputError} naming
 * `DesiredCapacityType` (exit 2) when they cannot, rather than wait for a
 * capacity it cannot see.
 */
export async function checkCapacityUnitsReadable(aws: AwsClients, asg: AutoScalingGroup): Promise<void> {
  try {
    await readUnitWeight(aws, asg);
  } catch (error) {
    if (!(error instanceof OperationFailedError)) throw error;
    throw new InputError(
      'DesiredCapacityType',
      `of ${asg.AutoScalingGroupName ?? 'the group'} is ${asg.DesiredCapacityType ?? 'units'}: ${String(error.details.reason)}. ` +
        'Allow ec2:DescribeInstanceTypes, or set DesiredCapacityType units on the group; nothing was changed',
    );
  }
}
