/**
 * `npm run docs:inputs`: writes the input tables of vars/<step>.txt and the
 * README from the input declarations (src/stages/inputs). `--check` only says
 * which files are stale and exits 1 (the unit test checks the same).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedDocs } from '../src/stages/inputs/docs';

const root = join(__dirname, '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');
const check = process.argv.includes('--check');
const stale: string[] = [];
for (const [file, text] of Object.entries(generatedDocs(read))) {
  if (read(file) === text) continue;
  stale.push(file);
  if (!check) writeFileSync(join(root, file), text);
}
if (check && stale.length > 0) {
  process.stderr.write(`stale input tables in ${stale.join(', ')}: run npm run docs:inputs\n`);
  process.exitCode = 1;
} else {
  process.stdout.write(stale.length > 0 ? `wrote ${stale.join(', ')}\n` : 'input tables are up to date\n');
}
