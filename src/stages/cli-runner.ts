import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { CommandModule } from 'yargs';
import { InputError, ExitCode } from '../core/errors';
import { createLogger } from '../core/log';
import { errorOutput, writeJsonFile, stageCommand, type StageDefinition } from './framework';

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
function failHandler(scope: string, args: readonly string[]) {
  return (message: string | undefined, error: Error | undefined): void => {
    if (error && !message) throw error;
    const text = message ?? error?.message ?? 'invalid command line';
    const unknown = /Unknown arguments?: (.+)/.exec(text);
    const field = unknown ? (unknown[1] as string).split(',')[0]?.trim() ?? 'arguments' : 'arguments';
    const inputError = new InputError(field, unknown ? 'is not a known option (see --help)' : text);
    createLogger(scope).error(`bad input: ${inputError.message}`);
    const outputPath = outputPathFromArgv(args);
    if (outputPath) writeJsonFile(outputPath, errorOutput(inputError));
    process.exitCode = ExitCode.badInput;
  };
}

/** Runs one stage as a standalone script (the per-stage bundle in resources/). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any stage, whatever its input type
export async function runStandalone(stage: StageDefinition<any, unknown>): Promise<void> {
  const args = hideBin(process.argv);
  const command = stageCommand(stage as StageDefinition<unknown, unknown>, '$0');
  await yargs(args)
    .scriptName(`${stage.name}.js`)
    .command(command)
    .strict()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail(failHandler(stage.name, args))
    .parseAsync();
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
    .fail(failHandler('bluegreen', args))
    .parseAsync();
}
