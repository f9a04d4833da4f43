import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { emulatorEnv } from '../helpers/moto';
import { startRecordingServer } from '../helpers/recording-server';
import { bundlePath } from '../helpers/run-stage';

const run = promisify(execFile);
const stages = readdirSync(join(__dirname, '..', '..', 'resources', 'bluegreen'))
  .filter((file) => file.endsWith('.js'))
  .map((file) => file.replace(/\.js$/, ''));
/**
 * Preloaded into a bundle's process (`node --require`): records every module
 * compiled after the bundle itself, by Node's module loader or by `vm.Script`
 * (how the bundle's loader compiles the code it carries), and the Node
 * built-ins loaded after it, and prints them at exit.
 */
const compileRecorder = join(mkdtempSync(join(tmpdir(), 'bundle-start-')), 'record-compiles.cjs');
writeFileSync(
  compileRecorder,
  `const Module = require('node:module');
const vm = require('node:vm');
const builtinsBefore = new Set(process.moduleLoadList);
const compile = Module.prototype._compile;
const compiled = [];
let first = true;
Module.prototype._compile = function (source, filename, ...rest) {
  if (first) first = false;
  else compiled.push(filename);
  return compile.call(this, source, filename, ...rest);
};
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(source, options) {
    super(source, options);
    compiled.push(options && options.filename);
  }
};
process.on('exit', () => {
  for (const filename of compiled) process.stderr.write('compiled ' + filename + '\\n');
  for (const entry of process.moduleLoadList) {
    if (!builtinsBefore.has(entry) && entry.startsWith('NativeModule ')) process.stderr.write('builtin ' + entry.slice(13) + '\\n');
  }
});
`,
);

/** The modules compiled after the bundle itself, ids without their hash: `bluegreen/main`, `bluegreen/aws-sdk`. */
function compiledModules(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('compiled '))
    .map((line) => line.slice('compiled '.length).replace(/-[0-9a-f]{16}\.js$/, ''))
    .sort();
}

/** The Node built-ins loaded after the recorder (the bundle's and Node's own, e.g. `internal/...`). */
function loadedBuiltins(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('builtin '))
    .map((line) => line.slice('builtin '.length));
}

/**
 * Built-ins a `--help` never needs, each a few ms of every start otherwise: `assert`
 * (yargs checks its own API with plain comparisons in the bundles: tsup.config.ts,
 * yargsAssert) and the HTTP stack, which only the AWS SDK loads.
 */
const NOT_FOR_HELP = ['assert', 'http', 'https', 'tls'];

test('every stage has a bundle', (t) => {
  t.true(stages.length >= 7, stages.join(', '));
});

for (const stage of stages) {
  test(`${stage}.js --help works from the minified bundle and loads no AWS SDK`, async (t) => {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--require', compileRecorder, bundlePath(stage), '--help'],
      { timeout: 60_000 },
    );
    t.regex(stdout, new RegExp(`^${stage}\\.js\\b`, 'm'));
    t.regex(stdout, /--output/);
    t.deepEqual(compiledModules(stderr), ['bluegreen/main'], 'nothing beyond the stage code the bundle carries');
    t.deepEqual(
      loadedBuiltins(stderr).filter((name) => NOT_FOR_HELP.includes(name)),
      [],
      'no built-in only a real run uses',
    );
  });
}

test('a call that reaches AWS loads the SDK, compiled from the text the bundle carries', async (t) => {
  const recorder = await startRecordingServer();
  try {
    const env = { ...process.env, ...emulatorEnv(recorder.endpoint), BLUEGREEN_AWS_MAX_ATTEMPTS: '1' };
    const failed = await run(
      process.execPath,
      ['--require', compileRecorder, bundlePath('status'), '--cluster', 'web-prod'],
      { env, timeout: 60_000 },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    t.is(failed?.code, 1, 'the recording server answers 500: the status call fails');
    t.true(recorder.requests.length > 0);
    t.deepEqual(compiledModules(failed?.stderr ?? ''), ['bluegreen/aws-sdk', 'bluegreen/main']);
  } finally {
    await recorder.close();
  }
});
