import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedDocs, markers, STEP_OF_STAGE } from '../../../src/stages/inputs/docs';
import { STAGE_INPUTS } from '../../../src/stages/inputs/index';

const root = join(__dirname, '..', '..', '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

test('the input tables of vars/*.txt and the README are fresh (npm run docs:inputs)', (t) => {
  for (const [file, expected] of Object.entries(generatedDocs(read))) {
    t.is(read(file), expected, `${file} is stale: run npm run docs:inputs and commit it`);
  }
});

test("each step's help lists exactly its stage's declared inputs", (t) => {
  for (const [stage, step] of Object.entries(STEP_OF_STAGE)) {
    const text = read(`vars/${step}.txt`);
    const { begin, end } = markers();
    const section = text.slice(text.indexOf(begin), text.indexOf(end));
    const listed = [...section.matchAll(/<dt><code>(\w+)<\/code>/g)].map((m) => m[1]);
    t.deepEqual(listed, Object.keys(STAGE_INPUTS[stage] ?? {}), step);
  }
});

test('every stage with a README section has its table there', (t) => {
  const readme = read('README.md');
  for (const stage of Object.keys(STAGE_INPUTS)) t.true(readme.includes(markers(stage).end), stage);
});
