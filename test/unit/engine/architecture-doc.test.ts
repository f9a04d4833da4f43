import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

// docs/architecture.md is the map of the code: every folder of src/ is on it, by its path.

const root = join(__dirname, '..', '..', '..');

function foldersUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return [path, ...foldersUnder(path)];
    });
}

test('docs/architecture.md names every folder of src/', (t) => {
  const page = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  const folders = foldersUnder(join(root, 'src')).map((dir) => relative(root, dir).split('\\').join('/'));
  t.true(folders.length > 10);
  const missing = folders.filter((folder) => !page.includes(`\`${folder}/\``));
  t.deepEqual(missing, [], `name these in docs/architecture.md ("Engine modules"), as \`src/…/\``);
});

test('docs/architecture.md lists every layer the import lint knows, and the lint every folder of src/', (t) => {
  const page = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the lint's own config, CommonJS
  const config = require(join(root, '.dependency-cruiser.cjs')) as { forbidden: Array<{ name: string }> };
  const layered = config.forbidden.filter((rule) => rule.name.startsWith('layer-')).map((rule) => rule.name.slice(6));
  const top = readdirSync(join(root, 'src'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  t.deepEqual([...layered].sort(), [...top].sort());
  const layers = page.slice(page.indexOf('**Layers only call down**'), page.indexOf('## Names and tags'));
  for (const folder of top) t.true(layers.includes(`\`${folder}\``), `${folder} in the layer list`);
});
