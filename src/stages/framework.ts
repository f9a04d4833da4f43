import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Argv, CommandModule, Options } from 'yargs';
import { BluegreenError, ExitCode, InputError, OperationFailedError, describeError } from '../core/errors';
import { createLogger, type Logger } from '../core/log';
import { redactValue } from '../core/redact';
import { withRunScope } from '../core/run-scope';
import { checkKnownKeys, checkRegion } from '../core/validate';
import { awsClients, type AwsClients } from '../aws/clients';

/**
 * The stage framework: every stage reads `--input file.json` and/or flags
 * (same camelCase keys), validates everything before any AWS call, runs the
 * engine, and writes its outputs — or `{"error": …}` — to `--output`, with the
 * exit codes of DESIGN §2.
 */

/** What a stage's `run` gets besides its validated input. */
export interface StageContext {
  log: Logger;
  region: string;
  /** AWS clients for the stage's region (built once). */
  aws: () => AwsClients;
  /** Aborted on SIGTERM/SIGINT (or when the run's lock is lost): stop and leave things safe. */
  signal: AbortSignal;
}

/** One stage: its options, its validation and its run. */
export interface StageDefinition<Input, Output> {
  /** Subcommand and bundle name, e.g. `status`. */
  name: string;
  /** One line for `--help`. */
  describe: string;
  /** Input keys as yargs options (camelCase names; flags take the same names). */
  options: Record<string, Options>;
  /** Whether the stage talks to AWS and so needs a region (default true). */
  needsRegion?: boolean;
  /** Turns raw merged input into a typed input; throws InputError naming the field. */
  validate(raw: Record<string, unknown>, region: string): Input;
  /** Does the work. */
  run(input: Input, context: StageContext): Promise<Output>;
  /** Whole-run deadline in seconds, from the input; past it the run is interrupted like on SIGTERM (default: none). */
  runDeadlineSeconds?(input: Input): number;
  /** Exit code for a finished run whose output says it did not fully succeed (default 0). */
  exitCodeFor?(output: Output): number;
}

/** Options every stage takes. */
const COMMON_OPTIONS: Record<string, Options> = {
  input: { type: 'string', describe: 'JSON file with the stage input (camelCase keys); flags override it' },
  output: { type: 'string', describe: 'Where to write the JSON result (or {"error": …})' },
  region: { type: 'string', describe: 'AWS region (default: AWS_REGION / AWS_DEFAULT_REGION)' },
};

/** Keys yargs adds that are not input. */
const YARGS_KEYS = new Set(['_', '$0', 'input', 'output', 'help']);

/** Reads and parses the `--input` file; a problem is an InputError on `input`. */
export function readInputFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError('input', `cannot read ${path}: ${describeError(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError('input', `${path} is not valid JSON: ${describeError(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InputError('input', `${path} must hold a JSON object of input keys`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Merges the input file with the flags given on the command line (flags win).
 * Only camelCase keys count (yargs also adds kebab-case twins).
 */
export function mergeInput(fileInput: Record<string, unknown>, argv: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...fileInput };
  for (const [key, value] of Object.entries(argv)) {
    if (YARGS_KEYS.has(key) || key.includes('-') || value === undefined) continue;
    const existing = merged[key];
    // Dotted flags (--capacity.min 2) merge into an object from the file.
    if (isPlainObject(existing) && isPlainObject(value)) merged[key] = { ...existing, ...value };
    else merged[key] = value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Writes a JSON file (creating its folder), ending with a newline; redacted (outputs are archived by Jenkins). */
export function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(redactValue(value), null, 2)}\n`);
}

function runDeadlineError(stage: string, seconds: number): OperationFailedError {
  return new OperationFailedError('RunDeadline', `the ${stage} run passed its deadline of ${seconds}s (derived from its timeouts)`, {
    deadlineSeconds: seconds,
    recovery: 'see the message for what was left; a run stopped after cutover is finished by the next deploy, rollback or cleanup',
  });
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
        recovery: 'see the message for what was left; a run interrupted after cutover is finished by the next deploy, rollback or cleanup',
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
    log.warn(`${warning.name}: ${warning.message.split('\n')[0]}`);
  });
}

/**
 * Runs a stage from parsed argv: merge, validate, run, write output, and
 * return the exit code (the caller sets `process.exitCode`).
 */
export async function executeStage<Input, Output>(
  stage: StageDefinition<Input, Output>,
  argv: Record<string, unknown>,
  log: Logger = createLogger(stage.name),
): Promise<{ exitCode: number; output: Output | { error: Record<string, unknown> } }> {
  const outputPath = typeof argv.output === 'string' ? argv.output : undefined;
  let result: { exitCode: number; output: Output | { error: Record<string, unknown> } };
  try {
    const fileInput = typeof argv.input === 'string' ? readInputFile(argv.input) : {};
    const raw = mergeInput(fileInput, argv);
    checkKnownKeys('', raw, [...Object.keys(stage.options), 'region']);
    const regionValue = raw.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    let region = '';
    if (stage.needsRegion !== false) {
      if (regionValue === undefined) throw new InputError('region', 'is required: pass --region, put "region" in the input, or set AWS_REGION');
      region = checkRegion('region', regionValue);
    }
    const input = stage.validate(raw, region);
    const controller = new AbortController();
    const stopListening = interruptOnSignals(controller, log);
    const deadline = stage.runDeadlineSeconds?.(input);
    const timer = deadline === undefined ? undefined : setTimeout(() => controller.abort(runDeadlineError(stage.name, deadline)), deadline * 1000).unref();
    let output: Output;
    try {
      output = await withRunScope(controller, () => stage.run(input, { log, region, aws: () => awsClients(region), signal: controller.signal }));
    } finally {
      stopListening();
      clearTimeout(timer);
    }
    result = { exitCode: stage.exitCodeFor?.(output) ?? ExitCode.ok, output };
  } catch (error) {
    const exitCode = exitCodeOf(error);
    const label = exitCode === ExitCode.badInput ? 'bad input' : exitCode === ExitCode.conflict ? 'conflict' : 'failed';
    log.error(`${label}: ${describeError(error)}`);
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

/** Adds the common and the stage's options to a yargs instance. */
export function addStageOptions(yargs: Argv, stage: StageDefinition<unknown, unknown>): Argv {
  return yargs.options({ ...COMMON_OPTIONS, ...stage.options }).strict();
}

/** A yargs command module for a stage (for the `bluegreen` CLI). */
export function stageCommand<Input, Output>(stage: StageDefinition<Input, Output>, commandName = stage.name): CommandModule {
  return {
    command: commandName,
    describe: stage.describe,
    builder: (yargs) => addStageOptions(yargs, stage as StageDefinition<unknown, unknown>),
    handler: async (argv) => {
      const log = createLogger(stage.name);
      routeProcessWarnings(log);
      const { exitCode } = await executeStage(stage, argv as Record<string, unknown>, log);
      process.exitCode = exitCode;
    },
  };
}
