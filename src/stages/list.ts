import type { BakeResult } from '../bake/run';
import type { DeployOutput } from '../deploy/deploy';
import type { AbortOutput } from '../deploy/promote';
import type { HeldRolloutOutput } from '../rollout/held-rollout';
import type { RolloutRollbackOutput } from '../rollout/rollback-rollout';
import type { RolloutOutput } from '../rollout/rollout';
import type { PublishResult } from '../publish/publish-artifact';
import type { RollbackOutput } from '../rollback/rollback';
import type { InputDeclarations } from './inputs/declare';
import { BAKE_INPUTS } from './inputs/bake';
import { CLEANUP_INPUTS } from './inputs/cleanup';
import { DEPLOY_INPUTS } from './inputs/deploy';
import { ABORT_INPUTS, PROMOTE_INPUTS } from './inputs/held';
import { HISTORY_INPUTS } from './inputs/history';
import { PUBLISH_INPUTS } from './inputs/publish';
import { ROLLBACK_INPUTS } from './inputs/rollback';
import { STATUS_INPUTS } from './inputs/status';
import { canaryMetricLines } from './canary-summary';

/**
 * The one list of stages: each stage's name (its subcommand and bundle), its
 * Jenkins step, its inputs, the label of the `sh` step that runs it and the
 * line it leaves on the build page. The CLI, the input tables, `vars/*.txt`,
 * the bundles' entries and the runner in `vars/bluegreenStage.groovy` (which
 * asks the bundle for the label and reads the summary from the output) all
 * derive from it. No engine code here: every bundle loads this list.
 */

/** What a label or a summary is made from: the stage's inputs (as given, or parsed) and the cluster they name. */
export interface RunFacts {
  inputs: Readonly<Record<string, unknown>>;
  /** The cluster the inputs name (`web-prod`, `web--canary`), for a stage that takes one. */
  cluster?: string;
}

/** One stage as the CLI, the docs and Jenkins know it. `Output` is what its run returns. */
export interface StageEntry<D extends InputDeclarations = InputDeclarations, Output = unknown> {
  /** Subcommand and bundle name, e.g. `status`. */
  name: string;
  /** The Jenkins step that runs it (`vars/<step>.groovy`), when there is one. */
  step?: string;
  /** One line for `--help`. */
  describe: string;
  /** Every input, declared once (camelCase names; flags take the same names). */
  inputs: D;
  /** Whether the stage talks to AWS and so needs a region (default true). */
  needsRegion?: boolean;
  /** The `sh` step's label in Jenkins, known before the run: what runs, on what (from the inputs as given). */
  label(run: RunFacts): string;
  /** The one build-page line of a finished run (from the parsed inputs and the output); in the output as `summary`. */
  summary(run: RunFacts, output: Output): string;
  /**
   * Lines under the summary on the build page (a canary's per-metric verdicts), from the output or, for a
   * failed run, its `error`; in the output as `summaryDetail` when there are any.
   */
  detail?(result: Readonly<Record<string, unknown>>): string[];
  /** Whether the runner renders the run's checks as JUnit XML (`junit-report`, which reads a deploy's output). */
  junitReport?: boolean;
}

/** Identity, for type inference of an entry. */
function stageEntry<D extends InputDeclarations, Output>(entry: StageEntry<D, Output>): StageEntry<D, Output> {
  return entry;
}

/** A value as label text: strings and numbers as they are, anything else as nothing. */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** `" (1.4.0)"`, or nothing without a version. */
function versionNote(inputs: RunFacts['inputs']): string {
  const version = text(inputs.version);
  return version ? ` (${version})` : '';
}

/** The cluster of a run: the one the output names, else the one the inputs name. */
function clusterOf(run: RunFacts, output: { cluster?: unknown }): string {
  return text(output.cluster) || (run.cluster ?? '');
}

/** The label of a stage that reads or settles a cluster: `bluegreen status web-prod`. */
function clusterLabel(name: string): (run: RunFacts) => string {
  return (run) => `bluegreen ${name} ${run.cluster ?? ''}`.trim();
}

/** `publish`: a build artifact to S3. */
export const PUBLISH_STAGE = stageEntry({
  name: 'publish',
  step: 'publishArtifact',
  describe: 'Upload a build artifact to S3 with its SHA-256 and build metadata (same content again is a no-op)',
  inputs: PUBLISH_INPUTS,
  label: ({ inputs }) => `bluegreen publish ${text(inputs.file)} → s3://${text(inputs.bucket)}`,
  summary: (_run, output: PublishResult) =>
    `bluegreen publish: ${output.artifactUrl}` +
    (output.sha256 ? ` (sha256 ${output.sha256.slice(0, 12)}…)` : '') +
    (output.alreadyPublished ? ', already published' : ''),
});

/** `bake`: an AMI with Packer. */
export const BAKE_STAGE = stageEntry({
  name: 'bake',
  step: 'bakeAmi',
  describe: 'Bake an AMI with Packer (built-in linux/windows templates or your own), copy it, tag it',
  inputs: BAKE_INPUTS,
  label: ({ inputs }) => `bluegreen bake ${text(inputs.app)} ${text(inputs.version)}`.trim(),
  summary: ({ inputs }, output: BakeResult) =>
    `bluegreen bake ${text(inputs.app)} ${text(inputs.version)}: ${output.amiId} (${output.amiName}) in ${output.region}`,
});

/** `deploy`: red/black, with automatic rollback. */
export const DEPLOY_STAGE = stageEntry({
  name: 'deploy',
  step: 'blueGreenDeploy',
  describe:
    'Red/black deploy an AMI as a new server group behind the load balancer; roll back automatically if it is not healthy',
  inputs: DEPLOY_INPUTS,
  junitReport: true,
  detail: (result) => canaryMetricLines(result.verification),
  label: (run) =>
    `bluegreen deploy ${run.cluster ?? ''} → ${text(run.inputs.amiId) || regionsOf(run.inputs) || '?'}${versionNote(run.inputs)}`,
  summary: (run, output: DeployOutput | RolloutOutput) => {
    const head = `bluegreen deploy ${clusterOf(run, output)}:`;
    if ('rolloutId' in output)
      return `${head} ${output.regions.map(regionSummary).join('; ')}${versionNote(run.inputs)}`;
    if (output.status === 'planned') return `${head} planned ${output.serverGroup} (nothing changed)`;
    if (output.status === 'held')
      return `${head} ${output.serverGroup} held for a human${versionNote(run.inputs)}; ${output.previousServerGroup ?? 'nothing'} serves`;
    return (
      `${head} ${output.serverGroup} serving ${output.amiId}${versionNote(run.inputs)}` +
      (output.previousServerGroup ? `, was ${output.previousServerGroup}` : ', first server group')
    );
  },
});

/** The regions a rollout's inputs name (`regions`, else `amis`), comma-separated, or nothing. */
function regionsOf(inputs: RunFacts['inputs']): string {
  const map = inputs.regions ?? inputs.amis;
  return typeof map === 'object' && map !== null && !Array.isArray(map) ? Object.keys(map).join(', ') : '';
}

/** One region of a rollout on the build page: `us-east-1 web-prod-v004` or `eu-west-1 failed`. */
function regionSummary(outcome: RolloutOutput['regions'][number]): string {
  if (outcome.status === 'succeeded' && outcome.deploy) return `${outcome.region} ${outcome.deploy.serverGroup}`;
  if (outcome.status === 'held' && outcome.deploy) return `${outcome.region} ${outcome.deploy.serverGroup} held`;
  if (outcome.status === 'rolled-back' && outcome.rollback)
    return `${outcome.region} rolled back to ${outcome.rollback.restoredServerGroup}`;
  return `${outcome.region} ${outcome.status}`;
}

/** One region of a held rollout's promote or abort on the build page: `us-east-1 promoted web-prod-v004`. */
function heldRegionSummary(outcome: HeldRolloutOutput['regions'][number]): string {
  const group = outcome.promote?.serverGroup ?? outcome.abort?.serverGroup;
  return `${outcome.region} ${outcome.status}${group ? ` ${group}` : ''}`;
}

/** `rollback`: re-enable or redeploy the previous server group. */
export const ROLLBACK_STAGE = stageEntry({
  name: 'rollback',
  step: 'rollbackDeploy',
  describe:
    'Roll a cluster back: re-enable the previous (or a named) server group, or redeploy its AMI red/black when the group is gone',
  inputs: ROLLBACK_INPUTS,
  label: (run) => `bluegreen rollback ${run.cluster ?? ''} → ${text(run.inputs.to) || 'previous'}`,
  summary: (run, output: RollbackOutput | RolloutRollbackOutput) =>
    ('rolloutId' in output
      ? `bluegreen rollback ${clusterOf(run, output)}: rollout ${output.rolloutId} ` +
        output.regions.map((r) => `${r.region} ${r.rollback?.restoredServerGroup ?? r.status}`).join('; ')
      : `bluegreen rollback ${clusterOf(run, output)}: ${output.rolledBackFrom} → ${output.restoredServerGroup} (${output.mode})`) +
    (text(run.inputs.reason) ? `: ${text(run.inputs.reason)}` : ''),
});

/** `promote`: finish a held deploy. */
export const PROMOTE_STAGE = stageEntry({
  name: 'promote',
  step: 'blueGreenPromote',
  describe:
    'Promote a deploy held for a human (hold): finish it as it was asked (strategy, watch, gates), under the cluster lock',
  inputs: PROMOTE_INPUTS,
  junitReport: true,
  label: (run) => `bluegreen promote ${run.cluster ?? ''} ${text(run.inputs.serverGroup)}`.trim(),
  summary: (run, output: DeployOutput | HeldRolloutOutput) =>
    'decision' in output
      ? `bluegreen promote ${clusterOf(run, output)}: ${output.regions.map(heldRegionSummary).join('; ')}`
      : `bluegreen promote ${clusterOf(run, output)}: ${output.serverGroup} serving ${output.amiId}` +
        (output.previousServerGroup ? `, was ${output.previousServerGroup}` : ', first server group'),
});

/** `abort`: remove a held deploy's group. */
export const ABORT_STAGE = stageEntry({
  name: 'abort',
  step: 'blueGreenAbort',
  describe:
    'Abort a deploy held for a human (hold): remove its server group (and its test listener use), under the cluster lock',
  inputs: ABORT_INPUTS,
  label: (run) => `bluegreen abort ${run.cluster ?? ''} ${text(run.inputs.serverGroup)}`.trim(),
  summary: (run, output: AbortOutput | HeldRolloutOutput) =>
    ('decision' in output
      ? `bluegreen abort ${clusterOf(run, output)}: ${output.regions.map(heldRegionSummary).join('; ')}`
      : `bluegreen abort ${clusterOf(run, output)}: ${output.serverGroup} removed; ${output.previousServerGroup ?? 'nothing'} serves`) +
    (text(run.inputs.reason) ? `: ${text(run.inputs.reason)}` : ''),
});

/** `status`: a cluster's server groups from live AWS. */
export const STATUS_STAGE = stageEntry({
  name: 'status',
  step: 'deploymentStatus',
  describe:
    'Show the server groups of a cluster (AMI, enabled/disabled, capacity, healthy targets), its lock and last deployments',
  inputs: STATUS_INPUTS,
  label: clusterLabel('status'),
  summary: (run, output: { cluster: string; serverGroups: unknown[]; active: string | null }) =>
    `bluegreen status ${clusterOf(run, output)}: ${output.serverGroups.length} server group(s), serving ${output.active ?? 'none'}`,
});

/** `history`: a cluster's ledger records and lock. */
export const HISTORY_STAGE = stageEntry({
  name: 'history',
  step: 'deploymentHistory',
  describe: 'Show the last deployments, rollbacks and recoveries of a cluster from the S3 ledger, and its lock',
  inputs: HISTORY_INPUTS,
  label: clusterLabel('history'),
  summary: (run, output: { cluster: string; records: unknown[]; lock: { owner: string } | null }) =>
    `bluegreen history ${clusterOf(run, output)}: ${output.records.length} record(s)` +
    (output.lock ? `, locked by ${output.lock.owner}` : ''),
});

/** `cleanup`: what deploys left for later (no Jenkins step: a scheduled job runs the CLI or the bundle). */
export const CLEANUP_STAGE = stageEntry({
  name: 'cleanup',
  describe:
    'Scale down disabled groups whose warm window ended and settle interrupted deployments (under the cluster lock)',
  inputs: CLEANUP_INPUTS,
  label: clusterLabel('cleanup'),
  summary: (run, output: { cluster: string; actions: string[] }) =>
    `bluegreen cleanup ${clusterOf(run, output)}: ${output.actions.length > 0 ? output.actions.join('; ') : 'nothing to do'}`,
});

/** Any stage's entry, whatever its output. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any stage, whatever its output type
export type AnyStageEntry = StageEntry<InputDeclarations, any>;

/** Every stage, in the order of a release: the CLI lists its commands so. */
export const STAGES: readonly AnyStageEntry[] = [
  PUBLISH_STAGE,
  BAKE_STAGE,
  DEPLOY_STAGE,
  PROMOTE_STAGE,
  ABORT_STAGE,
  ROLLBACK_STAGE,
  STATUS_STAGE,
  HISTORY_STAGE,
  CLEANUP_STAGE,
];
