import { InputError } from '../core/errors';
import { checkKnownKeys, checkObject, checkString, checkStringMap } from '../core/validate';
import {
  DEFAULT_THRESHOLDS,
  judgeMetric,
  scoreCanary,
  type BadDirection,
  type CanaryScore,
  type MetricJudgement,
  type WindowData,
} from './canary-analysis';

/** A user metric of the analysis: any CloudWatch metric, with the dimensions of each side. */
export interface CanaryMetricSpec extends MetricJudgement {
  namespace: string;
  metricName: string;
  /** CloudWatch statistic per period (`Average`, `Sum`, `p99`, ...). */
  stat: string;
  /** Values may name `{canaryTargetGroup}`, `{baselineTargetGroup}`, `{loadBalancer}`, `{canaryServerGroup}`, `{baselineServerGroup}`. */
  canaryDimensions: Record<string, string>;
  baselineDimensions: Record<string, string>;
}

/** The `canaryAnalysis` input. */
export interface CanaryAnalysisSettings {
  passScore: number;
  marginalScore: number;
  /** Fewer requests than this on either side in a window: the error rate is not judged. */
  minRequests: number;
  /** The per-period resolution, in AWS seconds (ALB metrics: 60). */
  periodSeconds: number;
  metrics: CanaryMetricSpec[];
}

/** The built-in metrics (always judged): the error rate (critical) and TargetResponseTime p50 and p99. */
export const BUILT_IN_METRICS: readonly MetricJudgement[] = [
  { name: 'errorRate', bad: 'higher', weight: 1, critical: true, tolerance: 0, minDelta: 0.01 },
  { name: 'latencyP50', bad: 'higher', weight: 1, critical: false, tolerance: 0.2, minDelta: 10 },
  { name: 'latencyP99', bad: 'higher', weight: 1, critical: false, tolerance: 0.2, minDelta: 25 },
];

/** Defaults: Spinnaker's score thresholds, 20 requests, ALB's one-minute periods. */
export const DEFAULT_CANARY_ANALYSIS: CanaryAnalysisSettings = {
  ...DEFAULT_THRESHOLDS,
  minRequests: 20,
  periodSeconds: 60,
  metrics: [],
};

function numberIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw new InputError(field, `must be a number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  return value;
}

const METRIC_KEYS = [
  'name',
  'namespace',
  'metricName',
  'stat',
  'canaryDimensions',
  'baselineDimensions',
  'bad',
  'weight',
  'critical',
  'tolerance',
  'minDelta',
] as const;

/** The names a dimension value may hold in braces, replaced by each side's own (`fillDimensions`, `CanarySides`). */
export const DIMENSION_PLACEHOLDERS = [
  'canaryTargetGroup',
  'baselineTargetGroup',
  'loadBalancer',
  'canaryServerGroup',
  'baselineServerGroup',
] as const;

/** CloudWatch's limit of dimensions per metric. */
const MAX_DIMENSIONS = 30;

/** One side's dimensions: at least one, at most 30, names and values not empty, placeholders known. */
function parseDimensions(field: string, value: unknown): Record<string, string> {
  const dimensions = checkStringMap(field, value ?? {});
  const entries = Object.entries(dimensions);
  if (entries.length === 0)
    throw new InputError(field, 'needs at least one dimension, e.g. {"AutoScalingGroupName": "{canaryServerGroup}"}');
  if (entries.length > MAX_DIMENSIONS)
    throw new InputError(field, `has ${entries.length} dimensions; CloudWatch takes at most ${MAX_DIMENSIONS}`);
  for (const [name, text] of entries) {
    if (name.trim() === '') throw new InputError(field, 'has a dimension with an empty name');
    if (text.trim() === '') throw new InputError(`${field}.${name}`, 'must not be empty');
    for (const [, key] of text.matchAll(/\{(\w*)\}/g))
      if (!(DIMENSION_PLACEHOLDERS as readonly string[]).includes(key ?? ''))
        throw new InputError(
          `${field}.${name}`,
          `{${key}} is not one of ${DIMENSION_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
        );
  }
  return dimensions;
}

/** Same names and values: the two sides would read one and the same time series. Pure. */
function sameDimensions(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}

function parseMetric(field: string, value: unknown, taken: Set<string>): CanaryMetricSpec {
  const given = checkObject(field, value);
  checkKnownKeys(field, given, [...METRIC_KEYS]);
  const name = checkString(`${field}.name`, given.name);
  if (taken.has(name)) throw new InputError(`${field}.name`, `must be unique (${name} is taken)`);
  taken.add(name);
  const bad = given.bad ?? 'higher';
  if (bad !== 'higher' && bad !== 'lower' && bad !== 'either')
    throw new InputError(`${field}.bad`, `must be higher, lower or either (got ${JSON.stringify(bad)})`);
  if (given.critical !== undefined && typeof given.critical !== 'boolean')
    throw new InputError(`${field}.critical`, 'must be true or false');
  const canaryDimensions = parseDimensions(`${field}.canaryDimensions`, given.canaryDimensions);
  const baselineDimensions = parseDimensions(`${field}.baselineDimensions`, given.baselineDimensions);
  if (sameDimensions(canaryDimensions, baselineDimensions))
    throw new InputError(
      `${field}.baselineDimensions`,
      'is the same as canaryDimensions: the metric would be compared with itself; name each side, e.g. {canaryServerGroup} and {baselineServerGroup}',
    );
  return {
    name,
    namespace: checkString(`${field}.namespace`, given.namespace),
    metricName: checkString(`${field}.metricName`, given.metricName),
    stat: given.stat === undefined ? 'Average' : checkString(`${field}.stat`, given.stat),
    canaryDimensions,
    baselineDimensions,
    bad: bad as BadDirection,
    weight: given.weight === undefined ? 1 : numberIn(`${field}.weight`, given.weight, 0, 1000),
    critical: (given.critical as boolean | undefined) ?? false,
    tolerance: given.tolerance === undefined ? 0.2 : numberIn(`${field}.tolerance`, given.tolerance, 0, 1000),
    minDelta: given.minDelta === undefined ? 0 : numberIn(`${field}.minDelta`, given.minDelta, 0, 1e12),
  };
}

/** Parses `canaryAnalysis`: `{passScore, marginalScore, minRequests, period, metrics: [...]}` over the defaults. */
export function parseCanaryAnalysis(value: unknown, field = 'canaryAnalysis'): CanaryAnalysisSettings {
  if (value === undefined) return { ...DEFAULT_CANARY_ANALYSIS };
  const given = checkObject(field, value);
  checkKnownKeys(field, given, ['passScore', 'marginalScore', 'minRequests', 'period', 'metrics']);
  const settings: CanaryAnalysisSettings = { ...DEFAULT_CANARY_ANALYSIS, metrics: [] };
  if (given.passScore !== undefined) settings.passScore = numberIn(`${field}.passScore`, given.passScore, 0, 100);
  if (given.marginalScore !== undefined)
    settings.marginalScore = numberIn(`${field}.marginalScore`, given.marginalScore, 0, 100);
  if (settings.marginalScore > settings.passScore)
    throw new InputError(
      `${field}.marginalScore`,
      `must not be above passScore (${settings.marginalScore} > ${settings.passScore})`,
    );
  if (given.minRequests !== undefined)
    settings.minRequests = numberIn(`${field}.minRequests`, given.minRequests, 1, 1e9);
  if (given.period !== undefined) settings.periodSeconds = numberIn(`${field}.period`, given.period, 1, 3600);
  if (given.metrics !== undefined) {
    if (!Array.isArray(given.metrics)) throw new InputError(`${field}.metrics`, 'must be a list of metrics');
    const taken = new Set(BUILT_IN_METRICS.map((m) => m.name));
    settings.metrics = given.metrics.map((m, index) => parseMetric(`${field}.metrics[${index}]`, m, taken));
  }
  return settings;
}

/** Judges one window: every metric's verdict and the score. `last`: the last step before 100 %. Pure. */
export function judgeWindow(settings: CanaryAnalysisSettings, data: WindowData, last: boolean): CanaryScore {
  const verdicts = [...BUILT_IN_METRICS, ...settings.metrics].map((judgement) =>
    judgeMetric(judgement, data.get(judgement.name) ?? { kind: 'series', canary: [], baseline: [] }),
  );
  return scoreCanary(verdicts, settings, last);
}
