import test from 'ava';
import { classicFactsOf, find, membersOf, parseHealthTarget, parseXml } from '../../../src/sandbox/classic-elb';
import { rewriteInstanceHealth } from '../../../src/sandbox/clb-health';
import { droppedByMoto } from '../../../src/sandbox/clb-membership';
import type { WorldSnapshot } from '../../../src/sandbox/moto-world';
import { callEventOf } from '../../../src/sandbox/timeline';
import { worldScopeOf } from '../../../src/sandbox/world-effects';
import { emptyScope } from '../../../src/sandbox/world-scope';

const DESCRIBED =
  '<?xml version="1.0"?><DescribeLoadBalancersResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/"><DescribeLoadBalancersResult><LoadBalancerDescriptions><member>' +
  '<LoadBalancerName>web</LoadBalancerName><DNSName>web.us-east-1.elb.amazonaws.com</DNSName>' +
  '<ListenerDescriptions><member><Listener><Protocol>HTTP</Protocol><LoadBalancerPort>80</LoadBalancerPort><InstanceProtocol>HTTP</InstanceProtocol><InstancePort>8080</InstancePort></Listener><PolicyNames/></member></ListenerDescriptions>' +
  '<Subnets><member>subnet-1</member></Subnets><Instances><member><InstanceId>i-a</InstanceId></member><member><InstanceId>i-b</InstanceId></member></Instances>' +
  '<HealthCheck><Target>HTTP:8080/health</Target><Interval>10</Interval><Timeout>5</Timeout><UnhealthyThreshold>2</UnhealthyThreshold><HealthyThreshold>3</HealthyThreshold></HealthCheck>' +
  '</member></LoadBalancerDescriptions></DescribeLoadBalancersResult></DescribeLoadBalancersResponse>';

test("a CLB's facts from moto's DescribeLoadBalancers XML", (t) => {
  const [member] = membersOf(find(parseXml(DESCRIBED), 'LoadBalancerDescriptions'));
  t.deepEqual(classicFactsOf(member!), {
    name: 'web',
    dnsName: 'web.us-east-1.elb.amazonaws.com',
    listeners: [{ protocol: 'HTTP', loadBalancerPort: 80, instancePort: 8080 }],
    healthCheck: {
      target: 'HTTP:8080/health',
      intervalSeconds: 10,
      timeoutSeconds: 5,
      healthyThreshold: 3,
      unhealthyThreshold: 2,
    },
    instances: ['i-a', 'i-b'],
  });
  t.deepEqual(parseHealthTarget('HTTP:80/health'), { kind: 'http', path: '/health' });
  t.deepEqual(parseHealthTarget('TCP:22'), { kind: 'tcp', path: '' });
});

test('DescribeInstanceHealth is rewritten from the real checks; unknown instances are still registering', (t) => {
  const xml =
    '<InstanceStates><member><InstanceId>i-a</InstanceId><State>InService</State><ReasonCode>N/A</ReasonCode><Description>N/A</Description></member>' +
    '<member><InstanceId>i-b</InstanceId><State>InService</State><ReasonCode>N/A</ReasonCode><Description>N/A</Description></member></InstanceStates>';
  const out = rewriteInstanceHealth(xml, 'web', (_lb, id) =>
    id === 'i-a' ? { state: 'OutOfService', reasonCode: 'Instance', description: 'failed' } : undefined,
  );
  t.regex(
    out,
    /<InstanceId>i-a<\/InstanceId><State>OutOfService<\/State><ReasonCode>Instance<\/ReasonCode><Description>failed<\/Description>/,
  );
  t.regex(
    out,
    /<InstanceId>i-b<\/InstanceId><State>OutOfService<\/State><ReasonCode>ELB<\/ReasonCode><Description>Instance registration is still in progress.<\/Description>/,
  );
});

function world(instances: [string, string | undefined][], clb: string[]): WorldSnapshot {
  return {
    instances: new Map(
      instances.map(([id, asgName]) => [id, { id, amiId: 'ami', state: 'running', ...(asgName ? { asgName } : {}) }]),
    ),
    imageTags: new Map(),
    targetGroups: new Map(),
    listeners: new Map(),
    asgs: new Map(),
    classicLoadBalancers: new Map([
      [
        'web',
        {
          name: 'web',
          dnsName: '',
          listeners: [],
          healthCheck: {
            target: 'TCP:80',
            intervalSeconds: 30,
            timeoutSeconds: 5,
            healthyThreshold: 10,
            unhealthyThreshold: 2,
          },
          instances: clb,
        },
      ],
    ]),
  };
}

test("instances moto's Auto Scaling dropped from a CLB by mistake: not of the group named, still running", (t) => {
  const members: [string, string | undefined][] = [
    ['i-old', 'app-v001'],
    ['i-new', 'app-v002'],
    ['i-manual', undefined],
  ];
  const before = world(members, ['i-old', 'i-manual', 'i-new']);
  const after = world(members, ['i-new']);
  const scope = { ...emptyScope(), asgNames: new Set(['app-v002']) };
  t.deepEqual([...droppedByMoto(before, after, scope)], [['web', ['i-old', 'i-manual']]]);
  const scaleIn = world(members, ['i-old', 'i-manual']);
  t.is(droppedByMoto(before, scaleIn, scope).size, 0, 'the named group losing its own instance is a real scale-in');
  t.is(
    droppedByMoto(before, after, { ...scope, classicLoadBalancers: true }).size,
    0,
    'a classic ELB call deregisters for real',
  );
});

test('classic ELB calls re-read the CLBs; unknown ones read everything', (t) => {
  const call = (action: string) => ({
    service: 'elasticloadbalancing',
    action,
    mutating: true,
    params: new URLSearchParams({ Action: action, Version: '2012-06-01', LoadBalancerName: 'web' }),
  });
  const some = world([], []);
  t.true(worldScopeOf(call('RegisterInstancesWithLoadBalancer'), some).classicLoadBalancers);
  t.false(worldScopeOf(call('RegisterInstancesWithLoadBalancer'), some).full);
  t.true(worldScopeOf(call('SomethingNew'), some).full);
});

test('a classic ELB call event names its load balancer and instances', (t) => {
  const event = callEventOf(
    {
      service: 'elasticloadbalancing',
      action: 'DeregisterInstancesFromLoadBalancer',
      mutating: true,
      params: new URLSearchParams({
        LoadBalancerName: 'web',
        'Instances.member.1.InstanceId': 'i-a',
        'Instances.member.2.InstanceId': 'i-b',
      }),
    },
    1,
  );
  t.like(event, { loadBalancerName: 'web', targetIds: ['i-a', 'i-b'] });
});

test('DescribeInstanceHealth lists instances still draining after moto dropped them, as AWS does', (t) => {
  const xml =
    '<DescribeInstanceHealthResult><InstanceStates><member><InstanceId>i-a</InstanceId><State>InService</State><ReasonCode>N/A</ReasonCode><Description>N/A</Description></member></InstanceStates></DescribeInstanceHealthResult>';
  const health = (_lb: string, id: string) =>
    id === 'i-a' ? ({ state: 'InService', reasonCode: 'N/A', description: 'N/A' } as const) : undefined;
  const out = rewriteInstanceHealth(xml, 'web', health, ['i-b', 'i-a']);
  t.regex(
    out,
    /<InstanceId>i-b<\/InstanceId><State>OutOfService<\/State><ReasonCode>ELB<\/ReasonCode><Description>Instance deregistration currently in progress.<\/Description>/,
  );
  t.is(out.match(/<InstanceId>i-a</g)?.length, 1);
  const empty = rewriteInstanceHealth('<InstanceStates/>', 'web', health, ['i-b']);
  t.regex(empty, /^<InstanceStates><member><InstanceId>i-b<\/InstanceId>/);
});
