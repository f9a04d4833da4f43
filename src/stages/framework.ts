import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import type { Argv, CommandModule, Options } from 'yargs';
import { BluegreenError, ExitCode, InputError, OperationFailedError, describeError } from '../core/errors';
import { createLogger, type Logger } from '../core/log';
import { redactValue } from '../core/redact';
import { withRunScope } from '../core/run-scope';
import { awsClients, type AwsClients } from '../aws/clients';
import { listPaths, yargsOption, type InputDeclarations, type ParsedInputs } from './inputs/declare';
import { flagInputs, mergeInputs, readJsonObjectFile, resolveStageInput, type InputEnvironment } from './resolve-input';

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

/** One stage: its declared inputs, its validation and its run. */
export interface StageDefinition<Input, Output, D extends InputDeclarations = InputDeclarations> {
  /** Subcommand and bundle name, e.g. `status`. */
  name: string;
  /** One line for `--help`. */
  describe: string;
  /** Every input, declared once (camelCase names; flags take the same names). */
  inputs: D;
  /** Whether the stage talks to AWS and so needs a region (default true). */
  needsRegion?: boolean;
  /** Turns the parsed inputs into the engine's input (checks across inputs); throws InputError naming the field. */
  validate(inputs: ParsedInputs<D>, region: string): Input;
  /** Does the work. */
  run(input: Input, context: StageContext): Promise<Output>;
  /** Whole-run deadline in seconds, from the input; past it the run is interrupted like on SIGTERM (default: none). */
  runDeadlineSeconds?(input: Input): number;
  /** Exit code for a finished run whose output says it did not fully succeed (default 0). */
  exitCodeFor?(output: Output): number;
}

/** Declares a stage; `validate` gets its inputs typed from the declarations. */
export function defineStage<D extends InputDeclarations, Input, Output>(
  stage: StageDefinition<Input, Output, D>,
): StageDefinition<Input, Output, D> {
  return stage;
}

/** Options every stage takes that are not input. */
const COMMON_OPTIONS: Record<string, Options> = {
  input: { type: 'string', describe: 'JSON file with the stage input (camelCase keys); flags override it' },
  output: { type: 'string', describe: 'Where to write the JSON result (or {"error": …})' },
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

/**
 * Runs a stage from parsed argv (or an object of input keys): merge, validate,
 * run, write output, and return the exit code (the caller sets `process.exitCode`).
 */
export async function executeStage<Input, Output, D extends InputDeclarations>(
  stage: StageDefinition<Input, Output, D>,
  argv: Record<string, unknown>,
  log: Logger = createLogger(stage.name),
  options: ExecuteOptions = {},
): Promise<{ exitCode: number; output: Output | { error: Record<string, unknown> } }> {
  const cwd = options.cwd ?? process.cwd();
  const outputPath = typeof argv.output === 'string' ? resolvePath(cwd, argv.output) : undefined;
  let result: { exitCode: number; output: Output | { error: Record<string, unknown> } };
  try {
    const fileInput =
      typeof argv.input === 'string' ? readJsonObjectFile(resolvePath(cwd, argv.input), 'input', argv.input) : {};
    const given = mergeInputs(fileInput, flagInputs(argv, stage.inputs));
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
    result = { exitCode: stage.exitCodeFor?.(output) ?? ExitCode.ok, output };
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
      const { exitCode } = await executeStage(stage, argv as Record<string, unknown>, log);
      process.exitCode = exitCode;
    },
  };
}
