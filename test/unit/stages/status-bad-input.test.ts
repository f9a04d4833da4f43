import test from 'ava';
import { statusStage } from '../../../src/stages/status';
import { runStage } from '../helpers/run-stage';

// The status stage's bad-input table, in-process (one spawned-bundle smoke stays in test/stages/bad-input.test.ts).
interface Case {
  title: string;
  input?: Record<string, unknown> | string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  field: string;
  pattern: RegExp;
}

const cases: Case[] = [
  { title: 'missing cluster name', input: { region: 'us-east-1' }, field: 'app', pattern: /app: is required/ },
  { title: 'app with a hyphen', input: { app: 'web-app' }, field: 'app', pattern: /app: may hold only/ },
  {
    title: 'cluster with a space',
    input: { cluster: 'web prod' },
    field: 'cluster',
    pattern: /cluster: may hold only/,
  },
  {
    title: 'cluster that is a server group name',
    input: { cluster: 'web-prod-v003' },
    field: 'cluster',
    pattern: /server group name/,
  },
  {
    title: 'both cluster and app',
    input: { cluster: 'web', app: 'web' },
    field: 'cluster',
    pattern: /either cluster or app/,
  },
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
  {
    title: 'malformed JSON input file',
    input: '{"cluster": "web",',
    field: 'input',
    pattern: /input: .* is not valid JSON/,
  },
  { title: 'input file holding a list', input: '["web"]', field: 'input', pattern: /must hold a JSON object/ },
  {
    title: 'bad region string',
    input: { cluster: 'web', region: 'US East' },
    field: 'region',
    pattern: /region: must be an AWS region/,
  },
  {
    title: 'region of the wrong type',
    input: { cluster: 'web', region: 5 },
    field: 'region',
    pattern: /region: must be a string/,
  },
  { title: 'no region anywhere', input: { cluster: 'web' }, env: {}, field: 'region', pattern: /region: is required/ },
  {
    title: 'bad ledger given as a flag',
    args: ['--cluster', 'web', '--ledger.bucket', 'Bad_Bucket'],
    field: 'ledger.bucket',
    pattern: /not a valid S3 bucket name/,
  },
];

for (const c of cases) {
  test(`status: ${c.title} → exit 2 naming ${c.field}, no AWS call`, async (t) => {
    const run = await runStage(statusStage, c.args ?? [], {
      input: c.input,
      env: c.env ?? { AWS_REGION: 'us-east-1' },
    });
    t.is(run.exitCode, 2, run.stderr);
    t.is(run.output?.error?.code, 'BadInput');
    t.is(run.output?.error?.field, c.field);
    t.regex(run.output?.error?.message ?? '', c.pattern);
    t.regex(run.stderr, /bad input: /);
    t.is(run.awsClientRequests, 0, 'no AWS client was even built');
  });
}
