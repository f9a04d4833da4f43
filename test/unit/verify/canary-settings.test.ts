import test from 'ava';
import { InputError } from '../../../src/core/errors';
import { withoutCanary, weightedActions } from '../../../src/traffic/listener-weights';
import { fillDimensions } from '../../../src/verify/canary-metrics';
import { judgeWindow, parseCanaryAnalysis } from '../../../src/verify/canary-settings';
import type { WindowData } from '../../../src/verify/canary-analysis';

test('canaryAnalysis: defaults, a user metric, and bad input naming the field', (t) => {
  const defaults = parseCanaryAnalysis(undefined);
  t.is(defaults.passScore, 95);
  t.is(defaults.marginalScore, 75);
  const parsed = parseCanaryAnalysis({
    passScore: 90,
    metrics: [
      {
        name: 'cpu',
        namespace: 'AWS/EC2',
        metricName: 'CPUUtilization',
        canaryDimensions: { AutoScalingGroupName: '{canaryServerGroup}' },
        baselineDimensions: { AutoScalingGroupName: '{baselineServerGroup}' },
      },
    ],
  });
  t.is(parsed.metrics[0]?.stat, 'Average');
  t.is(parsed.metrics[0]?.bad, 'higher');
  const bad = (value: unknown) => t.throws(() => parseCanaryAnalysis(value), { instanceOf: InputError });
  t.regex(bad({ passScore: 101 })?.message ?? '', /canaryAnalysis\.passScore/);
  t.regex(bad({ passScore: 50, marginalScore: 60 })?.message ?? '', /canaryAnalysis\.marginalScore/);
  t.regex(
    bad({ metrics: [{ name: 'errorRate', namespace: 'x', metricName: 'y' }] })?.message ?? '',
    /metrics\[0\]\.name/,
  );
  t.regex(
    bad({ metrics: [{ name: 'm', namespace: 'x', metricName: 'y', bad: 'up' }] })?.message ?? '',
    /metrics\[0\]\.bad/,
  );
  t.regex(bad({ colour: 1 })?.message ?? '', /canaryAnalysis/);
});

test('dimension placeholders name the sides', (t) => {
  const sides = {
    loadBalancer: 'app/lb/1',
    canaryTargetGroup: 'targetgroup/c/2',
    baselineTargetGroup: 'targetgroup/b/3',
    canaryServerGroup: 'web-prod-v002',
    baselineServerGroup: 'web-prod-v001',
  };
  t.deepEqual(fillDimensions({ AutoScalingGroupName: '{canaryServerGroup}', X: '{other}' }, sides), [
    { Name: 'AutoScalingGroupName', Value: 'web-prod-v002' },
    { Name: 'X', Value: '{other}' },
  ]);
});

test('a window with the canary failing half its requests fails on the critical error rate; a clean one passes', (t) => {
  const settings = parseCanaryAnalysis(undefined);
  const window = (canaryErrors: number): WindowData =>
    new Map([
      [
        'errorRate',
        {
          kind: 'rate',
          canary: { events: canaryErrors, total: 30 },
          baseline: { events: 0, total: 270 },
          minTotal: 20,
        },
      ],
      ['latencyP50', { kind: 'series', canary: [5, 6, 5], baseline: [5, 5, 6] }],
      ['latencyP99', { kind: 'series', canary: [9, 10, 9], baseline: [10, 9, 9] }],
    ]);
  const failing = judgeWindow(settings, window(15), false);
  t.is(failing.verdict, 'fail');
  t.is(failing.score, 0);
  const clean = judgeWindow(settings, window(0), true);
  t.is(clean.verdict, 'pass', clean.reason);
  t.is(clean.score, 100);
  t.deepEqual(
    clean.metrics.map((m) => `${m.name}:${m.verdict}`),
    ['errorRate:pass', 'latencyP50:pass', 'latencyP99:pass'],
  );
});

test('after a crash the canary leaves the live actions: a single production target group in its plain form', (t) => {
  const canary = 'arn:tg/c';
  const weighted = [
    {
      Type: 'forward' as const,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: 'arn:tg/p', Weight: 90 },
          { TargetGroupArn: canary, Weight: 10 },
        ],
        TargetGroupStickinessConfig: { Enabled: false },
      },
    },
    { Type: 'fixed-response' as const },
  ];
  t.deepEqual(withoutCanary(weighted, new Set([canary])), [
    { Type: 'forward', TargetGroupArn: 'arn:tg/p' },
    { Type: 'fixed-response' },
  ]);
  const sticky = withoutCanary(
    [
      {
        ...weighted[0]!,
        ForwardConfig: {
          ...weighted[0]!.ForwardConfig,
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 60 },
        },
      },
    ],
    new Set([canary]),
  );
  t.deepEqual(sticky[0]?.ForwardConfig?.TargetGroups, [{ TargetGroupArn: 'arn:tg/p', Weight: 1 }]);
  const site = {
    kind: 'listener' as const,
    arn: 'l',
    actions: [{ Type: 'forward' as const, TargetGroupArn: 'arn:tg/p' }],
    productionArn: 'arn:tg/p',
  };
  t.deepEqual(weightedActions(site, canary, 25)[0]?.ForwardConfig?.TargetGroups, [
    { TargetGroupArn: 'arn:tg/p', Weight: 75 },
    { TargetGroupArn: canary, Weight: 25 },
  ]);
});
