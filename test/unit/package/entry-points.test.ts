import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

// The package's two APIs: the engine (`bluegreen`, src/index.ts) and the sandbox
// (`bluegreen/sandbox`, src/sandbox/index.ts), each its own entry point.

const root = join(__dirname, '..', '..', '..');

/** Every .ts file under a src/ folder, relative to the repo. */
function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(folder, file));
}

/** The repo files a source file imports (type-only imports too), by relative specifier. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  return importedFiles
    .map((imported) => imported.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative(root, resolve(root, dirname(file), specifier)))
    .map((path) => (path.endsWith('.ts') ? path : ([`${path}.ts`, join(path, 'index.ts')].find(isSource) ?? path)));
}

function isSource(path: string): boolean {
  try {
    readFileSync(join(root, path));
    return true;
  } catch {
    return false;
  }
}

/** Every file reached from `entry` by imports (type-only ones too). */
function reached(entry: string): Set<string> {
  const seen = new Set<string>();
  const next = [entry];
  while (next.length > 0) {
    const file = next.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    next.push(...importsOf(file));
  }
  return seen;
}

test('the engine API reaches nothing of the sandbox; the sandbox has its own entry point', (t) => {
  const engine = [...reached('src/index.ts')];
  t.deepEqual(
    engine.filter((file) => file.startsWith('src/sandbox/')),
    [],
  );
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, { types: string; default: string }>;
  };
  t.deepEqual(pkg.exports['./sandbox'], { types: './dist/sandbox.d.ts', default: './dist/sandbox.js' });
  t.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', default: './dist/index.js' });
  t.true(reached('src/sandbox/index.ts').has('src/sandbox/sandbox.ts'));
});

test('no module of the sandbox imports one that imports it back', (t) => {
  const cycles: string[] = [];
  for (const file of sourceFiles('src/sandbox')) {
    for (const imported of importsOf(file)) {
      if (imported !== file && reached(imported).has(file)) cycles.push(`${file} -> ${imported}`);
    }
  }
  t.deepEqual(cycles, []);
});
