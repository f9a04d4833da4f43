import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { targetGroupNameFromArn } from '../status/cluster-status';

/**
 * The checks of one deploy as JUnit XML, so Jenkins' `junit` step shows them on the build page and
 * trends them: the new server group healthy in every target group, the old one drained and
 * disabled, and the watch verdict when the deploy reports one. Rendered from the deploy stage's
 * output file (or its `{"error": …}`), after the stage ran; the runner in `vars/` calls it.
 */

/** One JUnit test case: passed unless it has a failure or is skipped. */
export interface JUnitCase {
  name: string;
  /** Where it belongs within the suite (a rollout's region): its class in the report. */
  group?: string;
  failure?: { type: string; message: string };
  skipped?: string;
}

/** What the report is rendered from: the deploy's output (as parsed JSON, or absent) and its exit code. */
export interface DeployReportInput {
  /** The cluster, for the suite name even when the deploy wrote no output. */
  cluster: string;
  /** The deploy stage's exit code. */
  exitCode: number;
  /** The deploy stage's output: its result map, `{error: …}`, or undefined when it wrote none. */
  output: unknown;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
/** Verdicts of a post-deploy watch that count as passed. */
const PASSING_VERDICTS = new Set(['pass', 'passed', 'healthy', 'ok', 'succeeded']);

/** The test cases of one deploy, from its output. */
export function deployChecks(input: DeployReportInput): JUnitCase[] {
  const output = input.output;
  if (!isObject(output)) {
    return [
      {
        name: `deploy of ${input.cluster}`,
        failure: {
          type: `exit ${input.exitCode}`,
          message: `the deploy wrote no output (exit ${input.exitCode}); see the build log`,
        },
      },
    ];
  }
  if (isObject(output.error)) {
    const error = output.error;
    const message = [error.field, error.message ?? error.code]
      .filter((part) => typeof part === 'string' && part !== '')
      .join(': ');
    return [
      {
        name: `deploy of ${input.cluster}`,
        failure: {
          type: typeof error.code === 'string' ? error.code : `exit ${input.exitCode}`,
          message: message || 'no message given',
        },
      },
      ...canaryChecks(error.verification),
    ];
  }
  if (output.status === 'planned')
    return [{ name: `deploy of ${input.cluster}`, skipped: 'plan only: nothing was deployed' }];
  const serverGroup = typeof output.serverGroup === 'string' ? output.serverGroup : '(unknown server group)';
  const cases: JUnitCase[] = strings(output.targetGroups).map((arn) => ({
    name: `${serverGroup} healthy in target group ${targetGroupNameFromArn(arn)}`,
  }));
  if (cases.length === 0)
    cases.push({
      name: `${serverGroup} healthy`,
      skipped: 'no target groups: health was not checked by a load balancer',
    });
  const previous = typeof output.previousServerGroup === 'string' ? output.previousServerGroup : null;
  if (previous === null) {
    cases.push({
      name: 'previous server group drained and disabled',
      skipped: `first deploy of ${input.cluster}: nothing to drain`,
    });
  } else {
    const done = [...strings(output.disabledServerGroups), ...strings(output.destroyedServerGroups)].includes(previous);
    cases.push(
      done
        ? { name: `${previous} drained and disabled` }
        : {
            name: `${previous} drained and disabled`,
            failure: { type: 'NotDisabled', message: `${previous} is not among the disabled server groups` },
          },
    );
  }
  if (isObject(output.watch)) {
    const verdict = String(output.watch.verdict ?? 'unknown');
    const name = `watch of ${serverGroup}: ${verdict}`;
    const reason = typeof output.watch.reason === 'string' ? output.watch.reason : `verdict ${verdict}`;
    cases.push(
      PASSING_VERDICTS.has(verdict.toLowerCase())
        ? { name }
        : { name, failure: { type: 'WatchFailed', message: reason } },
    );
  }
  return [...cases, ...canaryChecks(output.verification)];
}

/** One case per metric of each analysed canary step: a failed metric fails, one without data is skipped. */
export function canaryChecks(verification: unknown): JUnitCase[] {
  if (!isObject(verification) || !Array.isArray(verification.steps)) return [];
  return verification.steps.filter(isObject).flatMap((step) => {
    const analysis = step.analysis;
    if (!isObject(analysis) || !Array.isArray(analysis.metrics)) return [];
    return analysis.metrics.filter(isObject).map((metric): JUnitCase => {
      const verdict = String(metric.verdict);
      const name = `canary ${String(step.step)} ${String(metric.name)}: ${verdict}`;
      const reason = String(metric.reason ?? verdict);
      if (verdict === 'fail') return { name, failure: { type: 'CanaryMetricFailed', message: reason } };
      if (verdict === 'nodata') return { name, skipped: reason };
      return { name };
    });
  });
}

/** Text safe in XML 1.0 attributes and content: escaped, and without the control characters XML forbids. */
export function xmlText(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- removing exactly the characters XML 1.0 forbids
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

/** A JUnit XML document with one suite (`bluegreen deploy <cluster>`) of `cases`. */
export function renderJUnit(suite: string, cases: readonly JUnitCase[]): string {
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlText(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}">`,
    `  <testsuite name="${xmlText(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}">`,
  ];
  for (const c of cases) {
    // Jenkins reads the classname's last dot-separated part as the class: one class per group (region).
    const classname = c.group === undefined ? suite : `${suite}.${c.group}`;
    const open = `    <testcase classname="${xmlText(classname)}" name="${xmlText(c.name)}"`;
    if (c.failure)
      lines.push(
        `${open}>`,
        `      <failure type="${xmlText(c.failure.type)}" message="${xmlText(c.failure.message)}"/>`,
        '    </testcase>',
      );
    else if (c.skipped !== undefined)
      lines.push(`${open}>`, `      <skipped message="${xmlText(c.skipped)}"/>`, '    </testcase>');
    else lines.push(`${open}/>`);
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

/**
 * `node junit-report.js --input in.json --output report.xml`: in.json is
 * `{cluster, exitCode, outputFile}` (outputFile: the deploy's output, which may be missing).
 * Exit 0 when the report was written, 2 when the input is unusable. `checks` renders the
 * output's cases (a single deploy's by default; src/stages/junit-rollout.ts for a rollout's too).
 */
export function runJUnitReport(
  argv: readonly string[],
  checks: (input: DeployReportInput) => JUnitCase[] = deployChecks,
): number {
  const flag = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const usage =
    'junit-report.js --input in.json --output report.xml: the JUnit checks of a deploy, from its output file\n';
  if (argv.includes('--help')) {
    process.stdout.write(usage);
    return 0;
  }
  const inputPath = flag('--input');
  const reportPath = flag('--output');
  if (!inputPath || !reportPath) {
    process.stderr.write(usage);
    return 2;
  }
  let request: Json;
  try {
    const parsed: unknown = JSON.parse(readFileSync(inputPath, 'utf8'));
    if (
      !isObject(parsed) ||
      typeof parsed.cluster !== 'string' ||
      typeof parsed.exitCode !== 'number' ||
      typeof parsed.outputFile !== 'string'
    ) {
      throw new Error('must be {"cluster": "…", "exitCode": 0, "outputFile": "…"}');
    }
    request = parsed;
  } catch (error) {
    process.stderr.write(`junit-report: input: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  let output: unknown;
  try {
    output = JSON.parse(readFileSync(request.outputFile as string, 'utf8'));
  } catch {
    output = undefined; // no output (or not JSON): the report says so as a failed case
  }
  const cluster = request.cluster as string;
  const report = { cluster, exitCode: request.exitCode as number, output };
  const xml = renderJUnit(`bluegreen deploy ${cluster}`, checks(report));
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, xml, 'utf8');
  return 0;
}
