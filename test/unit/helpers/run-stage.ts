import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStageCommand } from '../../../src/stages/cli-runner';
import type { StageDefinition } from '../../../src/stages/framework';

/** What an in-process stage run did. */
export interface InProcessRun {
  exitCode: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the output document is checked by each test
  output: any;
  /** The log lines (what the bundle writes to stderr). */
  stderr: string;
  /** What yargs printed (`--help`). */
  printed: string;
  /** How many times the stage asked for AWS clients (a bad input must never). */
  awsClientRequests: number;
  /** The working directory of the run (a fresh temporary one unless given). */
  cwd: string;
}

/** Options of {@link runStage}. */
export interface InProcessOptions {
  /** An `--input` document, written to a file in `cwd`. */
  input?: Record<string, unknown> | string;
  /** Files to create in `cwd` first (name → content; objects are written as JSON). */
  files?: Record<string, string | Record<string, unknown>>;
  /** The environment for the region fallback (default: none at all). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Runs a stage definition in-process with argv, as its bundle would run it,
 * and captures the exit code, output and log (as wrangler's `runWrangler`):
 * no process, no port, no AWS — asking for AWS clients fails the run.
 */
export async function runStage(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any stage
  stage: StageDefinition<any, unknown, any>,
  args: string[] = [],
  options: InProcessOptions = {},
): Promise<InProcessRun> {
  const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), `unit-${stage.name}-`));
  for (const [name, content] of Object.entries(options.files ?? {})) {
    writeFileSync(join(cwd, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  const argv = [...args];
  if (options.input !== undefined) {
    writeFileSync(
      join(cwd, 'in.json'),
      typeof options.input === 'string' ? options.input : JSON.stringify(options.input),
    );
    argv.push('--input', join(cwd, 'in.json'));
  }
  const lines: string[] = [];
  let awsClientRequests = 0;
  const result = await runStageCommand(stage, argv, {
    inProcess: true,
    cwd,
    env: options.env ?? {},
    logSink: (line) => lines.push(line),
    clients: () => {
      awsClientRequests += 1;
      throw new Error('in-process stage runs make no AWS calls');
    },
  });
  return {
    exitCode: result.exitCode,
    output: result.output,
    printed: result.printed,
    stderr: lines.join('\n'),
    awsClientRequests,
    cwd,
  };
}

/** The stage with a run that returns its validated input, to see what a command line resolves to. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any stage
export function echoing<Input>(stage: StageDefinition<Input, unknown, any>): StageDefinition<Input, Input, any> {
  return {
    ...stage,
    run: async (input: Input) => input,
    summary: () => `echo of ${stage.name}`,
    exitCodeFor: undefined,
  };
}
