import { randomUUID } from 'node:crypto';
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { percentileOf, statisticOf, type Dimension, type ResponseTimeSamples, type SeriesId } from './percentiles';

/**
 * Answers the CloudWatch reads moto cannot: GetMetricData queries whose
 * `Stat` is a percentile (`p99`) and GetMetricStatistics with
 * `ExtendedStatistics`, from the response times the sandbox recorded
 * (percentiles.ts). Both protocols: Query (form body, XML answer: AWS CLI v1,
 * older boto3) and JSON 1.0 (`X-Amz-Target`, the JS SDK v3). In a
 * GetMetricData that mixes percentile queries with others, the others are
 * asked of moto and the results merged in order. Every other read goes to moto.
 */

/** A call's answer, written by the gateway as it is. */
export interface OwnAnswer {
  status: number;
  contentType: string;
  body: string;
}

interface StatQuery {
  id: string;
  label?: string;
  returnData: boolean;
  series?: SeriesId;
  periodSeconds?: number;
  stat?: string;
  /** The query as the SDK takes it (to ask moto). */
  sdk: MetricDataQuery;
}

const XMLNS = 'http://monitoring.amazonaws.com/doc/2010-08-01/';

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Epoch ms of a Query-protocol (ISO 8601) or JSON-protocol (epoch seconds) timestamp. */
function timeOf(value: unknown): number {
  if (typeof value === 'number') return value * 1000;
  const text = String(value ?? '');
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
}

/** Members of a Query list `<prefix>.member.N[.<rest>]`, by N in order, as maps of the rest. */
function queryMembers(params: URLSearchParams, prefix: string): Map<string, string>[] {
  const members = new Map<number, Map<string, string>>();
  const head = `${prefix}.member.`;
  for (const [key, value] of params) {
    if (!key.startsWith(head)) continue;
    const rest = key.slice(head.length);
    const dot = rest.indexOf('.');
    const index = Number(dot < 0 ? rest : rest.slice(0, dot));
    if (!Number.isInteger(index)) continue;
    const member = members.get(index) ?? new Map<string, string>();
    member.set(dot < 0 ? '' : rest.slice(dot + 1), value);
    members.set(index, member);
  }
  return [...members.entries()].sort(([a], [b]) => a - b).map(([, m]) => m);
}

/** `<prefix>Dimensions.member.N.Name/Value` of a Query request (or of one list member's fields). */
function queryDimensions(fields: Iterable<[string, string]>, prefix: string): Dimension[] {
  const inside = new URLSearchParams();
  for (const [key, value] of fields)
    if (key.startsWith(`${prefix}Dimensions.`)) inside.set(key.slice(prefix.length), value);
  return queryMembers(inside, 'Dimensions').map((d) => ({ Name: d.get('Name') ?? '', Value: d.get('Value') ?? '' }));
}

/** The parts of a GetMetricData request the sandbox answers. */
interface MetricDataRequest {
  startMs: number;
  endMs: number;
  ascending: boolean;
  queries: StatQuery[];
}

function parseMetricData(json: Record<string, unknown> | undefined, params: URLSearchParams): MetricDataRequest {
  if (json) {
    const queries = ((json.MetricDataQueries as MetricDataQuery[] | undefined) ?? []).map((q): StatQuery => {
      const stat = q.MetricStat;
      return {
        id: q.Id ?? '',
        ...(q.Label === undefined ? {} : { label: q.Label }),
        returnData: q.ReturnData !== false,
        ...(stat?.Metric
          ? {
              series: {
                namespace: stat.Metric.Namespace ?? '',
                metricName: stat.Metric.MetricName ?? '',
                dimensions: (stat.Metric.Dimensions ?? []).map((d) => ({ Name: d.Name ?? '', Value: d.Value ?? '' })),
              },
              periodSeconds: stat.Period,
              stat: stat.Stat,
            }
          : {}),
        sdk: q,
      };
    });
    return {
      startMs: timeOf(json.StartTime),
      endMs: timeOf(json.EndTime),
      ascending: json.ScanBy === 'TimestampAscending',
      queries,
    };
  }
  const queries = queryMembers(params, 'MetricDataQueries').map((fields): StatQuery => {
    const namespace = fields.get('MetricStat.Metric.Namespace');
    const series = namespace
      ? {
          namespace,
          metricName: fields.get('MetricStat.Metric.MetricName') ?? '',
          dimensions: queryDimensions(fields, 'MetricStat.Metric.'),
        }
      : undefined;
    const periodSeconds = fields.has('MetricStat.Period') ? Number(fields.get('MetricStat.Period')) : undefined;
    const stat = fields.get('MetricStat.Stat');
    const label = fields.get('Label');
    const sdk: MetricDataQuery = {
      Id: fields.get('Id'),
      ...(label === undefined ? {} : { Label: label }),
      ...(fields.has('Expression') ? { Expression: fields.get('Expression') } : {}),
      ...(fields.has('ReturnData') ? { ReturnData: fields.get('ReturnData') === 'true' } : {}),
      ...(fields.has('Period') ? { Period: Number(fields.get('Period')) } : {}),
      ...(series
        ? {
            MetricStat: {
              Metric: { Namespace: series.namespace, MetricName: series.metricName, Dimensions: series.dimensions },
              Period: periodSeconds,
              Stat: stat,
              ...(fields.has('MetricStat.Unit') ? { Unit: fields.get('MetricStat.Unit') as never } : {}),
            },
          }
        : {}),
    };
    return {
      id: fields.get('Id') ?? '',
      ...(label === undefined ? {} : { label }),
      returnData: fields.get('ReturnData') !== 'false',
      ...(series ? { series, periodSeconds, stat } : {}),
      sdk,
    };
  });
  return {
    startMs: timeOf(params.get('StartTime')),
    endMs: timeOf(params.get('EndTime')),
    ascending: params.get('ScanBy') === 'TimestampAscending',
    queries,
  };
}

interface DataResult {
  id: string;
  label: string;
  timestamps: number[];
  values: number[];
}

function renderMetricData(results: DataResult[], json: boolean): OwnAnswer {
  if (json)
    return {
      status: 200,
      contentType: 'application/x-amz-json-1.0',
      body: JSON.stringify({
        MetricDataResults: results.map((r) => ({
          Id: r.id,
          Label: r.label,
          Timestamps: r.timestamps.map((t) => t / 1000),
          Values: r.values,
          StatusCode: 'Complete',
        })),
        Messages: [],
      }),
    };
  const members = results
    .map(
      (r) =>
        `<member><Id>${escapeXml(r.id)}</Id><Label>${escapeXml(r.label)}</Label>` +
        `<Timestamps>${r.timestamps.map((t) => `<member>${new Date(t).toISOString()}</member>`).join('')}</Timestamps>` +
        `<Values>${r.values.map((v) => `<member>${v}</member>`).join('')}</Values>` +
        '<StatusCode>Complete</StatusCode></member>',
    )
    .join('');
  return {
    status: 200,
    contentType: 'text/xml',
    body:
      `<GetMetricDataResponse xmlns="${XMLNS}"><GetMetricDataResult><MetricDataResults>${members}</MetricDataResults>` +
      `<Messages/></GetMetricDataResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetMetricDataResponse>`,
  };
}

function isPercentileQuery(query: StatQuery): boolean {
  return query.series !== undefined && percentileOf(query.stat ?? '') !== undefined;
}

/** Answers a GetMetricData with a percentile query; undefined (moto answers) without one. */
export async function answerGetMetricData(
  samples: ResponseTimeSamples,
  moto: CloudWatchClient,
  json: Record<string, unknown> | undefined,
  params: URLSearchParams,
): Promise<OwnAnswer | undefined> {
  const request = parseMetricData(json, params);
  if (!request.queries.some(isPercentileQuery)) return undefined;
  const others = request.queries.filter((q) => !isPercentileQuery(q));
  const fromMoto = new Map<string, DataResult>();
  if (others.length > 0) {
    const answer = await moto.send(
      new GetMetricDataCommand({
        MetricDataQueries: others.map((q) => q.sdk),
        StartTime: new Date(request.startMs),
        EndTime: new Date(request.endMs),
        ScanBy: request.ascending ? 'TimestampAscending' : 'TimestampDescending',
      }),
    );
    for (const r of answer.MetricDataResults ?? [])
      fromMoto.set(r.Id ?? '', {
        id: r.Id ?? '',
        label: r.Label ?? r.Id ?? '',
        timestamps: (r.Timestamps ?? []).map((t) => t.getTime()),
        values: r.Values ?? [],
      });
  }
  const results: DataResult[] = [];
  for (const query of request.queries) {
    if (!query.returnData) continue;
    if (!isPercentileQuery(query)) {
      const result = fromMoto.get(query.id);
      if (result) results.push(result);
      continue;
    }
    const periods = samples.periods(
      query.series as SeriesId,
      request.startMs,
      request.endMs,
      Math.max(1, query.periodSeconds ?? 60) * 1000,
    );
    if (!request.ascending) periods.reverse();
    results.push({
      id: query.id,
      label: query.label ?? `${query.series?.metricName} ${query.stat}`,
      timestamps: periods.map((p) => p.timestamp),
      values: periods.map((p) => statisticOf(p, query.stat as string) as number),
    });
  }
  return renderMetricData(results, json !== undefined);
}

const PLAIN_STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];

/** Answers a GetMetricStatistics with `ExtendedStatistics` (its `Statistics` too); undefined (moto answers) without them. */
export function answerGetMetricStatistics(
  samples: ResponseTimeSamples,
  json: Record<string, unknown> | undefined,
  params: URLSearchParams,
): OwnAnswer | undefined {
  const fromQuery = (name: string): string[] =>
    queryMembers(params, name)
      .map((m) => m.get('') ?? '')
      .filter(Boolean);
  const extended = json ? ((json.ExtendedStatistics as string[] | undefined) ?? []) : fromQuery('ExtendedStatistics');
  if (extended.length === 0) return undefined;
  const statistics = (json ? ((json.Statistics as string[] | undefined) ?? []) : fromQuery('Statistics')).filter((s) =>
    PLAIN_STATISTICS.includes(s),
  );
  const dimensions = json ? ((json.Dimensions as Dimension[] | undefined) ?? []) : queryDimensions(params, '');
  const metricName = String((json ? json.MetricName : params.get('MetricName')) ?? '');
  const series: SeriesId = {
    namespace: String((json ? json.Namespace : params.get('Namespace')) ?? ''),
    metricName,
    dimensions,
  };
  const periodSeconds = Number((json ? json.Period : params.get('Period')) ?? 60);
  const periods = samples.periods(
    series,
    timeOf(json ? json.StartTime : params.get('StartTime')),
    timeOf(json ? json.EndTime : params.get('EndTime')),
    Math.max(1, periodSeconds) * 1000,
  );
  const points = periods.map((period) => ({
    timestamp: period.timestamp,
    plain: statistics.map((s) => [s, statisticOf(period, s) as number] as const),
    extended: extended
      .filter((s) => percentileOf(s) !== undefined)
      .map((s) => [s, statisticOf(period, s) as number] as const),
  }));
  if (json)
    return {
      status: 200,
      contentType: 'application/x-amz-json-1.0',
      body: JSON.stringify({
        Label: metricName,
        Datapoints: points.map((p) => ({
          Timestamp: p.timestamp / 1000,
          ...Object.fromEntries(p.plain),
          ExtendedStatistics: Object.fromEntries(p.extended),
          Unit: 'Seconds',
        })),
      }),
    };
  const members = points
    .map(
      (p) =>
        `<member><Timestamp>${new Date(p.timestamp).toISOString()}</Timestamp>` +
        p.plain.map(([s, v]) => `<${s}>${v}</${s}>`).join('') +
        `<ExtendedStatistics>${p.extended.map(([s, v]) => `<entry><key>${s}</key><value>${v}</value></entry>`).join('')}</ExtendedStatistics>` +
        '<Unit>Seconds</Unit></member>',
    )
    .join('');
  return {
    status: 200,
    contentType: 'text/xml',
    body:
      `<GetMetricStatisticsResponse xmlns="${XMLNS}"><GetMetricStatisticsResult><Label>${escapeXml(metricName)}</Label>` +
      `<Datapoints>${members}</Datapoints></GetMetricStatisticsResult>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetMetricStatisticsResponse>`,
  };
}
