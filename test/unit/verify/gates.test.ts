import test from 'ava';
import { DEFAULT_GATES, evaluateGates, parseGates } from '../../../src/verify/gates';
import { dimensionOf } from '../../../src/verify/metrics';

const sample = (requests: number, errors: number, latencyMs?: number) => ({
  requests,
  errors,
  errorRate: requests > 0 ? errors / requests : 0,
  ...(latencyMs !== undefined ? { latencyMs } : {}),
});

test('defaults: 5 % error ceiling, latency ratio 2 over the baseline with 100 ms slack, judged from 20 requests', (t) => {
  t.deepEqual(parseGates(undefined), DEFAULT_GATES);
  t.is(parseGates(false), false);
  t.deepEqual(parseGates({ maxLatencyMs: 500, maxLatencyRatio: null }), {
    maxErrorRate: 0.05,
    latencySlackMs: 100,
    minRequests: 20,
    maxLatencyMs: 500,
  });
});

test('bad gates input names the field', (t) => {
  t.throws(() => parseGates({ maxErrorRate: 2 }), {
    message: /^gates\.maxErrorRate: must be a number from 0 to 1 \(got 2\)$/,
  });
  t.throws(() => parseGates({ minRequests: 2.5 }), { message: /^gates\.minRequests: must be a whole number/ });
  t.throws(() => parseGates({ maxErrors: 1 }), { message: /gates\.maxErrors/ });
  t.throws(() => parseGates('strict'), { message: /^gates: must be an object/ });
});

test('a quiet window is not judged; a loud one is', (t) => {
  t.deepEqual(evaluateGates(sample(19, 19), DEFAULT_GATES), { judged: false, breaches: [] });
  t.deepEqual(evaluateGates(sample(100, 5), DEFAULT_GATES), { judged: true, breaches: [] });
  const verdict = evaluateGates(sample(100, 6), DEFAULT_GATES);
  t.deepEqual(verdict.breaches, ['error rate 6.0 % (6 of 100 requests) above maxErrorRate 5.0 %']);
});

test('relative limits need a baseline with enough requests; small latency changes stay within the slack', (t) => {
  const gates = { ...DEFAULT_GATES, maxErrorRateIncrease: 0.01 };
  t.deepEqual(evaluateGates(sample(100, 3, 10), gates, sample(100, 1, 4)).breaches, [
    "error rate 3.0 % (3 of 100 requests) more than 1.0 % over the baseline's 1.0 %",
  ]);
  t.deepEqual(evaluateGates(sample(100, 0, 50), gates, sample(100, 0, 2)).breaches, [], '25× but only 48 ms more');
  t.deepEqual(evaluateGates(sample(100, 0, 400), gates, sample(100, 0, 2)).breaches, [
    "latency 400 ms more than 2× the baseline's 2 ms",
  ]);
  t.deepEqual(
    evaluateGates(sample(100, 0, 400), gates, sample(5, 0, 2)).breaches,
    [],
    'a baseline of 5 requests is no baseline',
  );
  t.deepEqual(evaluateGates(sample(100, 0, 400), { ...gates, maxLatencyMs: 300 }).breaches, [
    'latency 400 ms above maxLatencyMs 300 ms',
  ]);
});

test('CloudWatch dimensions from ARNs, as AWS names them', (t) => {
  t.is(
    dimensionOf(
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/73e2d6bc24d8a067',
      'targetgroup',
    ),
    'targetgroup/web-tg/73e2d6bc24d8a067',
  );
  t.is(
    dimensionOf(
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web-lb/50dc6c495c0c9188',
      'loadbalancer',
    ),
    'app/web-lb/50dc6c495c0c9188',
  );
});
