import test from 'ava';
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { capacityUnits, unitWeightOf, type InstanceTypeSizes } from '../../../src/deploy/capacity-units';
import { countHealthy, requiredHealthy } from '../../../src/deploy/health-rules';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef';
const own = { LaunchTemplateId: 'lt-own', Version: '3' };

/** A group with the overrides, t3.micro weight 1 and t3.large weight 2. */
function weighted(extra: Partial<AutoScalingGroup> = {}): AutoScalingGroup {
  return {
    AutoScalingGroupName: 'web-prod-v002',
    MixedInstancesPolicy: {
      LaunchTemplate: {
        LaunchTemplateSpecification: own,
        Overrides: [
          { InstanceType: 't3.micro', WeightedCapacity: '1' },
          { InstanceType: 't3.large', WeightedCapacity: '2' },
        ],
      },
    },
    ...extra,
  } as AutoScalingGroup;
}

test('an instance counts its override’s weight; without weights, one unit per instance', (t) => {
  const weight = unitWeightOf(weighted());
  t.is(weight({ InstanceType: 't3.large' }), 2);
  t.is(weight({ InstanceType: 't3.micro' }), 1);
  t.is(weight({ InstanceType: 'm5.large' }), 1, 'a type no override names (launched before a policy change)');
  t.is(capacityUnits([{ InstanceType: 't3.large' }, { InstanceType: 't3.large' }], weight), 4, '2 of weight 2 = 4');
  t.is(unitWeightOf({} as AutoScalingGroup)({ InstanceType: 't3.large' }), 1, 'a plain group');
});

test('the weight AWS reports on the instance wins over the override’s (weights changed since its launch)', (t) => {
  t.is(unitWeightOf(weighted())({ InstanceType: 't3.large', WeightedCapacity: '3' }), 3);
  t.is(unitWeightOf(weighted())({ InstanceType: 't3.large', WeightedCapacity: 'x' }), 2, 'not a number: ignored');
});

test('an override naming a launch template matches only instances launched from it', (t) => {
  const group = weighted();
  group.MixedInstancesPolicy!.LaunchTemplate!.Overrides = [
    { InstanceType: 't3.large', WeightedCapacity: '4', LaunchTemplateSpecification: { LaunchTemplateId: 'lt-other' } },
    { InstanceType: 't3.large', WeightedCapacity: '2' },
  ];
  const weight = unitWeightOf(group);
  t.is(weight({ InstanceType: 't3.large', LaunchTemplate: { LaunchTemplateId: 'lt-other' } }), 4);
  t.is(weight({ InstanceType: 't3.large', LaunchTemplate: own }), 2);
});

test('vcpu and memory-mib groups count the instance type’s vCPUs / MiB', (t) => {
  const sizes: InstanceTypeSizes = new Map([
    ['t3.micro', { vcpus: 2, memoryMiB: 1024 }],
    ['m5.xlarge', { vcpus: 4, memoryMiB: 16384 }],
  ]);
  const vcpu = unitWeightOf(weighted({ DesiredCapacityType: 'vcpu' }), sizes);
  t.is(capacityUnits([{ InstanceType: 't3.micro' }, { InstanceType: 'm5.xlarge' }], vcpu), 6);
  const memory = unitWeightOf(weighted({ DesiredCapacityType: 'memory-mib' }), sizes);
  t.is(memory({ InstanceType: 'm5.xlarge' }), 16384);
});

test('health counts healthy capacity in units: desired 4 is met by two healthy instances of weight 2', (t) => {
  const healthy = (id: string): TargetHealthDescription => ({ Target: { Id: id }, TargetHealth: { State: 'healthy' } });
  const instances = [
    { InstanceId: 'i-1', LifecycleState: 'InService', InstanceType: 't3.large' },
    { InstanceId: 'i-2', LifecycleState: 'InService', InstanceType: 't3.large' },
    { InstanceId: 'i-3', LifecycleState: 'Pending', InstanceType: 't3.micro' },
  ];
  const counted = countHealthy(
    instances,
    [TG],
    new Map([[TG, [healthy('i-1'), healthy('i-2')]]]),
    unitWeightOf(weighted()),
  );
  t.like(counted, { inService: 4, healthy: 4, healthyInstanceIds: ['i-1', 'i-2'] });
  t.true(counted.healthy >= requiredHealthy(4, 100));
  const oneDown = countHealthy(instances, [TG], new Map([[TG, [healthy('i-1')]]]), unitWeightOf(weighted()));
  t.is(oneDown.healthy, 2, 'one instance of weight 2 short: 2 of 4');
  t.is(countHealthy(instances, [TG], new Map([[TG, [healthy('i-1'), healthy('i-2')]]])).healthy, 2, 'unweighted');
});
