import test from 'ava';
import { InputError } from '../../../src/core/errors';
import { parseClusterName } from '../../../src/core/naming';
import { describePlan, groupsBeyondKeep, newestEnabled, planDeploy } from '../../../src/deploy/plan';
import type { DeployRequest } from '../../../src/deploy/request';
import { TG, group } from './helpers';

function request(overrides: Partial<DeployRequest> = {}): DeployRequest {
  return {
    cluster: parseClusterName('web-prod'),
    region: 'us-east-1',
    amiId: 'ami-0123456789abcdef0',
    launch: {},
    healthTimeoutSeconds: 600,
    targetHealthyPercent: 100,
    keepPrevious: 1,
    scaleDownDelaySeconds: 0,
    ledger: { bucket: 'ledger', prefix: 'bluegreen' },
    build: {},
    tags: {},
    plan: false,
    breakExpiredLock: false,
    lockLeaseSeconds: 120,
    lockWaitSeconds: 0,
    ...overrides,
  };
}

const firstDeploy = { targetGroupArns: [TG], subnets: ['subnet-0123456789abcdef0'] };
const noOverrides = { targetGroupArns: undefined, subnets: undefined };

test('first deploy: v000, capacity, target groups and subnets from the request, nothing to disable', (t) => {
  const plan = planDeploy([], request({ capacity: { min: 1, max: 3, desired: 2 } }), firstDeploy);
  t.is(plan.newServerGroup, 'web-prod-v000');
  t.is(plan.source, undefined);
  t.deepEqual(plan.capacity, { min: 1, max: 3, desired: 2 });
  t.deepEqual(plan.targetGroupArns, [TG]);
  t.deepEqual(plan.toDisable, []);
  t.deepEqual(plan.toDestroy, []);
  t.regex(describePlan(plan, 'ami-0123456789abcdef0'), /disable: nothing \(first deploy\)/);
});

test('first deploy: capacity, target groups and subnets are required, each named', (t) => {
  const field = (fn: () => unknown) => t.throws(fn, { instanceOf: InputError })?.field;
  t.is(
    field(() => planDeploy([], request(), firstDeploy)),
    'capacity',
  );
  t.is(
    field(() =>
      planDeploy([], request({ capacity: { min: 1, max: 1, desired: 1 } }), {
        ...firstDeploy,
        targetGroupArns: undefined,
      }),
    ),
    'targetGroups',
  );
  t.is(
    field(() =>
      planDeploy([], request({ capacity: { min: 1, max: 1, desired: 1 } }), { ...firstDeploy, subnets: undefined }),
    ),
    'subnets',
  );
});

test('next deploy copies from the newest enabled group and disables every enabled one', (t) => {
  const old = group('web-prod-v001', { enabled: false, capacity: { min: 0, max: 4, desired: 0 } });
  const serving = group('web-prod-v002', {
    capacity: { min: 2, max: 6, desired: 3 },
    asg: { VPCZoneIdentifier: 'subnet-a,subnet-b' } as never,
  });
  const plan = planDeploy([old, serving], request(), noOverrides);
  t.is(plan.newServerGroup, 'web-prod-v003');
  t.is(plan.source?.name, 'web-prod-v002');
  t.deepEqual(plan.capacity, { min: 2, max: 6, desired: 3 });
  t.deepEqual(plan.subnets, ['subnet-a', 'subnet-b']);
  t.deepEqual(plan.toDisable, ['web-prod-v002']);
  t.deepEqual(plan.toDestroy, ['web-prod-v001'], 'keepPrevious 1: v002 stays as the rollback target, v001 goes');
});

test('keepPrevious bounds the disabled groups left after the deploy', (t) => {
  const groups = [
    group('web-prod-v001', { enabled: false }),
    group('web-prod-v002', { enabled: false }),
    group('web-prod-v003'),
  ];
  t.deepEqual(planDeploy(groups, request({ keepPrevious: 1 }), noOverrides).toDestroy, [
    'web-prod-v001',
    'web-prod-v002',
  ]);
  t.deepEqual(planDeploy(groups, request({ keepPrevious: 2 }), noOverrides).toDestroy, ['web-prod-v001']);
  t.deepEqual(planDeploy(groups, request({ keepPrevious: 5 }), noOverrides).toDestroy, []);
});

test('the newest enabled group with instances is the source; an empty enabled one only when none has any', (t) => {
  const withInstances = group('web-prod-v001');
  const empty = group('web-prod-v002', { capacity: { min: 0, max: 2, desired: 0 } });
  t.is(newestEnabled([withInstances, empty])?.name, 'web-prod-v001');
  t.is(newestEnabled([group('web-prod-v001', { enabled: false }), empty])?.name, 'web-prod-v002');
  t.is(newestEnabled([group('web-prod-v001', { enabled: false })]), undefined);
});

test('groups beyond keep: only disabled groups older than the kept one, never a newer one', (t) => {
  const groups = ['v001', 'v002', 'v003', 'v004'].map((v) => group(`web-prod-${v}`, { enabled: v === 'v003' }));
  t.deepEqual(groupsBeyondKeep(groups, 'web-prod-v003', 1), ['web-prod-v001']);
  t.deepEqual(groupsBeyondKeep(groups, 'web-prod-v003', 0), ['web-prod-v001', 'web-prod-v002']);
  t.deepEqual(
    groupsBeyondKeep(groups, 'web-prod-v003', 0, ['web-prod-v003']),
    ['web-prod-v001', 'web-prod-v002'],
    'the kept group itself never',
  );
});

test('sequence numbers wrap at 1000 and skip names in use', (t) => {
  const plan = planDeploy(
    [group('web-prod-v999'), group('web-prod-v000', { enabled: false, createdTime: new Date(0) })],
    request(),
    noOverrides,
  );
  t.is(plan.newServerGroup, 'web-prod-v001', 'v000 exists, so after v999 comes v001');
});
