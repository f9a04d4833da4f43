import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compileCacheDir,
  compileCacheFile,
  embeddedComment,
  embeddedModuleId,
  loadEmbedded,
  readEmbeddedSource,
  runEmbeddedModule,
} from '../../src/core/compile-cache';

// The pieces of a stage bundle's loader, in-process. The bundles themselves (the loader, its cache in the
// temp dir) are run as processes in test/bundles/compile-cache.test.ts.

test('an embedded module runs from text, with Node built-ins, and returns its exports', (t) => {
  const exports = runEmbeddedModule(
    'bluegreen/test-basename.js',
    'exports.base = require("node:path").basename("/a/b.txt");',
  ) as { base: string };
  t.is(exports.base, 'b.txt');
});

test('embedded code may require only built-ins: the rest was bundled into it', (t) => {
  const error = t.throws(() => runEmbeddedModule('bluegreen/test-require.js', 'require("yargs");'));
  t.regex(error?.message ?? '', /Cannot find module 'yargs'.*built-ins only/);
  t.is((error as NodeJS.ErrnoException | undefined)?.code, 'MODULE_NOT_FOUND');
});

test('a stack trace through an embedded module names it by its id', (t) => {
  const { fail } = runEmbeddedModule(
    'bluegreen/test-thrower.js',
    'exports.fail = () => { throw new Error("boom"); };',
  ) as {
    fail: () => never;
  };
  const error = t.throws(fail);
  t.regex(error?.stack ?? '', /bluegreen\/test-thrower\.js/);
});

test('embedded text survives the trip through a comment, even with */ and ~ in it, and runs', (t) => {
  const source = 'exports.text = "a */ b ~0 ~1 ~ c*/"; /* inner */ exports.re = /x*\\//.source;';
  const id = embeddedModuleId('test-roundtrip', source);
  const dir = mkdtempSync(join(tmpdir(), 'embedded-'));
  const bundle = join(dir, 'stage.js');
  writeFileSync(bundle, `exports.main = 1;\n${embeddedComment(id, source)}`);
  t.is(readEmbeddedSource(bundle, id), source);
  t.is(readEmbeddedSource(bundle, id, readFileSync(bundle, 'utf8')), source);
  const loaded = runEmbeddedModule(id, readEmbeddedSource(bundle, id)) as { text: string; re: string };
  t.is(loaded.text, 'a */ b ~0 ~1 ~ c*/');
  t.is(loaded.re, 'x*\\/');
  // The file itself is still valid JavaScript: the comment hides the text.
  t.is((runEmbeddedModule('bluegreen/test-file.js', readFileSync(bundle, 'utf8')) as { main: number }).main, 1);
});

test('a damaged bundle says so instead of running other code', (t) => {
  const source = 'exports.answer = 42;';
  const id = embeddedModuleId('test-damaged', source);
  const dir = mkdtempSync(join(tmpdir(), 'embedded-'));
  const bundle = join(dir, 'stage.js');
  writeFileSync(bundle, embeddedComment(id, source).replace('42', '43'));
  t.throws(() => readEmbeddedSource(bundle, id), {
    message: /stage\.js is damaged: it no longer carries bluegreen\/test-damaged-[0-9a-f]{16}\.js/,
  });
  writeFileSync(bundle, 'exports.main = 1;\n');
  t.throws(() => readEmbeddedSource(bundle, id), { message: /is damaged/ });
});

test('the text is checked by the crc32 its comment gives, or by the sha256 in its id when the comment gives none', (t) => {
  const source = 'exports.answer = 42;';
  const id = embeddedModuleId('test-checked', source);
  const comment = embeddedComment(id, source);
  t.regex(comment.split('\n')[0] ?? '', / crc32=[0-9a-f]{8}$/, 'the building Node has zlib.crc32');
  const dir = mkdtempSync(join(tmpdir(), 'embedded-'));
  const bundle = join(dir, 'stage.js');
  const withoutCrc = comment.replace(/ crc32=[0-9a-f]{8}\n/, '\n');
  writeFileSync(bundle, withoutCrc);
  t.is(readEmbeddedSource(bundle, id), source);
  writeFileSync(bundle, withoutCrc.replace('42', '43'));
  t.throws(() => readEmbeddedSource(bundle, id), { message: /is damaged/ });
  writeFileSync(bundle, comment.replace(/crc32=[0-9a-f]{8}/, 'crc32=00000000'));
  t.throws(() => readEmbeddedSource(bundle, id), { message: /is damaged/ });
});

test('the compile cache lives in the temp dir, one dir per user, one file per module and Node version', (t) => {
  const dir = compileCacheDir();
  t.true(dir.startsWith(tmpdir()));
  t.regex(dir, /bluegreen-compile-cache-\w+$/);
  const file = compileCacheFile(dir, 'bluegreen/aws-sdk-0123456789abcdef.js');
  t.is(file, join(dir, `bluegreen_aws-sdk-0123456789abcdef.js-${process.version}-${process.arch}.v8cache`));
});

test('outside a stage bundle, an embedded module cannot be loaded, and says why', (t) => {
  t.throws(() => loadEmbedded('bluegreen/aws-sdk-0123456789abcdef.js'), { message: /loads only there/ });
});
