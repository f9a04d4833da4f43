import { deployChecks, type DeployReportInput, type JUnitCase } from './junit-report';

/**
 * The checks of a rollout (issue #24) as JUnit cases, one group per region:
 * each region's deploy checks as a single deploy's, then what the rollout did
 * with the region (kept, put back, failed, not reached). Rendered from the
 * deploy stage's output (`regions`), or from its `{"error": …}` when the
 * rollout failed (the error carries every region's outcome).
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The regions of a rollout's output (or of its error), or undefined when the output is a single deploy's. */
function rolloutRegions(output: unknown): Json[] | undefined {
  if (!isObject(output)) return undefined;
  const source = isObject(output.error) ? output.error : output;
  return typeof source.rolloutId === 'string' && Array.isArray(source.regions)
    ? source.regions.filter(isObject)
    : undefined;
}

/** What the rollout did with one region, as a case of its own. */
function verdictCase(cluster: string, outcome: Json): JUnitCase {
  const error = isObject(outcome.error) ? outcome.error : {};
  const failure = (type: string) => ({
    type: typeof error.code === 'string' ? error.code : type,
    message: typeof error.message === 'string' ? error.message : type,
  });
  const rollback = isObject(outcome.rollback) ? outcome.rollback : {};
  switch (outcome.status) {
    case 'failed':
      return { name: `deploy of ${cluster}`, failure: failure('DeployFailed') };
    case 'rollback-failed':
      return { name: 'put back by the rollout', failure: failure('RollbackFailed') };
    case 'rolled-back':
      return {
        name: 'put back by the rollout',
        skipped: `another region failed: back on ${String(rollback.restoredServerGroup ?? 'its previous group')}`,
      };
    case 'not-started':
      return { name: `deploy of ${cluster}`, skipped: 'not started: an earlier wave failed' };
    case 'planned':
      return { name: `deploy of ${cluster}`, skipped: 'plan only: nothing was deployed' };
    default:
      return { name: 'kept by the rollout' };
  }
}

/** The cases of a rollout, each under its region (`group`); undefined when the output is not a rollout's. */
export function rolloutChecks(input: DeployReportInput): JUnitCase[] | undefined {
  const regions = rolloutRegions(input.output);
  if (regions === undefined) return undefined;
  return regions.flatMap((outcome) => {
    const group = String(outcome.region);
    const checks = isObject(outcome.deploy)
      ? deployChecks({ cluster: input.cluster, exitCode: 0, output: outcome.deploy })
      : [];
    return [...checks, verdictCase(input.cluster, outcome)].map((check) => ({ ...check, group }));
  });
}

/** The cases of the deploy stage's output: a rollout's per region, else a single deploy's. */
export function deployStageChecks(input: DeployReportInput): JUnitCase[] {
  return rolloutChecks(input) ?? deployChecks(input);
}
