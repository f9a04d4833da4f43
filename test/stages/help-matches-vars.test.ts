import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { STEP_OF_STAGE } from '../../src/stages/inputs/docs';
import { bundlePath } from '../helpers/run-stage';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
/** Options of every bundle that are how it is run, not input. */
const NOT_INPUT = new Set(['help', 'input', 'output']);

for (const [stage, step] of Object.entries(STEP_OF_STAGE)) {
  test(`${stage}.js --help and vars/${step}.txt name the same inputs`, async (t) => {
    const { stdout } = await run(process.execPath, [bundlePath(stage), '--help'], { timeout: 60_000 });
    const flags = [...stdout.matchAll(/^ {2}--(\w+)/gm)]
      .map((m) => m[1] as string)
      .filter((flag) => !NOT_INPUT.has(flag));
    const help = readFileSync(join(root, 'vars', `${step}.txt`), 'utf8');
    const documented = [...help.matchAll(/<dt><code>(\w+)<\/code>/g)].map((m) => m[1] as string);
    t.true(flags.length > 0, stdout);
    t.deepEqual([...flags].sort(), [...documented].sort());
  });
}
