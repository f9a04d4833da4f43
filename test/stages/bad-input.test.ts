import test from 'ava';
import { emulatorEnv } from '../helpers/moto';
import { startRecordingServer, type RecordingServer } from '../helpers/recording-server';
import { runStageBundle } from '../helpers/run-stage';

let recorder: RecordingServer;

test.before(async () => {
  recorder = await startRecordingServer();
});
test.after.always(async () => {
  await recorder?.close();
});

// The whole bad-input table runs in-process (test/unit/stages/status-bad-input.test.ts); this is the
// spawned-bundle smoke: the bundle's own yargs rejects the flag, writes the error output and exits 2.
const cases: Array<{
  title: string;
  input?: Record<string, unknown> | string;
  args?: string[];
  field: string;
  pattern: RegExp;
}> = [
  {
    title: 'unknown flag',
    args: ['--cluster', 'web', '--colour', 'blue'],
    field: 'colour',
    pattern: /colour: is not a known (key|option)/,
  },
  {
    title: 'unknown key in the input file',
    input: { cluster: 'web', clustr: 'x' },
    field: 'clustr',
    pattern: /clustr: is not a known key/,
  },
];

for (const c of cases) {
  test(`status: ${c.title} → exit 2 naming ${c.field}, no AWS call`, async (t) => {
    const before = recorder.requests.length;
    const run = await runStageBundle('status', c.input, emulatorEnv(recorder.endpoint), c.args ?? []);
    t.is(run.exitCode, 2, run.stderr);
    t.is(run.output?.error?.code, 'BadInput');
    t.is(run.output?.error?.field, c.field);
    t.regex(run.output?.error?.message ?? '', c.pattern);
    t.regex(run.stderr, /bad input: /);
    t.is(recorder.requests.length, before, 'no request reached the AWS endpoint');
  });
}
