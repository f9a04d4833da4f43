import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import type { Argv, CommandModule, Options } from 'yargs';
import { BluegreenError, ExitCode, InputError, OperationFailedError, describeError } from '../core/errors';
import { createLogger, type Logger } from '../core/log';
import { resolveClusterName } from '../core/naming';
import { redactValue } from '../core/redact';
import { checkRegion } from '../core/validate';
import { withRunScope } from '../core/run-scope';
import { awsClients, type AwsClients } from '../aws/clients';
import { listPaths, yargsOption, type InputDeclarations, type ParsedInputs } from './inputs/declare';
import {
  flagInputs,
  givenWithConfig,
  mergeInputs,
  readJsonObjectFile,
  resolveStageInput,
  type InputEnvironment,
} from './resolve-input';
import type { RunFacts, StageEntry } from './list';

/**
 * The stage framework: every stage reads `--input file.json` and/or flags
 * (same camelCase keys), validates everything before any AWS call, runs the
 * engine, and writes its outputs — or `{"error": …}` — to `--output`, exiting
 * 0 ok, 1 failed (cluster left safe), 2 bad input (nothing changed), 3 conflict
 * (docs/architecture.md, "Stage contract").
 * A stage declares its inputs once (`src/stages/inputs/`); options, known keys,
 * merges and types derive from that.
 */

/** What a stage's `run` gets besides its validated input. */
export interface StageContext {
  log: Logger;
  region: string;
  /** AWS clients for the stage's region. */
  aws: () => AwsClients;
  /** Aborted on SIGTERM/SIGINT (or when the run's lock is lost): stop and leave things safe. */
  signal: AbortSignal;
}

/** One stage: its entry in {@link STAGES} (name, step, inputs, label, summary), its validation and its run. */
export interface StageDefinition<Input, Output, D extends InputDeclarations = InputDeclarations> extends StageEntry<
  D,
  Output
> {
  /** Turns the parsed inputs into the engine's input (checks across inputs); throws InputError naming the field. */
  validate(inputs: ParsedInputs<D>, region: string): Input;
  /** Does the work. */
  run(input: Input, context: StageContext): Promise<Output>;
  /** Whole-run deadline in seconds, from the input; past it the run is interrupted like on SIGTERM (default: none). */
  runDeadlineSeconds?(input: Input): number;
  /** Exit code for a finished run whose output says it did not fully succeed (default 0). */
  exitCodeFor?(output: NoInfer<Output>): number;
}

/** What a stage adds to its entry: `validate` gets its inputs typed from the entry's declarations. */
export type StageImplementation<Input, Output, D extends InputDeclarations> = Omit<
  StageDefinition<Input, Output, D>,
  keyof StageEntry
>;

/** Declares a stage: its entry in {@link STAGES} with its validation and run. */
export function defineStage<D extends InputDeclarations, Input, Output>(
  entry: StageEntry<D, NoInfer<Output>>,
  implementation: StageImplementation<Input, Output, D>,
): StageDefinition<Input, Output, D> {
  return { ...entry, ...implementation };
}

/** Options every stage takes that are not input. */
const COMMON_OPTIONS: Record<string, Options> = {
  input: { type: 'string', describe: 'JSON file with the stage input (camelCase keys); flags override it' },
  output: { type: 'string', describe: 'Where to write the JSON result (or {"error": …})' },
  // For the Jenkins runner: the run's cluster and sh label, before it runs (docs/architecture.md).
  names: { type: 'boolean', hidden: true, describe: "Write only this run's names (cluster, sh label); change nothing" },
};

/** The yargs options of a stage: its inputs, plus hidden list options for lists inside objects. */
export function stageOptions(inputs: InputDeclarations): Record<string, Options> {
  const options: Record<string, Options> = { ...COMMON_OPTIONS };
  for (const [name, spec] of Object.entries(inputs)) {
    options[name] = yargsOption(spec);
    for (const path of listPaths(name, spec)) {
      if (path !== name) options[path] = { type: 'array', string: true, hidden: true };
    }
  }
  return options;
}

/** Where a stage runs: files, environment and AWS clients (tests run stages in-process with their own). */
export interface ExecuteOptions extends InputEnvironment {
  /** AWS clients for a region (default: from the environment). */
  clients?: (region: string) => AwsClients;
}

/** Parses a stage's input from what it was given (no `--input` file): what `validate` returns. */
export function parseStageInput<Input, Output, D extends InputDeclarations>(
  stage: StageDefinition<Input, Output, D>,
  given: Record<string, unknown>,
  options: InputEnvironment = {},
): { input: Input; region: string } {
  const { inputs, region } = resolveStageInput(stage.inputs, flagInputs(given, stage.inputs), {
    ...options,
    needsRegion: stage.needsRegion,
  });
  return { input: stage.validate(inputs, region), region };
}

/** A finished run's output document: what the stage returned, and its build-page line (an unknown output stays unknown). */
export type StageOutput<Output> = Output extends object ? Output & { summary: string } : Output;

/** The cluster that a stage's inputs name, for a stage that takes one; throws InputError naming the field. */
function clusterOf(stage: StageEntry, inputs: Record<string, unknown>): string | undefined {
  return Object.hasOwn(stage.inputs, 'cluster') ? resolveClusterName(inputs).name : undefined;
}

/** The build-page line of a finished run; a summary that throws never fails the run it describes. */
function summaryOf<Output>(
  stage: StageEntry<InputDeclarations, Output>,
  inputs: Record<string, unknown>,
  output: Output,
  log: Logger,
): string {
  const run: RunFacts = { inputs };
  try {
    run.cluster = clusterOf(stage, inputs);
    return stage.summary(run, output);
  } catch (error) {
    log.warn(`no summary line: ${describeError(error)}`);
    return `bluegreen ${stage.name} ${run.cluster ?? ''}`.trim() + ': done';
  }
}

/** What a stage was given: its `--input` file under its flags (no defaults, nothing parsed). */
function givenInput(stage: StageEntry, argv: Record<string, unknown>, cwd: string): Record<string, unknown> {
  const fileInput =
    typeof argv.input === 'string' ? readJsonObjectFile(resolvePath(cwd, argv.input), 'input', argv.input) : {};
  return mergeInputs(fileInput, flagInputs(argv, stage.inputs));
}

/** What `--names` writes: the cluster a run's input names (for a stage that takes one), its `sh` label, its report. */
export interface RunNames {
  cluster?: string;
  /** The region the input names, checked (each region of a cluster has its own lock). */
  region?: string;
  label: string;
  junitReport?: true;
}

/**
 * What the Jenkins runner shows before it runs a stage (`--names`): the
 * cluster the input names and the `sh` label. Reads only the input file, the
 * flags and the stage's `config` file; nothing else is checked, so a bad
 * input is still reported by the run itself, with all its checks. Throws
 * InputError naming the field when the cluster keys are bad.
 */
export function runNames(stage: StageEntry, argv: Record<string, unknown>, cwd: string): RunNames {
  const given = givenWithConfig(stage.inputs, givenInput(stage, argv, cwd), cwd);
  const run: RunFacts = { inputs: given, cluster: clusterOf(stage, given) };
  const region = given.region === undefined ? undefined : checkRegion('region', given.region);
  return {
    ...(run.cluster !== undefined ? { cluster: run.cluster } : {}),
    ...(region !== undefined ? { region } : {}),
    label: stage.label(run),
    ...(stage.junitReport ? { junitReport: true } : {}),
  };
}

/** Writes a JSON file (creating its folder), ending with a newline; redacted (outputs are archived by Jenkins). */
export function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(redactValue(value), null, 2)}\n`);
}

function runDeadlineError(stage: string, seconds: number): OperationFailedError {
  return new OperationFailedError(
    'RunDeadline',
    `the ${stage} run passed its deadline of ${seconds}s (derived from its timeouts)`,
    {
      deadlineSeconds: seconds,
      recovery:
        'see the message for what was left; a run stopped after cutover is finished by the next deploy, rollback or cleanup',
    },
  );
}

/**
 * SIGTERM (a Jenkins abort or `timeout()`) and SIGINT interrupt the run
 * instead of killing the process: its waits stop, the engine takes the safe
 * way out (before cutover: the new group is removed; after: the run stops at
 * a state the next run settles), the lock is released, and the output file
 * gets the error (`Interrupted`, exit 1). Returns the function that stops listening.
 */
function interruptOnSignals(controller: AbortController, log: Logger): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      log.warn(`received ${signal} again: still stopping safely`);
      return;
    }
    log.warn(`received ${signal}: stopping safely (the cluster is left serving, the lock released)`);
    controller.abort(
      new OperationFailedError('Interrupted', `interrupted by ${signal} (a Jenkins abort or timeout)`, {
        signal,
        recovery:
          'see the message for what was left; a run interrupted after cutover is finished by the next deploy, rollback or cleanup',
      }),
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

/** The `{"error": …}` document for a failure. */
export function errorOutput(error: unknown): { error: Record<string, unknown> } {
  if (error instanceof BluegreenError) {
    return { error: { code: error.code, message: error.message, exitCode: error.exitCode, ...error.details } };
  }
  return { error: { code: 'Unexpected', message: describeError(error), exitCode: ExitCode.failed } };
}

/** Exit code for a thrown value. */
export function exitCodeOf(error: unknown): number {
  return error instanceof BluegreenError ? error.exitCode : ExitCode.failed;
}

/** Routes Node warnings (e.g. the AWS SDK's NodeVersionSupportWarning) into one log line each, once. */
export function routeProcessWarnings(log: Logger): void {
  const seen = new Set<string>();
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    const key = `${warning.name}:${warning.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    // One line with the whole text (the SDK's says which Node it needs); its own name is in it when the name is just "Warning".
    log.warn(`${warning.name === 'Warning' ? '' : `${warning.name}: `}${warning.message.replace(/\s+/g, ' ').trim()}`);
  });
}

/** What one run of a stage gives: its exit code and its output document (also written to `--output`). */
export interface StageResult<Output> {
  exitCode: number;
  output: Output | { error: Record<string, unknown> };
}

/**
 * Runs a stage from parsed argv (or an object of input keys): merge, validate,
 * run, write output, and return the exit code (the caller sets `process.exitCode`).
 */
export async function executeStage<Input, Output, D extends InputDeclarations>(
  stage: StageDefinition<Input, Output, D>,
  argv: Record<string, unknown>,
  log: Logger = createLogger(stage.name),
  options: ExecuteOptions = {},
): Promise<StageResult<StageOutput<Output>>> {
  const cwd = options.cwd ?? process.cwd();
  return settle(argv, cwd, log, withDetail(stage, log), async () => {
    const given = givenInput(stage, argv, cwd);
    const { inputs, region } = resolveStageInput(stage.inputs, given, { ...options, needsRegion: stage.needsRegion });
    const input = stage.validate(inputs, region);
    let clients: AwsClients | undefined;
    const aws = (): AwsClients => (clients ??= (options.clients ?? awsClients)(region));
    const controller = new AbortController();
    const stopListening = interruptOnSignals(controller, log);
    const deadline = stage.runDeadlineSeconds?.(input);
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(() => controller.abort(runDeadlineError(stage.name, deadline)), deadline * 1000).unref();
    let output: Output;
    try {
      output = await withRunScope(controller, () => stage.run(input, { log, region, aws, signal: controller.signal }));
    } finally {
      stopListening();
      clearTimeout(timer);
    }
    const summary = summaryOf(stage, inputs, output, log);
    return {
      exitCode: stage.exitCodeFor?.(output) ?? ExitCode.ok,
      output: { ...output, summary } as StageOutput<Output>,
    };
  });
}

/** `--names`: writes the run's names ({@link runNames}) as its output, or the error of bad cluster keys (exit 2). */
export function executeNames(
  stage: StageEntry,
  argv: Record<string, unknown>,
  log: Logger,
  options: InputEnvironment = {},
): Promise<StageResult<RunNames>> {
  const cwd = options.cwd ?? process.cwd();
  return settle(
    argv,
    cwd,
    log,
    (output) => output,
    async () => ({
      exitCode: ExitCode.ok,
      output: runNames(stage, argv, cwd),
    }),
  );
}

/**
 * The stage's lines under its summary ({@link StageEntry.detail}) added to an
 * output as `summaryDetail`: from the output, or from a failed run's `error`.
 * Lines that throw are left out (they never fail the run they describe).
 */
function withDetail(stage: StageEntry, log: Logger): <T>(output: T) => T {
  return (output) => {
    if (!stage.detail || typeof output !== 'object' || output === null) return output;
    const document = output as Record<string, unknown>;
    const error = document.error;
    try {
      const lines = stage.detail(
        typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : document,
      );
      return lines.length > 0 ? { ...output, summaryDetail: lines } : output;
    } catch (failure) {
      log.warn(`no summary detail: ${describeError(failure)}`);
      return output;
    }
  };
}

/**
 * Runs `work`; a failure becomes its `{"error": …}` and exit code, logged with how to recover; `finish` adds
 * to either output what the build page shows; writes `--output`.
 */
async function settle<Output>(
  argv: Record<string, unknown>,
  cwd: string,
  log: Logger,
  finish: <T>(output: T) => T,
  work: () => Promise<{ exitCode: number; output: Output }>,
): Promise<StageResult<Output>> {
  const outputPath = typeof argv.output === 'string' ? resolvePath(cwd, argv.output) : undefined;
  let result: StageResult<Output>;
  try {
    result = await work();
  } catch (error) {
    const exitCode = exitCodeOf(error);
    const label = exitCode === ExitCode.badInput ? 'bad input' : exitCode === ExitCode.conflict ? 'conflict' : 'failed';
    log.error(`${label}: ${describeError(error)}`);
    const source = error instanceof InputError ? error.details.source : undefined;
    if (typeof source === 'string') log.error(`that value comes from ${source}`);
    const recovery = error instanceof BluegreenError ? error.details.recovery : undefined;
    if (typeof recovery === 'string') log.error(`to recover: ${recovery}`);
    result = { exitCode, output: errorOutput(error) };
  }
  result = { ...result, output: finish(result.output) };
  if (outputPath) {
    try {
      writeJsonFile(outputPath, result.output);
    } catch (error) {
      log.error(`cannot write output file ${outputPath}: ${describeError(error)}`);
      if (result.exitCode === ExitCode.ok) result.exitCode = ExitCode.failed;
    }
  }
  return result;
}

/** Adds the stage's options to a yargs instance. */
export function addStageOptions(yargs: Argv, stage: StageDefinition<unknown, unknown>): Argv {
  return yargs.options(stageOptions(stage.inputs)).strict();
}

/** A yargs command module for a stage (for the `bluegreen` CLI). */
export function stageCommand<Input, Output, D extends InputDeclarations>(
  stage: StageDefinition<Input, Output, D>,
  commandName = stage.name,
): CommandModule {
  return {
    command: commandName,
    describe: stage.describe,
    builder: (yargs) => addStageOptions(yargs, stage as unknown as StageDefinition<unknown, unknown>),
    handler: async (argv) => {
      const log = createLogger(stage.name);
      routeProcessWarnings(log);
      const given = argv as Record<string, unknown>;
      const { exitCode } = await (given.names === true
        ? executeNames(stage, given, log)
        : executeStage(stage, given, log));
      process.exitCode = exitCode;
    },
  };
}
