import type { CallStatsSnapshot } from '../src/sandbox/call-stats';
import type { ProbeReport } from '../src/sandbox/probe';

/**
 * The demo's closing report: each step with its duration and outcome against
 * the expected one, the traffic the load balancer served per version, failed
 * requests, and the AWS calls the sandbox gateway counted.
 */

/**
 * How a step ended. `rolled back automatically` is a deploy exiting 1 with the
 * cluster left as it was; `rolled back by its watch` a deploy whose watch after
 * cutover caught a bad build and put the previous group back (exit 1).
 */
export type Outcome =
  | 'ok'
  | 'rolled back automatically'
  | 'rolled back by its watch'
  | 'canary failed at its first step'
  | 'failed'
  | 'not run';

/** A bad build the watch or a canary caught: when it served, how fast it was caught and undone, what failed meanwhile. */
export interface WatchedBadBuild {
  step: string;
  /** The deploy step's window, ms since the probe started. */
  startMs: number;
  endMs: number;
  /** First answer of the bad version → the breach the watch saw. */
  detectMs?: number;
  /** The breach → the bad group out of the target groups (every new request on the previous group). */
  restoreMs?: number;
  /** What the watch saw: `HTTPCode_Target_5XX_Count …` or a gate with its numbers. */
  reason?: string;
  /** Requests that failed inside the step's window, and all requests in it. */
  failed: number;
  requests: number;
  /** The failed share to expect of the requests it served at: `share` of the traffic × `errorShare` of its requests. */
  expected?: { share: number; errorShare: number };
}

export interface StepResult {
  /** e.g. `deploy 2.0.0`. */
  name: string;
  expected: Outcome;
  outcome: Outcome;
  durationMs: number;
  /** What it made or why it failed, one line. */
  detail: string;
}

export interface DemoReport {
  timeScale: number;
  totalMs: number;
  steps: StepResult[];
  probe?: ProbeReport;
  calls?: CallStatsSnapshot;
  /** The bad builds the watch and the canary caught (their failed requests are the only ones allowed). */
  caught: WatchedBadBuild[];
  /** Why the demo did not pass, if it did not. */
  failure?: string;
}

/** What the scenario knows of a caught bad build; the probe's samples fill in the rest at the end. */
export interface WatchedDraft extends Omit<WatchedBadBuild, 'detectMs' | 'failed'> {
  version: string;
  /** Where `failed` and `requests` are counted, ms since the probe started (default: the step's window). A canary's: its failed step. */
  countWindow?: { startMs: number; endMs: number };
  /** When the watch saw the breach (epoch ms). */
  breachAt?: number;
  /** When the probe started (epoch ms). */
  probeStartedAt: number;
}

/** The watched bad build with what the probe saw: time to detect (from its first answer) and the requests that failed in its window. */
export function watchedWithProbe(draft: WatchedDraft, probe: ProbeReport): WatchedBadBuild {
  const { version, breachAt, probeStartedAt, countWindow, ...rest } = draft;
  const counted = countWindow ?? draft;
  const firstAnswer = probe.versionSpans[version]?.firstMs;
  return {
    ...rest,
    ...(breachAt !== undefined && firstAnswer !== undefined
      ? { detectMs: Math.max(0, breachAt - probeStartedAt - firstAnswer) }
      : {}),
    failed: probe.failureTimesMs.filter((at) => at >= counted.startMs && at <= counted.endMs).length,
  };
}

/** Failed requests outside the caught bad builds' deploys (those must be 0). */
export function failedOutsideWatch(report: DemoReport): number {
  const probe = report.probe;
  if (!probe) return 0;
  return probe.failureTimesMs.filter((at) => !report.caught.some((w) => at >= w.startMs && at <= w.endMs)).length;
}

/** Whether the run passed: every step as expected and not one failed request outside the caught bad builds. */
export function passed(report: DemoReport): boolean {
  return (
    report.failure === undefined &&
    report.steps.every((s) => s.outcome === s.expected) &&
    report.probe !== undefined &&
    failedOutsideWatch(report) === 0
  );
}

/** The reasons a run did not pass (empty when it passed). */
export function failureReasons(report: DemoReport): string[] {
  const reasons: string[] = [];
  if (report.failure) reasons.push(report.failure);
  for (const step of report.steps) {
    if (step.outcome !== step.expected && step.outcome !== 'not run')
      reasons.push(`${step.name}: expected ${step.expected}, got ${step.outcome}`);
  }
  const skipped = report.steps.filter((s) => s.outcome === 'not run');
  if (skipped.length > 0) reasons.push(`not run: ${skipped.map((s) => s.name).join(', ')}`);
  if (!report.probe) reasons.push('no traffic was measured');
  else if (failedOutsideWatch(report) > 0) {
    reasons.push(
      `${failedOutsideWatch(report)} request(s) failed through the load balancer outside the caught bad builds: ${JSON.stringify(report.probe.failures)}`,
    );
  }
  return reasons;
}

export function formatSeconds(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** Keeps a table cell to one readable width. */
function clip(text: string, max = 110): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** Versions over time, e.g. `1.0.0 → 1.0.0+2.0.0 → 2.0.0`. */
function versionStory(probe: ProbeReport): string {
  return probe.timeline.map((change) => change.versions.join('+')).join(' → ') || 'none';
}

export function renderReport(report: DemoReport): string {
  const out: string[] = [];
  out.push(`bluegreen demo report (sandbox time scale ${report.timeScale}, total ${formatSeconds(report.totalMs)})`);
  out.push('');
  out.push(
    ...table(
      ['step', 'took', 'expected', 'result', 'detail'],
      report.steps.map((s) => [
        s.name,
        s.outcome === 'not run' ? '-' : formatSeconds(s.durationMs),
        s.expected,
        s.outcome === s.expected || s.outcome === 'not run' ? s.outcome : `${s.outcome} (UNEXPECTED)`,
        clip(s.detail),
      ]),
    ),
  );
  out.push('');
  const probe = report.probe;
  if (probe) {
    out.push(
      `traffic through the load balancer (probe from the first deploy to the end, ${formatSeconds(probe.durationMs)}):`,
    );
    out.push(`  requests: ${probe.total}`);
    out.push(
      `  served per version: ${
        Object.entries(probe.perVersion)
          .map(([v, n]) => `${v}: ${n}`)
          .join(', ') || 'none'
      }`,
    );
    out.push(`  versions over time: ${versionStory(probe)}`);
    const outside = failedOutsideWatch(report);
    out.push(
      `  failed requests: ${outside}${outside > 0 ? ` ${JSON.stringify(probe.failures)}` : ''}${report.caught.length > 0 ? ' (outside the bad builds caught)' : ''}`,
    );
    for (const w of report.caught) out.push(`  ${caughtLine(w)}`);
  } else {
    out.push('traffic through the load balancer: not measured');
  }
  out.push('');
  const calls = report.calls;
  if (calls) {
    const top = Object.entries(calls.calls)
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .slice(0, 8);
    out.push(`AWS calls made (counted by the sandbox gateway): ${calls.total} total, ${calls.mutating} mutating`);
    out.push(`  top actions: ${top.map(([action, n]) => `${action} ${n}`).join(', ')}`);
    out.push('');
  }
  const reasons = failureReasons(report);
  out.push(
    reasons.length === 0
      ? `result: PASS (every step had its expected outcome, 0 failed requests${report.caught.length > 0 ? ' outside the bad builds caught' : ''})`
      : `result: FAIL: ${reasons.join('; ')}`,
  );
  return out.join('\n');
}

/** `share` as a percentage with one decimal, e.g. `2.0 %`. */
function percent(share: number): string {
  return `${(100 * share).toFixed(1)} %`;
}

/** One caught bad build: time to detect, time to restore, what failed meanwhile (and what to expect, for a canary). */
function caughtLine(w: WatchedBadBuild): string {
  const expected = w.expected
    ? ` (${percent(w.failed / Math.max(1, w.requests))}; expected about ${percent(w.expected.share)} × ${percent(w.expected.errorShare)} = ${percent(w.expected.share * w.expected.errorShare)})`
    : '';
  return (
    `${w.step}: caught ${w.detectMs !== undefined ? formatSeconds(w.detectMs) : '?'} after it first answered` +
    `${w.reason ? ` (${clip(w.reason, 90)})` : ''}; traffic back on the previous group ${w.restoreMs !== undefined ? formatSeconds(w.restoreMs) : '?'} later;` +
    ` ${w.failed} of ${w.requests} requests failed meanwhile${expected}`
  );
}
