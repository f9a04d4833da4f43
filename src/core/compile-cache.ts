import { mkdirSync, statSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Loading code that a stage bundle carries as text (the AWS SDK, Handlebars:
 * see tsup.config.ts), through Node's module loader, so that Node's compile
 * cache serves it where Node has one (22.1+). Only the stage bundles use this.
 */

/** Where compiled code is cached: the machine's temp dir (the agent's), never the workspace. */
export function compileCacheDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `bluegreen-compile-cache-${uid}`);
}

let cacheTried = false;

/**
 * Turns on Node's compile cache (`module.enableCompileCache`, Node 22.1+) for
 * code compiled from now on; does nothing where Node has none (Node 20) or when
 * the cache dir is not ours alone (a cache another user can write could feed us
 * code). Never throws: the cache only saves time.
 */
export function enableCompileCache(): void {
  if (cacheTried) return;
  cacheTried = true;
  const enable = (Module as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
  if (typeof enable !== 'function') return;
  try {
    const dir = compileCacheDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = statSync(dir);
    const ownedByUs = typeof process.getuid !== 'function' || stat.uid === process.getuid();
    if (ownedByUs && (stat.mode & 0o022) === 0) enable(dir);
  } catch {
    // No cache: the code still compiles, only slower.
  }
}

/** What Node's module loader offers for compiling a module from text (`module._compile`, stable since Node 0.x). */
interface CompilableModule {
  filename: string;
  paths: string[];
  exports: unknown;
  _compile(source: string, filename: string): void;
}

/**
 * Compiles and runs CommonJS `source` as a module and returns its exports.
 * `id` names it in stack traces and keys the compile cache, so it must be the
 * same on every run for the same source (the bundle puts a hash of the source in it).
 * The source may require only Node's built-in modules.
 */
export function loadEmbeddedModule(id: string, source: string): unknown {
  enableCompileCache();
  const ModuleClass = Module as unknown as new (id: string) => CompilableModule;
  const embedded = new ModuleClass(id);
  embedded.filename = id;
  embedded.paths = [];
  embedded._compile(source, id);
  return embedded.exports;
}
