import { defineConfig, type Options as TsupOptions } from 'tsup';
import { EMBEDDED_REGISTRY_KEY, embeddedComment, embeddedModuleId } from './src/core/compile-cache';
import { build as esbuild, transform, type Plugin } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import zlib from 'node:zlib';
import ts from 'typescript';

// Each embedded text's comment carries its crc32 only where the building Node has zlib.crc32:
// a build on an older Node would differ from the committed bundles, so it stops instead.
if (typeof (zlib as { crc32?: unknown }).crc32 !== 'function') {
  throw new Error(`npm run build needs Node >= 20.15 or 22.2 (zlib.crc32); this is ${process.version}`);
}

// One self-contained bundle per stage for Jenkins' libraryResource: every
// dependency inlined, no chunk files, runs on plain Node >= 20.
const stageEntries = Object.fromEntries(
  readdirSync('src/bin')
    .filter((file) => file.endsWith('.ts'))
    .map((file) => [file.replace(/\.ts$/, ''), `src/bin/${file}`]),
);

/**
 * Packages that a stage's `--help` and input validation never use, loaded only
 * when first used (see {@link lazyPackages}), by group: one group's packages
 * share code (the AWS SDK clients share the SDK core), so they load together.
 * Matched against imports in src/ only.
 */
const LAZY_GROUPS: Record<string, RegExp> = {
  // All of the SDK, so that src/ never holds a second copy of its classes (instanceof).
  'aws-sdk': /^@(aws-sdk|smithy)\//,
  handlebars: /^handlebars$/,
};

function lazyGroupOf(specifier: string): string | undefined {
  return Object.keys(LAZY_GROUPS).find((group) => LAZY_GROUPS[group]?.test(specifier));
}

/** Names that a source file imports as values from the package `from`. */
function valueImports(file: string, from: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022);
  const names = new Set<string>();
  for (const statement of source.statements) {
    if (
      ts.isExportDeclaration(statement) &&
      statement.moduleSpecifier &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      if (statement.moduleSpecifier.text === from && !statement.isTypeOnly)
        throw new Error(`${file}: re-exports from '${from}' are not loaded lazily; import and use the names`);
    }
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const clause = statement.importClause;
    if (statement.moduleSpecifier.text !== from || !clause || clause.isTypeOnly) continue;
    if (clause.name) names.add('default');
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings))
      throw new Error(`${file}: import * from '${from}' defeats lazy loading; import names`);
    for (const element of bindings && ts.isNamedImports(bindings) ? bindings.elements : []) {
      if (!element.isTypeOnly) names.add((element.propertyName ?? element.name).text);
    }
  }
  return [...names].sort();
}

/**
 * Loads the {@link LAZY_GROUPS} on first use instead of at startup, inside the
 * one bundle: a `--help` or a bad input never pays for the AWS SDK.
 * - Each import of a lazy package from `src/` resolves to a small CommonJS
 *   facade whose exports are getters (esbuild runs an ES module's imports when
 *   the bundle starts, a CommonJS module only when first `require`d). Reading
 *   one (`new DescribeImagesCommand(…)`) loads the group and returns the real
 *   value, so `instanceof` and class names stay intact.
 * - A group is bundled apart, tree-shaken to the names the stages' sources
 *   import, and carried as text in a comment at the end of each bundle that
 *   loads it, read back and compiled only when loaded (src/core/compile-cache.ts):
 *   code that is merely present still costs its parse at every start, a
 *   comment almost nothing. Requiring the packages lazily as modules of the
 *   bundle instead would keep esbuild from tree-shaking them.
 * - The stage's own code rides in a comment too, behind a small loader (the
 *   bundle's only code): the loader compiles each text with V8's code cache in
 *   the temp dir, which Node 20 has no other way to use for a bundle.
 */
function lazyPackages(
  entries: string[],
  options: { minify: boolean; keepNames: boolean },
): { esbuild: Plugin; tsup: TsupPlugin } {
  const namespace = 'lazy-package';
  const groupPrefix = 'lazy-package-group:';
  // id -> text of each group bundled so far; appended to the bundles that load it
  const embedded = new Map<string, string>();
  // The loader each bundle starts with (src/core/compile-cache.ts), built once; MAIN_ID_SLOT is its main code's id.
  let loader: Promise<string> | undefined;
  const buildLoader = async () => {
    const built = await esbuild({
      stdin: {
        contents: `require("./src/core/compile-cache.ts").startBundle(module, require, ${JSON.stringify(MAIN_ID_SLOT)});`,
        resolveDir: process.cwd(),
        loader: 'js',
      },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      write: false,
      logLevel: 'silent',
      ...options,
    });
    const code = built.outputFiles[0]?.text ?? '';
    if (!code.includes(JSON.stringify(MAIN_ID_SLOT))) throw new Error('the bundle loader lost its main id slot');
    return code.replace(/^"use strict";\n?/, '').trim();
  };
  const wrapInLoader: TsupPlugin = {
    name: 'embedded-modules',
    async renderChunk(code) {
      loader ??= buildLoader();
      const main = `${code.trimEnd()}\n`;
      const mainId = embeddedModuleId('main', main);
      const comments = [...embedded.keys()]
        .filter((id) => code.includes(id))
        .sort()
        .map((id) => embeddedComment(id, embedded.get(id) as string));
      const start = (await loader).replace(JSON.stringify(MAIN_ID_SLOT), JSON.stringify(mainId));
      return { code: [BANNER, `"use strict";${start}`, embeddedComment(mainId, main), ...comments].join('\n') };
    },
  };
  const plugin: Plugin = {
    name: namespace,
    setup(build) {
      // group -> package -> names imported by the sources the stage entries reach
      let usedNames: Promise<Map<string, Map<string, Set<string>>>> | undefined;
      build.onStart(() => {
        usedNames = undefined;
      });
      const findUsedNames = async () => {
        const reached = await esbuild({
          entryPoints: entries,
          bundle: true,
          platform: 'node',
          write: false,
          metafile: true,
          outdir: 'lazy-package-scan',
          logLevel: 'silent',
          plugins: [
            {
              name: 'lazy-package-scan',
              setup: (scan) =>
                scan.onResolve({ filter: /./ }, (args) =>
                  lazyGroupOf(args.path) && !args.importer.includes('node_modules')
                    ? { path: args.path, external: true }
                    : undefined,
                ),
            },
          ],
        });
        const used = new Map<string, Map<string, Set<string>>>();
        for (const [file, input] of Object.entries(reached.metafile.inputs).sort(([a], [b]) => byCodeUnits(a, b))) {
          for (const imported of input.imports) {
            const group = lazyGroupOf(imported.path);
            if (!group || !imported.external) continue;
            const packages = used.get(group) ?? new Map<string, Set<string>>();
            used.set(group, packages);
            const names = packages.get(imported.path) ?? new Set<string>();
            packages.set(imported.path, names);
            for (const name of valueImports(file, imported.path)) names.add(name);
          }
        }
        return used;
      };

      build.onResolve({ filter: /./ }, (args) => {
        if (args.namespace === namespace && args.path.startsWith(groupPrefix)) return { path: args.path, namespace };
        if (args.namespace === namespace || args.importer.includes('node_modules') || !lazyGroupOf(args.path))
          return undefined;
        return { path: args.path, namespace };
      });
      build.onLoad({ filter: /./, namespace }, async (args) => {
        usedNames ??= findUsedNames();
        const used = await usedNames;
        if (args.path.startsWith(groupPrefix)) {
          const group = args.path.slice(groupPrefix.length);
          const code = await bundleGroup([...(used.get(group)?.entries() ?? [])], options);
          const id = embeddedModuleId(group, code);
          embedded.set(id, code);
          return {
            contents: `module.exports = require("./src/core/compile-cache.ts").loadEmbedded(${JSON.stringify(id)});\n`,
            loader: 'js',
            resolveDir: process.cwd(),
          };
        }
        const group = lazyGroupOf(args.path) as string;
        const names = [...(used.get(group)?.get(args.path) ?? [])];
        const contents = [
          'let loaded;',
          `const load = () => (loaded ??= require(${JSON.stringify(groupPrefix + group)}).packages[${JSON.stringify(args.path)}]);`,
          'Object.defineProperty(exports, "__esModule", { value: true });',
          `for (const name of ${JSON.stringify(names)}) {`,
          '  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });',
          '}',
          '',
        ].join('\n');
        return { contents, loader: 'js', resolveDir: process.cwd() };
      });
    },
  };
  return { esbuild: plugin, tsup: wrapInLoader };
}

/**
 * One lazy group as one CommonJS text whose exports are `{ packages: { [package]: { [name]: value } } }`,
 * each package's getter running only the code that package needs: the group is
 * bundled once as ES modules split into chunks (one entry per package, shared
 * code in chunks of its own, each `import()` a chunk loaded when called), which
 * keeps esbuild's tree-shaking to the names used; each chunk is then made a
 * CommonJS function of a small registry that runs it on first `require`. So a
 * stage that uses three of the SDK's five clients never runs the other two's
 * code (nor the credential providers it does not call), and the group stays one
 * embedded text: one read, one code cache.
 */
async function bundleGroup(
  packages: Array<[string, Set<string>]>,
  options: { minify: boolean; keepNames: boolean },
): Promise<string> {
  const entryPrefix = 'lazy-group-entry:';
  const entries = packages.map(([pkg, names], i) => ({ file: `p${i}.js`, pkg, names: [...names] }));
  const split = await esbuild({
    entryPoints: Object.fromEntries(entries.map((entry, i) => [`p${i}`, `${entryPrefix}${i}`])),
    bundle: true,
    splitting: true,
    format: 'esm',
    outdir: 'lazy-group',
    entryNames: '[name]',
    chunkNames: 'c-[hash]',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    plugins: [
      literalSchemaKeys,
      {
        name: 'lazy-group-entries',
        setup(build) {
          build.onResolve({ filter: new RegExp(`^${entryPrefix}`) }, (args) => ({
            path: args.path,
            namespace: 'lazy-group-entry',
          }));
          build.onLoad({ filter: /./, namespace: 'lazy-group-entry' }, (args) => {
            const entry = entries[Number(args.path.slice(entryPrefix.length))];
            if (!entry) throw new Error(`no lazy group entry ${args.path}`);
            // A namespace import, not named ones: a type imported without `type` is no export at run time.
            const contents = [
              `import * as p from ${JSON.stringify(entry.pkg)};`,
              `export const names = { ${entry.names.map((n) => `${n}: p.${n}`).join(', ')} };`,
            ].join('\n');
            return { contents, loader: 'js', resolveDir: process.cwd() };
          });
        },
      },
    ],
    write: false,
    logLevel: 'silent',
    ...options,
  });
  const modules: string[] = [];
  for (const output of [...split.outputFiles].sort((a, b) => byCodeUnits(a.path, b.path))) {
    const name = output.path.slice(output.path.lastIndexOf('/') + 1);
    // The chunk as a CommonJS module; `import()` of a chunk becomes a `require` in a promise.
    const cjs = await transform(output.text, {
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      supported: NO_DYNAMIC_IMPORT,
      minify: options.minify,
    });
    modules.push(`${JSON.stringify(name)}: function (exports, require, module) {\n${cjs.code}}`);
  }
  return [
    `var chunks = {\n${modules.join(',\n')}\n};`,
    'var ran = new Map();',
    // The loader's count of code run, by which a code cache that lacks some is written again (compile-cache.ts).
    `var embedded = globalThis[Symbol.for(${JSON.stringify(EMBEDDED_REGISTRY_KEY)})];`,
    'function load(name) {',
    '  var module = ran.get(name);',
    '  if (module) return module.exports;',
    '  module = { exports: {} };',
    '  ran.set(name, module);',
    '  if (embedded) embedded.chunkRan();',
    // Like Node's loader: a chunk that throws is not kept half run (the next require runs it again).
    '  try {',
    '    chunks[name].call(module.exports, module.exports, chunkRequire, module);',
    '  } catch (error) {',
    '    ran.delete(name);',
    '    throw error;',
    '  }',
    '  return module.exports;',
    '}',
    'function chunkRequire(name) {',
    '  var chunk = name.startsWith("./") ? name.slice(2) : name;',
    '  return Object.prototype.hasOwnProperty.call(chunks, chunk) ? load(chunk) : require(name);',
    '}',
    `module.exports = { packages: { ${entries.map((entry) => `get ${JSON.stringify(entry.pkg)}() { return load(${JSON.stringify(entry.file)}).names; }`).join(', ')} } };`,
    '',
  ].join('\n');
}

/** Orders by UTF-16 code units, as a build on any machine does (`localeCompare` follows the locale). */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const BANNER = '// Generated by `npm run build` from src/ (bluegreen). Do not edit.';
/** Stands for the main code's id in the loader until the main code is known. */
const MAIN_ID_SLOT = 'bluegreen/main-id-slot';
/**
 * Bundled code runs compiled by the loader (vm.Script), where `import()` has no
 * loader to call: esbuild writes `import("node:http")` as a `require` instead.
 */
const NO_DYNAMIC_IMPORT = { 'dynamic-import': false };

/**
 * The AWS SDK clients' schemas (`dist-es/schemas/schemas_0.js`) write their
 * object keys as computed names of string constants (`{ [_xN]: _pDl }`); a
 * computed key may run code, so esbuild keeps every schema, used or not
 * (0.55 MB of EC2's). The same keys written as the strings they name make the
 * schemas plain data, which esbuild drops when no used command reaches them.
 */
const literalSchemaKeys: Plugin = {
  name: 'literal-schema-keys',
  setup(build) {
    build.onLoad(
      { filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ },
      (args) => {
        const source = readFileSync(args.path, 'utf8');
        const strings = new Map<string, string>();
        for (const [, name, value] of source.matchAll(/^const (_\w+) = ("[^"\\\n]*");$/gm))
          strings.set(name as string, value as string);
        // Only keys: `{` or `,` (and white space) before the `[`.
        const contents = source.replace(/([{,]\s*)\[(_\w+)\]:/g, (key, before: string, name: string) =>
          strings.has(name) ? `${before}${strings.get(name)}:` : key,
        );
        return { contents, loader: 'js' };
      },
    );
  },
};

/**
 * yargs looks for a package.json up from the bundle's folder when it starts, for
 * a `--version` the stages turn off: a `readdir` of every folder up to the root
 * (the agent's temp dir may hold thousands of entries) and maybe some other
 * project's package.json read. In the stage bundles its finder finds nothing.
 */
const noPackageSearch: Plugin = {
  name: 'no-package-search',
  setup(build) {
    build.onResolve({ filter: /^escalade\/sync$/ }, (args) => ({ path: args.path, namespace: 'no-package-search' }));
    build.onLoad({ filter: /.*/, namespace: 'no-package-search' }, () => ({
      contents: 'module.exports = function findUp() { return undefined; };\n',
      loader: 'js',
    }));
  },
};

/**
 * yargs checks its own API use with `assert` (`notStrictEqual`, `strictEqual`),
 * which costs loading `assert` at every start, and at every start one check
 * fails on purpose: with {@link noPackageSearch} its package.json lookup finds
 * nothing, and `notStrictEqual` builds an AssertionError (inspecting both values)
 * that yargs catches. In the stage bundles the two are plain comparisons
 * throwing a plain Error (the message when given, else one naming both values).
 */
const yargsAssert: Plugin = {
  name: 'yargs-assert',
  setup(build) {
    build.onResolve({ filter: /^(node:)?assert$/ }, (args) =>
      /[\\/]node_modules[\\/]yargs[\\/]/.test(args.importer)
        ? { path: 'assert', namespace: 'yargs-assert' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'yargs-assert' }, () => ({
      contents: [
        'exports.notStrictEqual = (actual, expected, message) => {',
        '  if (Object.is(actual, expected)) throw new Error(message ?? `Expected "actual" to be strictly unequal to: ${String(expected)}`);',
        '};',
        'exports.strictEqual = (actual, expected, message) => {',
        '  if (!Object.is(actual, expected)) throw new Error(message ?? `Expected values to be strictly equal: ${String(actual)} !== ${String(expected)}`);',
        '};',
        '',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

type TsupPlugin = NonNullable<TsupOptions['plugins']>[number];

/** Smaller is faster to start; keepNames because errors are named after their class (core/errors.ts). */
const STAGE_MINIFY = { minify: true, keepNames: true };
const stageLazyPackages = lazyPackages(Object.values(stageEntries), STAGE_MINIFY);

export default defineConfig([
  {
    entry: stageEntries,
    outDir: 'resources/bluegreen',
    format: ['cjs'],
    platform: 'node',
    target: 'node20',
    bundle: true,
    noExternal: [/.*/],
    splitting: false,
    sourcemap: false,
    ...STAGE_MINIFY,
    esbuildPlugins: [noPackageSearch, yargsAssert, stageLazyPackages.esbuild],
    esbuildOptions(options) {
      options.supported = { ...options.supported, ...NO_DYNAMIC_IMPORT };
    },
    plugins: [stageLazyPackages.tsup],
    clean: false,
    dts: false,
    outExtension: () => ({ js: '.js' }),
  },
  {
    entry: { cli: 'src/cli.ts', index: 'src/index.ts', sandbox: 'src/sandbox/index.ts' },
    outDir: 'dist',
    format: ['cjs'],
    platform: 'node',
    target: 'node20',
    splitting: false,
    sourcemap: true,
    clean: true,
    dts: { entry: { index: 'src/index.ts', sandbox: 'src/sandbox/index.ts' } },
  },
]);
