import test from 'ava';
import {
  chooseAction,
  listenerRulesOf,
  redirectLocation,
  routeActionOf,
  wildcardMatch,
  type RouteAction,
} from '../../../src/sandbox/listeners';

const forwardTo = (arn: string): RouteAction => ({ kind: 'forward', forward: [{ targetGroupArn: arn, weight: 1 }] });
const get = (url: string, headers: Record<string, string> = {}) => ({
  method: 'GET',
  url,
  headers: { host: 'app.example.com:80', ...headers },
});

test('wildcards: * is any run, ? one character, the rest literal', (t) => {
  t.true(wildcardMatch('/api/*', '/api/users/1'));
  t.true(wildcardMatch('/img/?.png', '/img/a.png'));
  t.false(wildcardMatch('/img/?.png', '/img/ab.png'));
  t.false(wildcardMatch('/api.v1', '/apixv1'), 'a dot is literal');
  t.false(wildcardMatch('/API/*', '/api/x'), 'paths are case-sensitive');
  t.true(wildcardMatch('*.EXAMPLE.com', 'app.example.com', true), 'hosts are not');
});

test('rules from DescribeRules: default rule left out, sorted by priority, every condition shape read', (t) => {
  const rules = listenerRulesOf([
    {
      RuleArn: 'r-default',
      Priority: 'default',
      IsDefault: true,
      Actions: [{ Type: 'forward', TargetGroupArn: 'tg-main' }],
    },
    {
      RuleArn: 'r-20',
      Priority: '20',
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['beta.*'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: 'tg-beta' }],
    },
    {
      RuleArn: 'r-10',
      Priority: '10',
      Conditions: [{ Field: 'path-pattern', Values: ['/api/*'] }],
      Actions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: { StatusCode: '418', ContentType: 'text/plain', MessageBody: 'teapot' },
        },
      ],
    },
  ]);
  t.deepEqual(
    rules.map((r) => r.arn),
    ['r-10', 'r-20'],
  );
  t.deepEqual(rules[0]?.conditions, [{ field: 'path-pattern', values: ['/api/*'] }]);
  t.deepEqual(rules[0]?.action, { kind: 'fixed-response', status: 418, contentType: 'text/plain', body: 'teapot' });
});

test('the first rule whose conditions all match decides; else the default action', (t) => {
  const rules = listenerRulesOf([
    {
      RuleArn: 'api-post',
      Priority: '1',
      Conditions: [
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } },
        { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['POST'] } },
      ],
      Actions: [{ Type: 'forward', TargetGroupArn: 'tg-write' }],
    },
    {
      RuleArn: 'api',
      Priority: '2',
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: 'tg-api' }],
    },
    {
      RuleArn: 'canary-header',
      Priority: '3',
      Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Canary', Values: ['yes'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: 'tg-canary' }],
    },
    {
      RuleArn: 'query',
      Priority: '4',
      Conditions: [{ Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'v', Value: '2*' }] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: 'tg-v2' }],
    },
    {
      RuleArn: 'never',
      Priority: '5',
      Conditions: [{ Field: 'source-ip', SourceIpConfig: { Values: ['0.0.0.0/0'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: 'tg-never' }],
    },
  ]);
  const main = forwardTo('tg-main');
  t.deepEqual(chooseAction(rules, main, get('/api/x')), forwardTo('tg-api'));
  t.deepEqual(chooseAction(rules, main, { ...get('/api/x'), method: 'POST' }), forwardTo('tg-write'));
  t.deepEqual(chooseAction(rules, main, get('/', { 'x-canary': 'YES' })), forwardTo('tg-canary'));
  t.deepEqual(chooseAction(rules, main, get('/?v=2.1')), forwardTo('tg-v2'));
  t.deepEqual(chooseAction(rules, main, get('/apix')), main, 'no rule matches: the default action');
});

test('default actions: forward, redirect with placeholders, unsupported types', (t) => {
  t.deepEqual(routeActionOf([{ Type: 'forward', TargetGroupArn: 'a' }]), forwardTo('a'));
  const redirect = routeActionOf([
    { Type: 'redirect', RedirectConfig: { StatusCode: 'HTTP_302', Path: '/new/#{path}' } },
  ]);
  t.is(redirect.kind, 'redirect');
  if (redirect.kind === 'redirect') {
    t.is(redirect.status, 302);
    t.is(redirectLocation(redirect.location, get('/old?a=1'), 80), 'http://app.example.com:80/new/old?a=1');
  }
  t.deepEqual(routeActionOf([{ Type: 'authenticate-oidc', Order: 1 }]), {
    kind: 'unsupported',
    type: 'authenticate-oidc',
  });
});
