import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Code that a stage bundle carries as text (the AWS SDK, Handlebars: see
 * tsup.config.ts), in comments at its end, and loads through Node's module
 * loader on first use, so that Node's compile cache serves it where Node has
 * one (22.1+). A comment costs the bundle's every start almost nothing (code
 * costs its parse, a string its copy). Only the stage bundles use this.
 */

const EMBEDDED_MARK = '/*bluegreen:embedded ';

/** The id of an embedded module: its name and a hash of its text (so the compile cache never serves stale code). */
export function embeddedModuleId(name: string, source: string): string {
  return `bluegreen/${name}-${sha256(source).slice(0, 16)}.js`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The comment that carries `source` (ASCII, as esbuild writes it). A comment
 * cannot hold `*\/`, so `~` is written `~0` and `*\/` is written `~1`.
 */
export function embeddedComment(id: string, source: string): string {
  return `${EMBEDDED_MARK}${id}\n${source.replaceAll('~', '~0').replaceAll('*/', '~1')}\n*/\n`;
}

/** Reads the text of embedded module `id` back from the bundle `file`; checks it against the hash in its id. */
export function readEmbeddedSource(file: string, id: string): string {
  const bundle = readFileSync(file, 'utf8');
  const mark = `${EMBEDDED_MARK}${id}\n`;
  const start = bundle.indexOf(mark);
  const end = start < 0 ? -1 : bundle.indexOf('\n*/', start + mark.length);
  const source =
    end < 0 ? '' : bundle.slice(start + mark.length, end).replace(/~[01]/g, (escape) => (escape === '~0' ? '~' : '*/'));
  if (end < 0 || embeddedModuleId(id.replace(/^bluegreen\/(.*)-[0-9a-f]{16}\.js$/, '$1'), source) !== id) {
    throw new Error(`${file} is damaged: it no longer carries ${id} as built; fetch the bundle again`);
  }
  return source;
}

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
