import test from 'ava';
import {
  DEFAULT_THRESHOLDS,
  judgeMetric,
  scoreCanary,
  type MetricJudgement,
  type MetricVerdict,
} from '../../../src/verify/canary-analysis';
import { mannWhitneyGreater, proportionGreater, upperNormalTail } from '../../../src/verify/canary-statistics';

const latency: MetricJudgement = {
  name: 'p99',
  bad: 'higher',
  weight: 1,
  critical: false,
  tolerance: 0.2,
  minDelta: 5,
};
const errors: MetricJudgement = {
  name: 'errors',
  bad: 'higher',
  weight: 1,
  critical: true,
  tolerance: 0,
  minDelta: 0.01,
};

test('Mann–Whitney exact: 3 vs 3 all larger gives 1/20 (the floor at few periods); ties use the normal approximation', (t) => {
  const all = mannWhitneyGreater([10, 11, 12], [1, 2, 3]);
  t.is(all.u, 9);
  t.is(all.method, 'exact');
  t.is(all.pValue, 0.05);
  t.is(mannWhitneyGreater([1, 2, 3], [10, 11, 12]).pValue, 1);
  const tied = mannWhitneyGreater([5, 5, 6, 7], [5, 5, 5, 4]);
  t.is(tied.method, 'normal');
  t.true(tied.pValue > 0 && tied.pValue < 0.2);
  t.is(mannWhitneyGreater([], [1]).pValue, 1);
});

test('Mann–Whitney exact tail matches the table for n = m = 4 (counts by U: 1 1 2 3 5 5 7 7 8 7 7 5 5 3 2 1 1 of 70)', (t) => {
  const test1 = mannWhitneyGreater([5, 6, 7, 8], [1, 2, 3, 9]);
  t.is(test1.u, 12);
  t.is(Math.round(test1.pValue * 70), 12, 'P(U ≥ 12) = (5+3+2+1+1)/70');
  t.is(Math.round(mannWhitneyGreater([5, 6, 7, 9], [1, 2, 3, 8]).pValue * 70), 7, 'U = 13: (3+2+1+1)/70');
});

test('normal tail and two-proportion test', (t) => {
  t.true(Math.abs(upperNormalTail(1.959964) - 0.025) < 1e-4);
  t.true(Math.abs(upperNormalTail(-1.959964) - 0.975) < 1e-4);
  t.true(proportionGreater({ events: 10, total: 20 }, { events: 0, total: 180 }) < 1e-6);
  t.true(proportionGreater({ events: 1, total: 100 }, { events: 1, total: 100 }) > 0.49);
  t.is(proportionGreater({ events: 0, total: 0 }, { events: 1, total: 10 }), 1);
});

test('a 50 % failing canary at low traffic fails its error rate; the same rate as the baseline passes', (t) => {
  const failing = judgeMetric(errors, {
    kind: 'rate',
    canary: { events: 10, total: 20 },
    baseline: { events: 0, total: 180 },
    minTotal: 5,
  });
  t.is(failing.verdict, 'fail');
  t.is(failing.test, 'two-proportion');
  t.regex(failing.reason, /canary 0.5 vs baseline 0: higher/);
  const same = judgeMetric(errors, {
    kind: 'rate',
    canary: { events: 1, total: 100 },
    baseline: { events: 9, total: 900 },
    minTotal: 5,
  });
  t.is(same.verdict, 'pass');
  const quiet = judgeMetric(errors, {
    kind: 'rate',
    canary: { events: 2, total: 3 },
    baseline: { events: 0, total: 100 },
    minTotal: 5,
  });
  t.is(quiet.verdict, 'nodata');
});

test('latency: a clear regression fails, a small one within tolerance passes, noise is not significant', (t) => {
  const slow = judgeMetric(latency, {
    kind: 'series',
    canary: [200, 210, 190, 220, 205, 215],
    baseline: [50, 55, 48, 52, 51, 49],
  });
  t.is(slow.verdict, 'fail');
  t.is(slow.test, 'mann-whitney-exact');
  const small = judgeMetric(latency, { kind: 'series', canary: [52, 53, 54], baseline: [50, 50, 51] });
  t.is(small.verdict, 'pass');
  t.regex(small.reason, /within tolerance/);
  const noisy = judgeMetric(latency, { kind: 'series', canary: [10, 300, 20], baseline: [100, 30, 15] });
  t.not(noisy.verdict, 'fail');
  const faster = judgeMetric(latency, { kind: 'series', canary: [10, 11, 12], baseline: [100, 110, 120] });
  t.is(faster.verdict, 'pass', 'lower is not bad for latency');
  const either = judgeMetric(
    { ...latency, bad: 'either' },
    {
      kind: 'series',
      canary: [10, 11, 12, 10, 11, 12],
      baseline: [100, 110, 120, 100, 110, 120],
    },
  );
  t.is(either.verdict, 'fail', 'either direction: a drop is bad too');
});

const verdict = (name: string, v: MetricVerdict['verdict'], critical = false, weight = 1): MetricVerdict => ({
  name,
  verdict: v,
  critical,
  weight,
  reason: 'x',
});

test('score: weighted share of passing metrics, marginal half, nodata left out, critical failure 0', (t) => {
  t.is(scoreCanary([verdict('a', 'pass'), verdict('b', 'pass')], DEFAULT_THRESHOLDS, false).score, 100);
  const one = scoreCanary(
    [verdict('a', 'pass'), verdict('b', 'fail'), verdict('c', 'nodata')],
    DEFAULT_THRESHOLDS,
    false,
  );
  t.is(one.score, 50);
  t.is(one.verdict, 'fail');
  t.regex(one.reason, /b fail/);
  const weighted = scoreCanary([verdict('a', 'pass', false, 9), verdict('b', 'marginal')], DEFAULT_THRESHOLDS, false);
  t.is(weighted.score, 95);
  t.is(weighted.verdict, 'pass');
  const critical = scoreCanary(
    [verdict('a', 'pass', false, 99), verdict('e', 'fail', true)],
    DEFAULT_THRESHOLDS,
    false,
  );
  t.is(critical.score, 0);
  t.regex(critical.reason, /critical metric e failed/);
  t.is(scoreCanary([verdict('a', 'nodata')], DEFAULT_THRESHOLDS, false).score, 100);
});

test('marginal continues mid-way and fails at the last step', (t) => {
  const metrics = [verdict('a', 'pass', false, 4), verdict('b', 'fail')];
  t.is(scoreCanary(metrics, DEFAULT_THRESHOLDS, false).verdict, 'marginal');
  const last = scoreCanary(metrics, DEFAULT_THRESHOLDS, true);
  t.is(last.verdict, 'fail');
  t.regex(last.reason, /marginal at the last step fails/);
});
