import test from 'ava';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { answerGetMetricData, answerGetMetricStatistics } from '../../../src/sandbox/metric-queries';
import {
  MAX_SAMPLES,
  nearestRank,
  percentileOf,
  ResponseTimeSamples,
  type SeriesId,
} from '../../../src/sandbox/percentiles';

const series: SeriesId = {
  namespace: 'AWS/ApplicationELB',
  metricName: 'TargetResponseTime',
  dimensions: [
    { Name: 'TargetGroup', Value: 'targetgroup/canary/1' },
    { Name: 'LoadBalancer', Value: 'app/demo/2' },
  ],
};
const start = Date.UTC(2026, 11, 6, 10, 0, 0);
/** 1..100 ms in one window, 1 s after `start`. */
const hundred = Array.from({ length: 100 }, (_, i) => (i + 1) / 1000);
/** Never asked of moto: every query here is a percentile one. */
const noMoto = {} as CloudWatchClient;

test('percentile names and nearest-rank percentiles', (t) => {
  t.is(percentileOf('p99'), 99);
  t.is(percentileOf('p99.9'), 99.9);
  t.is(percentileOf('p100'), 100);
  t.is(percentileOf('Average'), undefined);
  t.is(percentileOf('tm99'), undefined);
  t.is(nearestRank(hundred, 50), 0.05);
  t.is(nearestRank(hundred, 90), 0.09);
  t.is(nearestRank(hundred, 99), 0.099);
  t.is(nearestRank([0.3], 1), 0.3);
});

test('samples per period, whatever the order of the dimensions asked', (t) => {
  const samples = new ResponseTimeSamples();
  samples.record(series, start + 1000, hundred);
  samples.record(series, start + 61_000, [0.5]);
  const reversed = { ...series, dimensions: [...series.dimensions].reverse() };
  const periods = samples.periods(reversed, start, start + 120_000, 60_000);
  t.is(periods.length, 2);
  t.like(periods[0], { timestamp: start, sampleCount: 100, minimum: 0.001, maximum: 0.1 });
  t.like(periods[1], { timestamp: start + 60_000, sampleCount: 1 });
  t.false(
    samples.has({ ...series, dimensions: [series.dimensions[1]!] }),
    'a subset of the dimensions is another series',
  );
});

test('samples are bounded: the oldest windows go first', (t) => {
  const samples = new ResponseTimeSamples();
  const block = Array.from({ length: 100_000 }, () => 0.01);
  for (let i = 0; i < 7; i += 1) samples.record(series, start + i * 1000, block);
  t.true(samples.size() <= MAX_SAMPLES);
  t.is(samples.periods(series, start, start + 1000, 1000).length, 0, 'the first window was dropped');
  t.is(samples.periods(series, start + 6000, start + 7000, 1000).length, 1);
});

test('GetMetricData with a percentile Stat, JSON and Query protocols, newest first by default', async (t) => {
  const samples = new ResponseTimeSamples();
  samples.record(series, start + 1000, hundred);
  samples.record(series, start + 61_000, [0.5]);
  const query = {
    Id: 'p90',
    MetricStat: {
      Metric: { Namespace: series.namespace, MetricName: series.metricName, Dimensions: series.dimensions },
      Period: 60,
      Stat: 'p90',
    },
  };
  const json = await answerGetMetricData(
    samples,
    noMoto,
    { MetricDataQueries: [query], StartTime: start / 1000, EndTime: (start + 120_000) / 1000 },
    new URLSearchParams(),
  );
  t.deepEqual(JSON.parse(json?.body ?? '{}').MetricDataResults, [
    {
      Id: 'p90',
      Label: 'TargetResponseTime p90',
      Timestamps: [(start + 60_000) / 1000, start / 1000],
      Values: [0.5, 0.09],
      StatusCode: 'Complete',
    },
  ]);
  const params = new URLSearchParams({
    Action: 'GetMetricData',
    StartTime: new Date(start).toISOString(),
    EndTime: new Date(start + 120_000).toISOString(),
    ScanBy: 'TimestampAscending',
    'MetricDataQueries.member.1.Id': 'p50',
    'MetricDataQueries.member.1.MetricStat.Metric.Namespace': series.namespace,
    'MetricDataQueries.member.1.MetricStat.Metric.MetricName': series.metricName,
    'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name': 'LoadBalancer',
    'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value': 'app/demo/2',
    'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.2.Name': 'TargetGroup',
    'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.2.Value': 'targetgroup/canary/1',
    'MetricDataQueries.member.1.MetricStat.Period': '60',
    'MetricDataQueries.member.1.MetricStat.Stat': 'p50',
  });
  const xml = await answerGetMetricData(samples, noMoto, undefined, params);
  t.regex(
    xml?.body ?? '',
    /<Id>p50<\/Id>.*<Timestamps><member>2026-12-06T10:00:00.000Z<\/member><member>2026-12-06T10:01:00.000Z<\/member><\/Timestamps><Values><member>0.05<\/member><member>0.5<\/member><\/Values>/,
  );
  t.is(
    await answerGetMetricData(
      samples,
      noMoto,
      { MetricDataQueries: [{ ...query, MetricStat: { ...query.MetricStat, Stat: 'Sum' } }] },
      new URLSearchParams(),
    ),
    undefined,
    'no percentile: moto answers',
  );
});

test('GetMetricStatistics with ExtendedStatistics answers them and the plain statistics', (t) => {
  const samples = new ResponseTimeSamples();
  samples.record(series, start + 1000, hundred);
  const json = answerGetMetricStatistics(
    samples,
    {
      Namespace: series.namespace,
      MetricName: series.metricName,
      Dimensions: series.dimensions,
      StartTime: start / 1000,
      EndTime: (start + 60_000) / 1000,
      Period: 60,
      Statistics: ['SampleCount', 'Maximum'],
      ExtendedStatistics: ['p99', 'p50'],
    },
    new URLSearchParams(),
  );
  t.deepEqual(JSON.parse(json?.body ?? '{}').Datapoints, [
    {
      Timestamp: start / 1000,
      SampleCount: 100,
      Maximum: 0.1,
      ExtendedStatistics: { p99: 0.099, p50: 0.05 },
      Unit: 'Seconds',
    },
  ]);
  const xml = answerGetMetricStatistics(
    samples,
    undefined,
    new URLSearchParams({
      Namespace: series.namespace,
      MetricName: series.metricName,
      'Dimensions.member.1.Name': 'TargetGroup',
      'Dimensions.member.1.Value': 'targetgroup/canary/1',
      'Dimensions.member.2.Name': 'LoadBalancer',
      'Dimensions.member.2.Value': 'app/demo/2',
      StartTime: new Date(start).toISOString(),
      EndTime: new Date(start + 60_000).toISOString(),
      Period: '60',
      'ExtendedStatistics.member.1': 'p90',
    }),
  );
  t.regex(
    xml?.body ?? '',
    /<ExtendedStatistics><entry><key>p90<\/key><value>0.09<\/value><\/entry><\/ExtendedStatistics>/,
  );
  t.is(answerGetMetricStatistics(samples, { Statistics: ['Sum'] }, new URLSearchParams()), undefined);
});
