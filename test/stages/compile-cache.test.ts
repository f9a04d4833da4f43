import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compileCacheDir,
  embeddedComment,
  embeddedModuleId,
  enableCompileCache,
  loadEmbeddedModule,
  readEmbeddedSource,
} from '../../src/core/compile-cache';

test('an embedded module runs from text, with Node built-ins, and returns its exports', (t) => {
  const exports = loadEmbeddedModule(
    'bluegreen/test-basename.js',
    'exports.base = require("node:path").basename("/a/b.txt");',
  ) as { base: string };
  t.is(exports.base, 'b.txt');
});

test('a stack trace through an embedded module names it by its id', (t) => {
  const { fail } = loadEmbeddedModule(
    'bluegreen/test-thrower.js',
    'exports.fail = () => { throw new Error("boom"); };',
  ) as { fail: () => never };
  const error = t.throws(fail);
  t.regex(error?.stack ?? '', /bluegreen\/test-thrower\.js/);
});

test("Node's compile cache is on where Node has one, in the temp dir; elsewhere nothing happens", (t) => {
  t.notThrows(() => enableCompileCache());
  const node = Module as { enableCompileCache?: unknown; getCompileCacheDir?: () => string | undefined };
  // Node keeps one sub dir per Node version inside the dir given.
  if (typeof node.enableCompileCache === 'function')
    t.true(node.getCompileCacheDir?.()?.startsWith(`${compileCacheDir()}/`));
  else t.is(node.getCompileCacheDir, undefined, `Node ${process.version} has no compile cache`);
});

test('embedded text survives the trip through a comment, even with */ and ~ in it, and runs', (t) => {
  const source = 'exports.text = "a */ b ~0 ~1 ~ c*/"; /* inner */ exports.re = /x*\\//.source;';
  const id = embeddedModuleId('test-roundtrip', source);
  const dir = mkdtempSync(join(tmpdir(), 'embedded-'));
  const bundle = join(dir, 'stage.js');
  writeFileSync(bundle, `exports.main = 1;\n${embeddedComment(id, source)}`);
  t.is(readEmbeddedSource(bundle, id), source);
  const loaded = loadEmbeddedModule(id, readEmbeddedSource(bundle, id)) as { text: string; re: string };
  t.is(loaded.text, 'a */ b ~0 ~1 ~ c*/');
  t.is(loaded.re, 'x*\\/');
  // The file itself is still valid JavaScript: the comment hides the text.
  t.is((loadEmbeddedModule('bluegreen/test-file.js', readFileSync(bundle, 'utf8')) as { main: number }).main, 1);
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
