import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundlePath } from '../helpers/run-stage';

// The bundle looks for .bluegreen.json in the directory it runs in (in Jenkins: where the step runs,
// the workspace). The merge order is tested in-process (test/unit/stages/project-defaults.test.ts).
test('a bundle reads .bluegreen.json from its working directory: an unknown key there is exit 2 naming file and key', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'bluegreen-json-'));
  writeFileSync(join(cwd, '.bluegreen.json'), JSON.stringify({ defaults: { region: 'us-east-1', colour: 'blue' } }));
  const exitCode = await new Promise<number | null>((resolve) => {
    const child = execFile(process.execPath, [bundlePath('status'), '--cluster', 'web-prod', '--output', 'out.json'], {
      cwd,
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '' },
    });
    child.on('close', resolve);
  });
  t.is(exitCode, 2);
  const output = JSON.parse(readFileSync(join(cwd, 'out.json'), 'utf8'));
  t.is(output.error.field, 'defaults.colour');
  t.true(output.error.message.includes(join(cwd, '.bluegreen.json')), output.error.message);
});
