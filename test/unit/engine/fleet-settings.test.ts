import test from 'ava';
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { asgSettingsOf } from '../../../src/deploy/copy-settings';
import { checkOverrideTemplates, mixedInstancesPolicyFor, warmPoolOf } from '../../../src/deploy/fleet-settings';
import { recordedLaunchSettings } from '../../../src/deploy/launch-template';
import { BluegreenError } from '../../../src/core/errors';

const OLD = { LaunchTemplateId: 'lt-old', LaunchTemplateName: 'web-prod-v001', Version: '1' };
const NEW = { id: 'lt-new', name: 'web-prod-v002', version: '1' };

function mixedGroup(
  overrides: NonNullable<AutoScalingGroup['MixedInstancesPolicy']>['LaunchTemplate'],
): AutoScalingGroup {
  return {
    AutoScalingGroupName: 'web-prod-v001',
    MixedInstancesPolicy: {
      LaunchTemplate: overrides,
      InstancesDistribution: {
        OnDemandBaseCapacity: 0,
        OnDemandPercentageAboveBaseCapacity: 25,
        SpotAllocationStrategy: 'price-capacity-optimized',
        OnDemandAllocationStrategy: 'prioritized',
      },
    },
  } as AutoScalingGroup;
}

test('a mixed instances policy goes over pointed at the new template: overrides, weights, requirements, distribution kept', (t) => {
  const asg = mixedGroup({
    LaunchTemplateSpecification: OLD,
    Overrides: [
      { InstanceType: 't3.micro', WeightedCapacity: '1' },
      {
        InstanceType: 't3a.micro',
        WeightedCapacity: '2',
        LaunchTemplateSpecification: { LaunchTemplateId: 'lt-old', Version: '1' },
      },
      { InstanceRequirements: { VCpuCount: { Min: 1, Max: 2 }, MemoryMiB: { Min: 512 } } },
    ],
  });
  const policy = mixedInstancesPolicyFor(asg.MixedInstancesPolicy!, NEW);
  t.deepEqual(policy, {
    LaunchTemplate: {
      LaunchTemplateSpecification: { LaunchTemplateId: 'lt-new', Version: '1' },
      Overrides: [
        { InstanceType: 't3.micro', WeightedCapacity: '1' },
        {
          InstanceType: 't3a.micro',
          WeightedCapacity: '2',
          LaunchTemplateSpecification: { LaunchTemplateId: 'lt-new', Version: '1' },
        },
        { InstanceRequirements: { VCpuCount: { Min: 1, Max: 2 }, MemoryMiB: { Min: 512 } } },
      ],
    },
    InstancesDistribution: asg.MixedInstancesPolicy!.InstancesDistribution,
  });
  t.is(asg.MixedInstancesPolicy!.LaunchTemplate!.LaunchTemplateSpecification, OLD, 'the source is not changed');
});

test('an override naming another launch template (its own AMI) is bad input naming the field, before anything changes', (t) => {
  const asg = mixedGroup({
    LaunchTemplateSpecification: OLD,
    Overrides: [
      { InstanceType: 't3.micro' },
      {
        InstanceType: 't4g.micro',
        LaunchTemplateSpecification: { LaunchTemplateName: 'web-arm64', Version: '$Latest' },
      },
    ],
  });
  const error = t.throws(() => checkOverrideTemplates(asg));
  t.true(error instanceof BluegreenError);
  t.is((error as BluegreenError).exitCode, 2);
  t.regex(
    error!.message,
    /^MixedInstancesPolicy\.LaunchTemplate\.Overrides\[1\]\.LaunchTemplateSpecification: .*web-arm64/,
  );
  t.notThrows(() => checkOverrideTemplates({ AutoScalingGroupName: 'plain' } as AutoScalingGroup), 'no policy: fine');
  t.notThrows(() =>
    checkOverrideTemplates(
      mixedGroup({
        LaunchTemplateSpecification: OLD,
        Overrides: [{ InstanceType: 't3.micro', LaunchTemplateSpecification: { LaunchTemplateName: 'web-prod-v001' } }],
      }),
    ),
  );
});

test('a new group copies every group setting a user set, the mixed policy and the warm pool', (t) => {
  const asg = {
    ...mixedGroup({ LaunchTemplateSpecification: OLD, Overrides: [{ InstanceType: 't3.micro' }] }),
    DefaultInstanceWarmup: 60,
    DesiredCapacityType: 'units',
    Context: 'team-a',
    PlacementGroup: 'pg-1',
    InstanceMaintenancePolicy: { MinHealthyPercentage: 90, MaxHealthyPercentage: 120 },
    CapacityReservationSpecification: { CapacityReservationPreference: 'capacity-reservations-first' },
    AvailabilityZoneDistribution: { CapacityDistributionStrategy: 'balanced-best-effort' },
    WarmPoolConfiguration: {
      MinSize: 1,
      MaxGroupPreparedCapacity: 3,
      PoolState: 'Stopped',
      Status: 'PendingDelete',
      InstanceReusePolicy: { ReuseOnScaleIn: true },
    },
    WarmPoolSize: 1,
  } as AutoScalingGroup;
  const settings = asgSettingsOf(asg);
  t.like(settings.group, {
    DefaultInstanceWarmup: 60,
    DesiredCapacityType: 'units',
    Context: 'team-a',
    PlacementGroup: 'pg-1',
    InstanceMaintenancePolicy: { MinHealthyPercentage: 90, MaxHealthyPercentage: 120 },
    CapacityReservationSpecification: { CapacityReservationPreference: 'capacity-reservations-first' },
    AvailabilityZoneDistribution: { CapacityDistributionStrategy: 'balanced-best-effort' },
  });
  t.is(settings.mixedInstancesPolicy, asg.MixedInstancesPolicy);
  t.deepEqual(settings.warmPool, {
    MinSize: 1,
    MaxGroupPreparedCapacity: 3,
    PoolState: 'Stopped',
    InstanceReusePolicy: { ReuseOnScaleIn: true },
  });
  t.is(warmPoolOf({ AutoScalingGroupName: 'x' } as AutoScalingGroup), undefined);
});

test('the ledger keeps the mixed policy and the warm pool for a redeploy, never the user data', (t) => {
  const recorded = recordedLaunchSettings(
    { ImageId: 'ami-1', InstanceType: 't3.micro', UserData: Buffer.from('PASSWORD=x').toString('base64') },
    NEW,
    { subnets: ['subnet-1'], targetGroupArns: ['arn:tg'], capacity: { min: 2, max: 4, desired: 2 } },
    {
      mixedInstancesPolicy: { LaunchTemplate: { Overrides: [{ InstanceType: 't3a.micro' }] } },
      warmPool: { MinSize: 1, PoolState: 'Stopped' },
    },
  );
  t.deepEqual(recorded.mixedInstancesPolicy, { LaunchTemplate: { Overrides: [{ InstanceType: 't3a.micro' }] } });
  t.deepEqual(recorded.warmPool, { MinSize: 1, PoolState: 'Stopped' });
  t.false(JSON.stringify(recorded).includes('PASSWORD'));
});
