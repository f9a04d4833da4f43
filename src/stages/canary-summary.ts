/**
 * The build page's lines for a canary: one short line per metric of each
 * analysed step (metric, canary vs baseline, verdict, the step's score), read
 * from a deploy's `verification`, whether the deploy passed or failed.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A metric's value as the build page shows it: the error rate in %, latencies in ms, anything else in 3 digits. */
function shown(metric: string, value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'no data';
  if (metric === 'errorRate') return `${(100 * value).toFixed(1)} %`;
  if (metric.startsWith('latency')) return `${Math.round(value)} ms`;
  return String(Number(value.toPrecision(3)));
}

/** e.g. `canary 10% errorRate: 20.1 % vs 0.2 %, fail (step score 0, fail)`. Pure; [] when nothing was analysed. */
export function canaryMetricLines(verification: unknown): string[] {
  if (!isObject(verification) || !Array.isArray(verification.steps)) return [];
  return verification.steps.filter(isObject).flatMap((step) => {
    const analysis = step.analysis;
    if (!isObject(analysis) || !Array.isArray(analysis.metrics)) return [];
    const score = `step score ${String(analysis.score)}, ${String(analysis.verdict)}`;
    return analysis.metrics.filter(isObject).map((metric) => {
      const name = String(metric.name);
      return `canary ${String(step.step)} ${name}: ${shown(name, metric.canary)} vs ${shown(name, metric.baseline)}, ${String(metric.verdict)} (${score})`;
    });
  });
}
