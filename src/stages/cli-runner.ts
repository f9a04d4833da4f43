import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { CommandModule } from 'yargs';
import { InputError, ExitCode } from '../core/errors';
import { createLogger, type Logger, type LogSink } from '../core/log';
import {
  addStageOptions,
  errorOutput,
  executeNames,
  executeStage,
  routeProcessWarnings,
  writeJsonFile,
  type ExecuteOptions,
  type StageDefinition,
} from './framework';

/**
 * Finds `--output` in raw argv, for when yargs itself rejects the command line
 * and never hands us parsed argv (the error output still has to be written).
 */
function outputPathFromArgv(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    if (arg === '--output') return args[i + 1];
    if (arg.startsWith('--output=')) return arg.slice('--output='.length);
  }
  return undefined;
}

/** Turns a yargs parse failure into exit 2 with an error output naming the flag. */
function failHandler(log: Logger, args: readonly string[], onFailure: (output: unknown) => void) {
  return (message: string | undefined, error: Error | undefined): void => {
    if (error && !message) throw error;
    const text = message ?? error?.message ?? 'invalid command line';
    const unknown = /Unknown arguments?: (.+)/.exec(text);
    const field = unknown ? ((unknown[1] as string).split(',')[0]?.trim() ?? 'arguments') : 'arguments';
    const inputError = new InputError(field, unknown ? 'is not a known option (see --help)' : text);
    log.error(`bad input: ${inputError.message}`);
    const outputPath = outputPathFromArgv(args);
    const output = errorOutput(inputError);
    if (outputPath) writeJsonFile(outputPath, output);
    onFailure(output);
  };
}

/** What one run of a stage's command line did. */
export interface StageCommandResult {
  exitCode: number;
  /** The output document (also written to `--output`), or undefined for `--help`. */
  output: unknown;
  /** What yargs printed (`--help`), when run in-process. */
  printed: string;
}

/** How a stage's command line runs: in this process's terminal, or in-process for tests. */
export interface StageCommandOptions extends ExecuteOptions {
  /** Where log lines go (default stderr). */
  logSink?: LogSink;
  /** Run inside a caller (tests): yargs never exits the process and its printout is returned. */
  inProcess?: boolean;
}

/**
 * Parses a stage's command line and runs it; returns the exit code and the
 * output document. The bundles call it through {@link runStandalone}; tests run
 * a stage in-process with it (as wrangler's `runWrangler`), no bundle spawned.
 */
export async function runStageCommand(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any stage, whatever its input type
  stage: StageDefinition<any, unknown, any>,
  args: readonly string[],
  options: StageCommandOptions = {},
): Promise<StageCommandResult> {
  const log = createLogger(stage.name, options.logSink);
  const result: StageCommandResult = { exitCode: ExitCode.ok, output: undefined, printed: '' };
  const command: CommandModule = {
    command: '$0',
    describe: stage.describe,
    builder: (cli) => addStageOptions(cli, stage),
    handler: async (argv) => {
      if (!options.inProcess) routeProcessWarnings(log);
      const given = argv as Record<string, unknown>;
      const { exitCode, output } = await (given.names === true
        ? executeNames(stage, given, log, options)
        : executeStage(stage, given, log, options));
      result.exitCode = exitCode;
      result.output = output;
    },
  };
  const cli = yargs([...args])
    .scriptName(`${stage.name}.js`)
    .command(command)
    .strict()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail(
      failHandler(log, args, (output) => {
        result.exitCode = ExitCode.badInput;
        result.output = output;
      }),
    );
  if (options.inProcess) {
    await cli.exitProcess(false).parseAsync([...args], {}, (_error, _argv, printed) => {
      result.printed = printed;
    });
  } else {
    await cli.parseAsync();
  }
  return result;
}

/** Runs one stage as a standalone script (the per-stage bundle in resources/). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any stage, whatever its input type
export async function runStandalone(stage: StageDefinition<any, unknown, any>): Promise<void> {
  const { exitCode } = await runStageCommand(stage, hideBin(process.argv));
  process.exitCode = exitCode;
}

/** Runs the `bluegreen` CLI with explicitly registered commands. */
export async function runCli(commands: readonly CommandModule[]): Promise<void> {
  const args = hideBin(process.argv);
  let cli = yargs(args).scriptName('bluegreen');
  for (const command of commands) cli = cli.command(command);
  await cli
    .demandCommand(1, 'name a stage: bluegreen <stage> --help')
    .strict()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail(
      failHandler(createLogger('bluegreen'), args, () => {
        process.exitCode = ExitCode.badInput;
      }),
    )
    .parseAsync();
}
