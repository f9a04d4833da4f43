import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Module from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundlePath } from '../helpers/run-stage';

// The stage bundles are plain: one minified CommonJS file per stage that Node's own loader runs, with
// every dependency inside it (Jenkins writes that one file and runs `node <stage>.js`), no code of
// ours that compiles code, and Node's own compile cache where the agent turns it on.

const run = promisify(execFile);
const BUNDLE_DIR = join(__dirname, '..', '..', 'resources', 'bluegreen');
const stages = readdirSync(BUNDLE_DIR)
  .filter((file) => file.endsWith('.js'))
  .map((file) => file.replace(/\.js$/, ''));
/** The size every bundle stays within (issue 13). */
const MAX_BUNDLE_BYTES = 1.5 * 1024 * 1024;

/**
 * Preloaded into a bundle's process (`node --require`): prints, at exit, every file Node's loader
 * compiled after the bundle and every script compiled through `node:vm`.
 */
const compileRecorder = join(mkdtempSync(join(tmpdir(), 'plain-bundle-')), 'record-compiles.cjs');
writeFileSync(
  compileRecorder,
  `const Module = require('node:module');
const vm = require('node:vm');
const compile = Module.prototype._compile;
const compiled = [];
let first = true;
Module.prototype._compile = function (source, filename, ...rest) {
  if (first) first = false;
  else compiled.push('module ' + filename);
  return compile.call(this, source, filename, ...rest);
};
for (const name of ['Script', 'compileFunction', 'runInThisContext', 'runInNewContext', 'runInContext']) {
  const original = vm[name];
  vm[name] = function (...args) {
    compiled.push('vm.' + name);
    return new.target ? Reflect.construct(original, args, new.target) : original.apply(this, args);
  };
}
process.on('exit', () => {
  for (const entry of compiled) process.stderr.write('compiled ' + entry + '\\n');
});
`,
);

test('every stage has a bundle, each within 1.5 MB', (t) => {
  t.true(stages.length >= 7, stages.join(', '));
  for (const stage of stages) {
    const bytes = statSync(bundlePath(stage)).size;
    t.true(bytes <= MAX_BUNDLE_BYTES, `${stage}.js is ${bytes} bytes`);
  }
});

for (const stage of stages) {
  test(`${stage}.js alone in an empty folder answers --help, compiling nothing but itself`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), `plain-${stage}-`));
    const copy = join(dir, `${stage}.js`);
    copyFileSync(bundlePath(stage), copy);
    const { stdout, stderr } = await run(process.execPath, ['--require', compileRecorder, copy, '--help'], {
      cwd: dir,
      timeout: 60_000,
    });
    t.regex(stdout, new RegExp(`^${stage}\\.js\\b`, 'm'));
    t.regex(stdout, /--output/);
    t.deepEqual(
      stderr.split('\n').filter((line) => line.startsWith('compiled ')),
      [],
      'no other file, no code compiled through node:vm',
    );
  });
}

/** Node's own module compile cache: from Node 22.1, turned on by NODE_COMPILE_CACHE (docs/architecture.md, "Shape"). */
const nodeHasCompileCache = typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

/** The files under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
}

test(`Node's compile cache keeps a bundle's compiled code when the agent turns it on (${process.version})`, async (t) => {
  if (!nodeHasCompileCache) {
    t.pass(`Node ${process.version} has no module compile cache: the bundles run without one`);
    return;
  }
  const cache = mkdtempSync(join(tmpdir(), 'plain-cache-'));
  const help = async (env: Record<string, string>) =>
    (
      await run(process.execPath, [bundlePath('status'), '--help'], {
        env: { ...process.env, ...env },
        timeout: 60_000,
      })
    ).stdout;
  const disabled = await help({ NODE_COMPILE_CACHE: cache, NODE_DISABLE_COMPILE_CACHE: '1' });
  t.deepEqual(filesUnder(cache), [], 'NODE_DISABLE_COMPILE_CACHE=1 keeps it off');
  const first = await help({ NODE_COMPILE_CACHE: cache });
  t.true(filesUnder(cache).length > 0, 'the first run writes the cache');
  // A run from the cache prints the same as one without it; a deleted cache is written again.
  t.is(await help({ NODE_COMPILE_CACHE: cache }), first);
  t.is(first, disabled);
});
