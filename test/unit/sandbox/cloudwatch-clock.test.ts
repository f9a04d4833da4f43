import test from 'ava';
import type { MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { evaluableRule } from '../../../src/sandbox/alarm-evaluator';
import { metricWindowMs, scaledPeriodMs } from '../../../src/sandbox/cloudwatch-clock';

test('metric windows are 10 AWS seconds scaled, whole seconds, at least 1 s; alarm periods are whole windows', (t) => {
  t.is(metricWindowMs(1), 10_000);
  t.is(metricWindowMs(0.05), 1_000);
  t.is(metricWindowMs(0.5), 5_000);
  t.is(scaledPeriodMs(60, 1), 60_000);
  t.is(scaledPeriodMs(60, 0.05), 3_000);
  t.is(scaledPeriodMs(10, 0.05), 1_000, 'shorter than a window: one window');
  t.is(scaledPeriodMs(300, 0.1), 30_000);
  t.is(scaledPeriodMs(60, 0.5), 30_000);
});

test('which alarms the sandbox evaluates', (t) => {
  const alarm: MetricAlarm = {
    AlarmName: 'a',
    Namespace: 'AWS/ApplicationELB',
    MetricName: 'HTTPCode_Target_5XX_Count',
    Statistic: 'Sum',
    Period: 60,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    Threshold: 5,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
  };
  t.deepEqual(evaluableRule(alarm), {
    comparisonOperator: 'GreaterThanThreshold',
    threshold: 5,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: 'notBreaching',
    statistic: 'Sum',
    periodSeconds: 60,
  });
  t.like(
    evaluableRule({ ...alarm, Statistic: undefined, ExtendedStatistic: 'p99' }),
    { statistic: 'p99' },
    'percentiles, from the measured samples',
  );
  t.is(evaluableRule({ ...alarm, Statistic: undefined, ExtendedStatistic: 'tm99' }), undefined, 'trimmed means');
  t.is(evaluableRule({ ...alarm, Metrics: [{ Id: 'e', Expression: 'm1*2' }] }), undefined, 'metric math');
  t.is(
    evaluableRule({ ...alarm, ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold' }),
    undefined,
    'anomaly detection',
  );
});
