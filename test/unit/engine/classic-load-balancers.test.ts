import test from 'ava';
import { countHealthy } from '../../../src/deploy/health-rules';
import { checkTrafficGuards } from '../../../src/deploy/traffic-guards';
import { InputError } from '../../../src/core/errors';
import type { ServerGroup } from '../../../src/cluster/server-groups';
import { targetHealthOfInstance, targetStateOfInstance } from '../../../src/traffic/classic-load-balancers';
import { attachmentFor, splitSources, trafficSourcesOf } from '../../../src/traffic/sources';
import { stillDraining } from '../../../src/traffic/traffic';

// Classic load balancers behind the Traffic interface: their DescribeInstanceHealth states map onto
// the target-group states, so the health rules, drain waits and guards read one shape.
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/0123456789abcdef';

test('CLB instance states map onto target-group states', (t) => {
  const state = (State: string, ReasonCode: string, Description: string) =>
    targetStateOfInstance({ InstanceId: 'i-1', State, ReasonCode, Description });
  t.is(state('InService', 'N/A', 'N/A'), 'healthy');
  t.is(state('OutOfService', 'ELB', 'Instance registration is still in progress.'), 'initial');
  t.is(
    state(
      'OutOfService',
      'Instance',
      'Instance has failed at least the UnhealthyThreshold number of health checks consecutively.',
    ),
    'unhealthy',
  );
  // Connection draining: AWS may say InService or OutOfService; the description is what tells.
  t.is(state('OutOfService', 'ELB', 'Instance deregistration currently in progress.'), 'draining');
  t.is(state('InService', 'N/A', 'Instance deregistration currently in progress.'), 'draining');
  t.is(state('Unknown', 'ELB', 'A transient error occurred. Please try again later.'), 'unavailable');
});

test('a failing CLB instance reads as failed health checks (a broken build only past the grace period)', (t) => {
  t.deepEqual(
    targetHealthOfInstance({ InstanceId: 'i-1', State: 'OutOfService', ReasonCode: 'Instance', Description: 'failed' }),
    {
      Target: { Id: 'i-1' },
      TargetHealth: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks', Description: 'failed' },
    },
  );
  t.deepEqual(
    targetHealthOfInstance({ InstanceId: 'i-2', State: 'InService', ReasonCode: 'N/A', Description: 'N/A' }),
    {
      Target: { Id: 'i-2' },
      TargetHealth: { State: 'healthy' },
    },
  );
});

test('sources: target group ARNs and CLB names apart, in the ASG fields that attach them', (t) => {
  t.deepEqual(splitSources([TG, 'web-elb']), { targetGroupArns: [TG], loadBalancerNames: ['web-elb'] });
  t.deepEqual(attachmentFor([TG, 'web-elb']), { TargetGroupARNs: [TG], LoadBalancerNames: ['web-elb'] });
  t.deepEqual(attachmentFor([TG]), { TargetGroupARNs: [TG] });
  t.deepEqual(trafficSourcesOf({ TargetGroupARNs: [TG], LoadBalancerNames: ['web-elb'] }), [TG, 'web-elb']);
});

test('healthy means healthy in every target group and InService in every CLB', (t) => {
  const health = new Map([
    [TG, [{ Target: { Id: 'i-1' }, TargetHealth: { State: 'healthy' as const } }]],
    [
      'web-elb',
      [
        targetHealthOfInstance({
          InstanceId: 'i-1',
          State: 'OutOfService',
          ReasonCode: 'ELB',
          Description: 'Instance registration is still in progress.',
        }),
      ],
    ],
  ]);
  const instances = [{ InstanceId: 'i-1', LifecycleState: 'InService' }];
  const counted = countHealthy(instances, [TG, 'web-elb'], health);
  t.is(counted.healthy, 0);
  t.deepEqual(counted.pending, ['i-1 web-elb initial (Elb.RegistrationInProgress)']);
  t.is(countHealthy(instances, [TG], health).healthy, 1);
});

test('an instance draining in a CLB is still draining', (t) => {
  const health = new Map([
    [
      'web-elb',
      [
        targetHealthOfInstance({
          InstanceId: 'i-1',
          State: 'OutOfService',
          ReasonCode: 'ELB',
          Description: 'Instance deregistration currently in progress.',
        }),
      ],
    ],
  ]);
  t.is(stillDraining(health, new Set(['i-1'])), 1);
  t.is(stillDraining(new Map([['web-elb', []]]), new Set(['i-1'])), 0);
});

test('the traffic guard names loadBalancerNames when a served CLB would be left', (t) => {
  const serving = {
    name: 'web-prod-v001',
    enabled: true,
    capacity: { min: 1, max: 2, desired: 1 },
    tags: {},
    targetGroupArns: [TG, 'web-elb'],
  } as unknown as ServerGroup;
  const error = t.throws(
    () => checkTrafficGuards({ groups: [serving], targetGroupArns: [TG], capacity: { min: 1, max: 2, desired: 1 } }),
    { instanceOf: InputError },
  );
  t.is(error?.field, 'loadBalancerNames');
  t.regex(error?.message ?? '', /would leave web-elb without servers/);
});
