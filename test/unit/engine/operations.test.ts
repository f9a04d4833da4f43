import test from 'ava';
import { Tag } from '../../../src/aws/tags';
import { asgSettingsOf, userTagsOf } from '../../../src/deploy/copy-settings';
import { groupsToDisable, servingTargets } from '../../../src/deploy/operations/disable-cluster';
import { scaleDownDecision } from '../../../src/deploy/operations/scale-down-cluster';
import { groupsToShrink } from '../../../src/deploy/operations/shrink-cluster';
import { group, healthOf } from './helpers';

test('disable cluster: every other enabled group, and a "disabled" one whose instances still take requests', (t) => {
  const old = group('web-prod-v001', { enabled: false });
  const halfDisabled = group('web-prod-v002', { enabled: false, suspendedProcesses: ['AddToLoadBalancer'] });
  const other = group('web-prod-v003');
  const serving = group('web-prod-v004');
  const health = healthOf([
    [old, 'draining'],
    [halfDisabled, 'healthy'],
    [other, 'healthy'],
    [serving, 'healthy'],
  ]);
  t.deepEqual(
    groupsToDisable([old, halfDisabled, other, serving], 'web-prod-v004', health).map((g) => g.name),
    ['web-prod-v002', 'web-prod-v003'],
  );
  t.deepEqual(groupsToDisable([serving], 'web-prod-v004', health), [], 'the serving group never');
});

test('serving targets: registered and neither draining nor unused, counted in every target group of the group', (t) => {
  const g = group('web-prod-v001');
  t.is(servingTargets(g, healthOf([[g, 'healthy']])), 2);
  t.is(
    servingTargets(g, healthOf([[g, 'initial']])),
    2,
    'a target still in its first health checks already gets requests',
  );
  t.is(servingTargets(g, healthOf([[g, 'draining']])), 0);
  t.is(servingTargets(g, healthOf([[g, 'unused']])), 0);
  t.is(servingTargets(g, new Map()), 0);
  t.is(
    servingTargets(group('web-prod-v002'), healthOf([[g, 'healthy']])),
    0,
    "another group's targets are not its own",
  );
});

test('scale down cluster: at 0 or never disabled → nothing; due → scale down; not yet → keep warm', (t) => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const running = { min: 2, max: 4, desired: 2 };
  t.is(scaleDownDecision({ min: 0, max: 4, desired: 0 }, '2026-01-01T11:00:00Z', now), 'nothing');
  t.is(scaleDownDecision(running, undefined, now), 'nothing');
  t.is(scaleDownDecision(running, '2026-01-01T11:59:59Z', now), 'scale-down');
  t.is(scaleDownDecision(running, '2026-01-01T12:00:00Z', now), 'scale-down', 'due exactly now');
  t.is(scaleDownDecision(running, '2026-01-01T12:30:00Z', now), 'keep-warm');
  t.is(
    scaleDownDecision({ min: 1, max: 4, desired: 0 }, '2026-01-01T11:00:00Z', now),
    'scale-down',
    'a min left above 0 still goes to 0',
  );
});

test('shrink cluster: disabled groups older than the serving one beyond keepPrevious, never a warm one', (t) => {
  const groups = [
    group('web-prod-v001', { enabled: false }),
    group('web-prod-v002', { enabled: false }),
    group('web-prod-v003', { enabled: false }),
    group('web-prod-v004'),
    group('web-prod-v005', { enabled: false }),
  ];
  t.deepEqual(groupsToShrink(groups, 'web-prod-v004', 1), ['web-prod-v001', 'web-prod-v002']);
  t.deepEqual(groupsToShrink(groups, 'web-prod-v004', 0), ['web-prod-v001', 'web-prod-v002', 'web-prod-v003']);
  t.deepEqual(
    groupsToShrink(groups, 'web-prod-v004', 0, ['web-prod-v003']),
    ['web-prod-v001', 'web-prod-v002'],
    'warm groups stay',
  );
  t.deepEqual(groupsToShrink(groups, 'web-prod-v004', 3), []);
  t.false(
    groupsToShrink(groups, 'web-prod-v004', 0).includes('web-prod-v005'),
    'never a group newer than the serving one',
  );
});

test("a new group copies the source's own settings, set fields only, and none of the processes disable suspends", (t) => {
  const settings = asgSettingsOf({
    AutoScalingGroupName: 'web-prod-v001',
    HealthCheckType: 'ELB',
    HealthCheckGracePeriod: 0,
    TerminationPolicies: [],
    DefaultCooldown: 120,
    NewInstancesProtectedFromScaleIn: false,
    MaxInstanceLifetime: 0,
    SuspendedProcesses: [
      { ProcessName: 'AZRebalance' },
      { ProcessName: 'AddToLoadBalancer' },
      { ProcessName: 'Launch' },
    ],
    Tags: [{ Key: Tag.cluster, Value: 'web-prod' }],
  } as never);
  t.deepEqual(settings, {
    group: {
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 0,
      DefaultCooldown: 120,
      NewInstancesProtectedFromScaleIn: false,
    },
    suspendedProcesses: ['AZRebalance'],
  });
  t.deepEqual(asgSettingsOf({ AutoScalingGroupName: 'bare' } as never), { group: {}, suspendedProcesses: [] });
});

test("a new group keeps the source's own tags with their propagate flag, not bluegreen's or AWS's", (t) => {
  const tags = userTagsOf({
    Tags: [
      { Key: 'team', Value: 'web', PropagateAtLaunch: true },
      { Key: 'cost-centre', Value: '42' },
      { Key: Tag.phase, Value: 'done' },
      { Key: 'aws:cloudformation:stack-name', Value: 'x' },
    ],
  } as never);
  t.deepEqual(tags, [
    { key: 'team', value: 'web', propagateAtLaunch: true },
    { key: 'cost-centre', value: '42', propagateAtLaunch: false },
  ]);
});
