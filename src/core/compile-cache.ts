import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { debuglog } from 'node:util';
import { Script } from 'node:vm';
import zlib from 'node:zlib';

/**
 * How a stage bundle starts fast (see tsup.config.ts). A bundle is a small
 * loader followed by comments that carry code as text: the stage's own code
 * and the groups loaded on first use (the AWS SDK, Handlebars). A comment
 * costs the bundle's every start almost nothing (code costs its parse, a
 * string its copy). The loader compiles a text when it runs, with V8's code
 * cache: the compiled code of the first run, kept in the machine's temp dir
 * (the agent's, never the workspace), saves most of the compile on every later
 * run, on every Node version (Node 20 has no `module.enableCompileCache`).
 */

const EMBEDDED_MARK = '/*bluegreen:embedded ';

/** `NODE_DEBUG=bluegreen` logs what the cache did (hit, miss, rejected, written) to stderr. */
const debug = debuglog('bluegreen');

/** The id of an embedded module: its name and a hash of its text (so a cache never serves stale code). */
export function embeddedModuleId(name: string, source: string): string {
  return `bluegreen/${name}-${sha256(source).slice(0, 16)}.js`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** zlib's crc32 (Node >= 20.15, 22.2), or undefined on a Node without it. */
const crc32 = (zlib as { crc32?: (data: string) => number }).crc32;

/** The crc32 of a text in hex, as the comment that carries it gives it; undefined on a Node without crc32. */
function crc32Hex(text: string): string | undefined {
  return crc32 === undefined ? undefined : crc32(text).toString(16).padStart(8, '0');
}

/**
 * The comment that carries `source` (ASCII, as esbuild writes it). A comment
 * cannot hold `*\/`, so `~` is written `~0` and `*\/` is written `~1`. Its first
 * line gives the text's crc32 after the id when the building Node has crc32:
 * checking that at every start costs ~0.5 ms less than the id's sha256.
 */
export function embeddedComment(id: string, source: string): string {
  const crc = crc32Hex(source);
  return `${EMBEDDED_MARK}${id}${crc === undefined ? '' : ` crc32=${crc}`}\n${source.replaceAll('~', '~0').replaceAll('*/', '~1')}\n*/\n`;
}

/**
 * Reads the text of embedded module `id` back from `bundle` (the text of the
 * bundle file `file`); checks it against its crc32 (or the hash in its id), so a damaged
 * file never runs other code (nor gets a cache built for other code).
 */
export function readEmbeddedSource(file: string, id: string, bundle = readFileSync(file, 'utf8')): string {
  const mark = `${EMBEDDED_MARK}${id}`;
  const start = bundle.indexOf(mark);
  const lineEnd = start < 0 ? -1 : bundle.indexOf('\n', start + mark.length);
  const header = lineEnd < 0 ? undefined : bundle.slice(start + mark.length, lineEnd);
  const end = lineEnd < 0 ? -1 : bundle.indexOf('\n*/', lineEnd + 1);
  const source = end < 0 ? '' : unescapeComment(bundle.slice(lineEnd + 1, end));
  // The crc32 when the comment has one and this Node can check it, else the id's sha256.
  const crc = header === undefined ? undefined : /^ crc32=([0-9a-f]{8})$/.exec(header)?.[1];
  const actualCrc = crc === undefined ? undefined : crc32Hex(source);
  const intact =
    end >= 0 &&
    (header === '' || crc !== undefined) &&
    (actualCrc !== undefined
      ? actualCrc === crc
      : embeddedModuleId(id.replace(/^bluegreen\/(.*)-[0-9a-f]{16}\.js$/, '$1'), source) === id);
  if (!intact) throw new Error(`${file} is damaged: it no longer carries ${id} as built; fetch the bundle again`);
  return source;
}

/** Undoes {@link embeddedComment}'s escapes; by `indexOf`, as `~` is rare: a regex replace costs ~1.5 ms on the SDK. */
function unescapeComment(text: string): string {
  const parts: string[] = [];
  let from = 0;
  for (let at = text.indexOf('~'); at >= 0; at = text.indexOf('~', from)) {
    parts.push(text.slice(from, at), text[at + 1] === '1' ? '*/' : '~');
    from = at + 2;
  }
  parts.push(text.slice(from));
  return parts.join('');
}

/** Where compiled code is cached: the machine's temp dir (the agent's), one dir per user, never the workspace. */
export function compileCacheDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `bluegreen-compile-cache-${uid}`);
}

/** Node's own switch for its compile cache; it turns ours off too. */
function cacheDisabled(): boolean {
  return Boolean(process.env.NODE_DISABLE_COMPILE_CACHE);
}

/**
 * The cache dir, created 0700 when missing; undefined (no cache) when it is
 * not a real directory of ours that only we can write: a cache another user
 * can write could feed us code.
 */
function usableCacheDir(): string | undefined {
  try {
    const dir = compileCacheDir();
    // Only the dir itself, in a temp dir that exists: a recursive mkdir never
    // returns under some file systems (Node 20, a TMPDIR inside /proc).
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
    }
    const stat = lstatSync(dir);
    const ownedByUs = typeof process.getuid !== 'function' || stat.uid === process.getuid();
    return stat.isDirectory() && ownedByUs && (stat.mode & 0o022) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** The cache file of embedded module `id` for this Node (V8 rejects another version's cache anyway). */
export function compileCacheFile(dir: string, id: string): string {
  return join(dir, `${id.replace(/[^\w.-]/g, '_')}-${process.version}-${process.arch}.v8cache`);
}

/** A cache file's bytes: only a regular file of ours, never through a symlink; undefined when there is none. */
function readCacheFile(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    const stat = fstatSync(fd);
    if (!stat.isFile() || (typeof process.getuid === 'function' && stat.uid !== process.getuid())) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes a cache file whole or not at all (a temp file of our own, then renamed over it); false when it could not. */
function writeCacheFile(path: string, data: Buffer): boolean {
  const temp = join(dirname(path), `.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  try {
    writeFileSync(temp, data, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
    return true;
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // nothing was written
    }
    return false;
  }
}

/** A cache file older than this is removed when another is written (every new bundle build brings new ones). */
export const CACHE_FILE_MAX_AGE_MS = 14 * 24 * 3600 * 1000;

/**
 * Removes the cache files (and temp files left by a crash) older than
 * {@link CACHE_FILE_MAX_AGE_MS}: the dir would otherwise grow with every bundle
 * build used on the agent. Runs only when a file was written (rare); a file still
 * in use is written again by its next run. Never throws.
 */
function pruneCacheDir(dir: string): void {
  try {
    const now = Date.now();
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.v8cache') && !name.endsWith('.tmp')) continue;
      const path = join(dir, name);
      try {
        const stat = lstatSync(path);
        if (now - stat.mtimeMs > CACHE_FILE_MAX_AGE_MS) {
          unlinkSync(path);
          debug('compile cache removed (old): %s', path);
        }
      } catch {
        // gone already, or not ours to remove
      }
    }
  } catch {
    // no pruning this time
  }
}

/**
 * Embedded modules loaded by this run (past the main code), and chunks of
 * them run (a group runs each package's code on first use: tsup.config.ts,
 * bundleGroup). A cache file starts with this count as its writing run ended,
 * then V8's bytes: a cache holds only the functions its writing run compiled,
 * so the main code's cache written by a `--help` (or bad input) run, which
 * loads nothing, lacks the whole run path, and a status of groups bluegreen
 * made (no EC2 call) leaves EC2's code out of the SDK's: every later run that
 * goes further would compile the rest again.
 */
let embeddedLoaded = 0;

/** Scripts whose code cache is written when the process exits, with the count of loads that makes it worth it. */
const unsaved = new Map<string, { script: Script; ifLoadedMoreThan: number }>();

/**
 * Writes the code cache of what this run compiled, at exit, so that the
 * functions compiled lazily while it ran are in it too (not just the top level):
 * always for a script that had no usable cache, and for one whose cache was
 * written by a run that loaded fewer embedded modules (once: the new file says
 * how many this run loaded). Never throws: the cache only saves time.
 */
function saveAtExit(path: string, script: Script, ifLoadedMoreThan = -1): void {
  if (unsaved.size === 0) {
    process.once('exit', () => {
      let written = false;
      const loaded = Math.min(embeddedLoaded, 255);
      for (const [file, entry] of unsaved) {
        if (loaded <= entry.ifLoadedMoreThan) continue;
        try {
          const data = Buffer.concat([Buffer.of(loaded), entry.script.createCachedData()]);
          if (writeCacheFile(file, data)) {
            written = true;
            debug('compile cache written: %s', file);
          }
        } catch {
          // no cache this time
        }
      }
      const dir = dirname([...unsaved.keys()][0] as string);
      unsaved.clear();
      if (written) pruneCacheDir(dir);
    });
  }
  unsaved.set(path, { script, ifLoadedMoreThan });
}

/** A CommonJS module's function, as Node's module loader wraps one. */
type ModuleFunction = (
  exports: unknown,
  require: NodeJS.Require,
  module: { exports: unknown },
  filename: string,
  dirname: string,
) => void;

/**
 * Compiles CommonJS `source` into its module function, with the code cache
 * of `id` when there is a good one (a rejected or damaged one is ignored and
 * written again). `id` names the code in stack traces and keys its cache
 * (`cacheKey`, when the same code runs differently in different bundles): it
 * must change whenever the source does (it carries a hash of it).
 */
export function compileModule(id: string, source: string, cacheKey = id): ModuleFunction {
  const dir = cacheDisabled() ? undefined : usableCacheDir();
  const cacheFile = dir === undefined ? undefined : compileCacheFile(dir, cacheKey);
  const cached = cacheFile === undefined ? undefined : readCacheFile(cacheFile);
  // An empty or one-byte file still goes to V8, which rejects it (and it is written again).
  const cachedData = cached?.subarray(1);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: id,
    ...(cachedData ? { cachedData } : {}),
  });
  if (cacheFile === undefined) debug('compile cache off: %s', id);
  else if (cachedData && !script.cachedDataRejected) {
    debug('compile cache hit: %s', cacheFile);
    saveAtExit(cacheFile, script, cached?.[0] ?? 0);
  } else {
    debug('compile cache %s: %s', cachedData ? 'rejected' : 'miss', cacheFile);
    saveAtExit(cacheFile, script);
  }
  return script.runInThisContext() as ModuleFunction;
}

/** A require for embedded code: Node's built-in modules only (the rest is bundled into it). */
function builtinsOnly(bundleRequire: NodeJS.Require): NodeJS.Require {
  const require = (name: string): unknown => {
    if (!Module.isBuiltin(name)) {
      throw Object.assign(new Error(`Cannot find module '${name}' (embedded code loads Node's built-ins only)`), {
        code: 'MODULE_NOT_FOUND',
      });
    }
    return bundleRequire(name);
  };
  const { resolve, cache, main, extensions } = bundleRequire;
  return Object.assign(require, { resolve, cache, main, extensions });
}

/** Compiles and runs embedded CommonJS `source` as a module of its own; returns its exports. */
export function runEmbeddedModule(
  id: string,
  source: string,
  bundleRequire: NodeJS.Require = require,
  cacheKey = id,
): unknown {
  const module = { exports: {} as unknown };
  compileModule(id, source, cacheKey)(module.exports, builtinsOnly(bundleRequire), module, id, '.');
  return module.exports;
}

/** The embedded modules of the running bundle, found by {@link loadEmbedded}. */
interface EmbeddedModules {
  load(id: string): unknown;
  /** Counts a chunk that an embedded module ran (see {@link embeddedLoaded}). */
  chunkRan(): void;
}

/** The global symbol (`Symbol.for`) under which a bundle's embedded modules are found, by the loader and the group chunks. */
export const EMBEDDED_REGISTRY_KEY = 'bluegreen.embedded-modules';

const REGISTRY = Symbol.for(EMBEDDED_REGISTRY_KEY);

/**
 * Starts a stage bundle: reads the bundle file once, runs its main code (the
 * comment `mainId`) as the bundle module itself (same `module`, `require`,
 * `__filename`; `bundleRequire` is its `require`), and lets that code load the other embedded modules with
 * {@link loadEmbedded}. The one thing a bundle's loader calls.
 */
export function startBundle(bundleModule: NodeJS.Module, bundleRequire: NodeJS.Require, mainId: string): void {
  const file = bundleModule.filename;
  const text = readFileSync(file, 'utf8');
  const loaded = new Map<string, unknown>();
  const registry: EmbeddedModules = {
    load(id) {
      if (!loaded.has(id)) {
        // Cached per stage: the stages share the SDK's text but each runs its own part of it (the cache holds what ran).
        loaded.set(id, runEmbeddedModule(id, readEmbeddedSource(file, id, text), bundleRequire, `${id}-in-${mainId}`));
        embeddedLoaded += 1;
      }
      return loaded.get(id);
    },
    chunkRan() {
      embeddedLoaded += 1;
    },
  };
  (globalThis as Record<symbol, unknown>)[REGISTRY] = registry;
  const main = compileModule(mainId, readEmbeddedSource(file, mainId, text));
  main.call(bundleModule.exports, bundleModule.exports, bundleRequire, bundleModule, file, dirname(file));
}

/** The exports of embedded module `id` of the running bundle (loaded and run once, on first call). */
export function loadEmbedded(id: string): unknown {
  const registry = (globalThis as Record<symbol, EmbeddedModules | undefined>)[REGISTRY];
  if (!registry) throw new Error(`${id} is embedded in a stage bundle; it loads only there (npm run build)`);
  return registry.load(id);
}
