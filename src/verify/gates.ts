import { InputError } from '../core/errors';
import { checkKnownKeys, checkObject } from '../core/validate';
import type { TrafficSample } from './metrics';

/**
 * Built-in gates: limits on the new group's error rate and latency, read from
 * the ALB metrics of its target groups, with no alarm to set up. Each limit is
 * absolute or relative to a baseline measured on the same target groups just
 * before the deploy (while only the previous group served).
 */

/** The limits; an absent one is not checked. */
export interface GateSettings {
  /** Highest share of target 5XX responses (5XX ÷ RequestCount). */
  maxErrorRate?: number;
  /** Highest increase of that share over the baseline's (e.g. 0.01 = one point more). */
  maxErrorRateIncrease?: number;
  /** Highest average TargetResponseTime, in milliseconds. */
  maxLatencyMs?: number;
  /** Highest ratio of average latency to the baseline's. */
  maxLatencyRatio?: number;
  /** The ratio limit ignores increases below this many milliseconds (2 ms → 5 ms is not a regression). */
  latencySlackMs?: number;
  /** Fewer requests than this in a window are not judged: a quiet service is not judged on noise. */
  minRequests: number;
}

/** Defaults: an error-rate ceiling and a latency ratio over the baseline, judged from 20 requests on. */
export const DEFAULT_GATES: GateSettings = {
  maxErrorRate: 0.05,
  maxLatencyRatio: 2,
  latencySlackMs: 100,
  minRequests: 20,
};

const KEYS = [
  'maxErrorRate',
  'maxErrorRateIncrease',
  'maxLatencyMs',
  'maxLatencyRatio',
  'latencySlackMs',
  'minRequests',
] as const;

function checkNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InputError(field, `must be a number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** Parses the `gates` input: `false` (no built-in gates), or limits merged over {@link DEFAULT_GATES} (`null` removes one). */
export function parseGates(value: unknown, field = 'gates'): GateSettings | false {
  if (value === undefined || value === true) return { ...DEFAULT_GATES };
  if (value === false) return false;
  const given = checkObject(field, value);
  checkKnownKeys(field, given, [...KEYS]);
  const gates: GateSettings = { ...DEFAULT_GATES };
  const bounds: Record<(typeof KEYS)[number], [number, number]> = {
    maxErrorRate: [0, 1],
    maxErrorRateIncrease: [0, 1],
    maxLatencyMs: [1, 600_000],
    maxLatencyRatio: [1, 1000],
    latencySlackMs: [0, 600_000],
    minRequests: [1, 1e9],
  };
  for (const key of KEYS) {
    if (!(key in given)) continue;
    const raw = given[key];
    if (raw === null && key !== 'minRequests') {
      delete gates[key];
      continue;
    }
    const [min, max] = bounds[key];
    const number = checkNumber(`${field}.${key}`, raw, min, max);
    if (key === 'minRequests' && !Number.isInteger(number))
      throw new InputError(`${field}.minRequests`, `must be a whole number (got ${number})`);
    gates[key] = number;
  }
  return gates;
}

/** What the gates made of one window. */
export interface GateVerdict {
  /** `judged` once the window holds at least minRequests requests. */
  judged: boolean;
  /** One line per breached limit, with the numbers (empty when none). */
  breaches: string[];
}

const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
const ms = (value: number) => `${Math.round(value)} ms`;

/** Applies the limits to a window of traffic on the new group; `baseline` when one was measured with enough requests. */
export function evaluateGates(sample: TrafficSample, gates: GateSettings, baseline?: TrafficSample): GateVerdict {
  if (sample.requests < gates.minRequests) return { judged: false, breaches: [] };
  const base = baseline && baseline.requests >= gates.minRequests ? baseline : undefined;
  const breaches: string[] = [];
  const rate = `${pct(sample.errorRate)} (${sample.errors} of ${sample.requests} requests)`;
  if (gates.maxErrorRate !== undefined && sample.errorRate > gates.maxErrorRate) {
    breaches.push(`error rate ${rate} above maxErrorRate ${pct(gates.maxErrorRate)}`);
  }
  if (
    gates.maxErrorRateIncrease !== undefined &&
    base &&
    sample.errorRate > base.errorRate + gates.maxErrorRateIncrease
  ) {
    breaches.push(
      `error rate ${rate} more than ${pct(gates.maxErrorRateIncrease)} over the baseline's ${pct(base.errorRate)}`,
    );
  }
  const latency = sample.latencyMs;
  if (latency !== undefined) {
    if (gates.maxLatencyMs !== undefined && latency > gates.maxLatencyMs)
      breaches.push(`latency ${ms(latency)} above maxLatencyMs ${ms(gates.maxLatencyMs)}`);
    const baseLatency = base?.latencyMs;
    if (
      gates.maxLatencyRatio !== undefined &&
      baseLatency !== undefined &&
      latency > baseLatency * gates.maxLatencyRatio &&
      latency - baseLatency > (gates.latencySlackMs ?? 0)
    ) {
      breaches.push(`latency ${ms(latency)} more than ${gates.maxLatencyRatio}× the baseline's ${ms(baseLatency)}`);
    }
  }
  return { judged: true, breaches };
}
