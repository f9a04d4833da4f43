import test from 'ava';
import Module from 'node:module';
import { compileCacheDir, enableCompileCache, loadEmbeddedModule } from '../../src/core/compile-cache';

test('an embedded module runs from text, with Node built-ins, and returns its exports', (t) => {
  const exports = loadEmbeddedModule('bluegreen/test-basename.js', 'exports.base = require("node:path").basename("/a/b.txt");') as { base: string };
  t.is(exports.base, 'b.txt');
});

test('a stack trace through an embedded module names it by its id', (t) => {
  const { fail } = loadEmbeddedModule('bluegreen/test-thrower.js', 'exports.fail = () => { throw new Error("boom"); };') as { fail: () => never };
  const error = t.throws(fail);
  t.regex(error?.stack ?? '', /bluegreen\/test-thrower\.js/);
});

test("Node's compile cache is on where Node has one, in the temp dir; elsewhere nothing happens", (t) => {
  t.notThrows(() => enableCompileCache());
  const node = Module as { enableCompileCache?: unknown; getCompileCacheDir?: () => string | undefined };
  // Node keeps one sub dir per Node version inside the dir given.
  if (typeof node.enableCompileCache === 'function') t.true(node.getCompileCacheDir?.()?.startsWith(`${compileCacheDir()}/`));
  else t.is(node.getCompileCacheDir, undefined, `Node ${process.version} has no compile cache`);
});
