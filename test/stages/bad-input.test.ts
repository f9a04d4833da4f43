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

const cases: Array<{ title: string; input?: Record<string, unknown> | string; args?: string[]; field: string; pattern: RegExp }> = [
  { title: 'missing cluster name', input: { region: 'us-east-1' }, field: 'app', pattern: /app: is required/ },
  { title: 'app with a hyphen', input: { app: 'web-app' }, field: 'app', pattern: /app: may hold only/ },
  { title: 'cluster with a space', input: { cluster: 'web prod' }, field: 'cluster', pattern: /cluster: may hold only/ },
  { title: 'cluster that is a server group name', input: { cluster: 'web-prod-v003' }, field: 'cluster', pattern: /server group name/ },
  { title: 'both cluster and app', input: { cluster: 'web', app: 'web' }, field: 'cluster', pattern: /either cluster or app/ },
  { title: 'unknown flag', args: ['--cluster', 'web', '--colour', 'blue'], field: 'colour', pattern: /colour: is not a known (key|option)/ },
  { title: 'unknown key in the input file', input: { cluster: 'web', clustr: 'x' }, field: 'clustr', pattern: /clustr: is not a known key/ },
  { title: 'malformed JSON input file', input: '{"cluster": "web",', field: 'input', pattern: /input: .* is not valid JSON/ },
  { title: 'input file holding a list', input: '["web"]', field: 'input', pattern: /must hold a JSON object/ },
  { title: 'bad region string', input: { cluster: 'web', region: 'US East' }, field: 'region', pattern: /region: must be an AWS region/ },
  { title: 'region of the wrong type', input: { cluster: 'web', region: 5 }, field: 'region', pattern: /region: must be a string/ },
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
