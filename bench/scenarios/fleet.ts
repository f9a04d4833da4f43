/**
 * The fleet variant of a scaled row (issue #22): the serving group made the fleet before the
 * measured deploys — spot and on-demand over two instance types and a warm pool — so each measured
 * deploy copies them (the mixed instances policy re-pointed at its launch template, the warm pool put
 * on the new group and deleted from the old one). Printed beside the plain row of the same size: it
 * must be no slower.
 */
import { PutWarmPoolCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { describeAsgsByName } from '../../src/cluster/server-groups';
import type { AwsClients } from '../../src/aws/clients';

/** The fleet: t3.micro / t3a.micro, 25 % on-demand above a base of 0, price-capacity-optimized, a stopped warm pool. */
export const BENCH_FLEET = {
  overrides: [{ InstanceType: 't3.micro' }, { InstanceType: 't3a.micro' }],
  distribution: {
    OnDemandBaseCapacity: 0,
    OnDemandPercentageAboveBaseCapacity: 25,
    SpotAllocationStrategy: 'price-capacity-optimized',
  },
  warmPool: { MinSize: 1, PoolState: 'Stopped' as const },
};

/** Makes `group` (launching from `template`) the bench's fleet, as a user would with two calls. */
export async function makeFleet(
  aws: AwsClients,
  group: string,
  template: { id: string; version: string },
): Promise<void> {
  await aws.autoScaling.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: group,
      MixedInstancesPolicy: {
        LaunchTemplate: {
          LaunchTemplateSpecification: { LaunchTemplateId: template.id, Version: template.version },
          Overrides: BENCH_FLEET.overrides,
        },
        InstancesDistribution: BENCH_FLEET.distribution,
      },
    }),
  );
  await aws.autoScaling.send(new PutWarmPoolCommand({ AutoScalingGroupName: group, ...BENCH_FLEET.warmPool }));
}

/** True when `group` still has a mixed instances policy with the fleet's overrides and a warm pool (the deploys kept them). */
export async function isFleet(aws: AwsClients, group: string): Promise<boolean> {
  const [asg] = await describeAsgsByName(aws, [group]);
  const types = asg?.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.map((o) => o.InstanceType);
  return (
    JSON.stringify(types) === JSON.stringify(BENCH_FLEET.overrides.map((o) => o.InstanceType)) &&
    asg?.WarmPoolConfiguration !== undefined
  );
}
