import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageDefinition } from '../../../src/stages/framework';
import {
  BAKE_STAGE,
  CLEANUP_STAGE,
  DEPLOY_STAGE,
  HISTORY_STAGE,
  PUBLISH_STAGE,
  ROLLBACK_STAGE,
  STAGES,
  STATUS_STAGE,
} from '../../../src/stages/list';
import { deployStage } from '../../../src/stages/deploy';
import { statusStage } from '../../../src/stages/status';
import { runStage } from '../helpers/run-stage';

// The one list of stages: the sh label the Jenkins runner shows before a run (`--names`), the build-page
// line a run leaves (`summary` in its output), and what derives from the list (bundles, steps).

const root = join(__dirname, '..', '..', '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

test('--names gives the cluster the stages name, web--canary for app and detail without a stack', async (t) => {
  const canary = await runStage(statusStage, ['--names', '--app', 'web', '--detail', 'canary']);
  t.is(canary.exitCode, 0, canary.stderr);
  t.deepEqual(canary.output, { cluster: 'web--canary', label: 'bluegreen status web--canary' });
  const full = await runStage(statusStage, ['--names'], { input: { app: 'web', stack: 'prod', detail: 'canary' } });
  t.is(full.output.cluster, 'web-prod-canary');
  t.is((await runStage(statusStage, ['--names', '--cluster', 'web-prod'])).output.cluster, 'web-prod');
});

test('--names needs no region and checks only the cluster keys; it never asks for AWS', async (t) => {
  const run = await runStage(deployStage, ['--names', '--app', 'web', '--stack', 'prod', '--health-timeout', 'soon'], {
    input: { amiId: 'ami-0123456789abcdef0', version: '1.4.0' },
  });
  t.is(run.exitCode, 0, run.stderr);
  t.deepEqual(run.output, {
    cluster: 'web-prod',
    label: 'bluegreen deploy web-prod → ami-0123456789abcdef0 (1.4.0)',
    junitReport: true,
  });
  t.is(run.awsClientRequests, 0);
});

test('--names takes the cluster keys from the config file too', async (t) => {
  const run = await runStage(deployStage, ['--names', '--config', 'deploy.json'], {
    files: { 'deploy.json': { app: 'api', stack: 'qa' } },
  });
  t.is(run.output.cluster, 'api-qa', run.stderr);
});

test('--names with a bad cluster name: exit 2 naming the field, as the run would', async (t) => {
  const run = await runStage(statusStage, ['--names', '--cluster', 'web prod']);
  t.is(run.exitCode, 2);
  t.is(run.output.error.field, 'cluster');
  t.regex(run.output.error.message, /web prod/);
});

test('the labels: what runs, on what, from the input as given', (t) => {
  const cluster = 'web-prod';
  t.is(
    DEPLOY_STAGE.label({ inputs: { amiId: 'ami-0123456789abcdef0' }, cluster }),
    'bluegreen deploy web-prod → ami-0123456789abcdef0',
  );
  t.is(DEPLOY_STAGE.label({ inputs: {}, cluster }), 'bluegreen deploy web-prod → ?');
  t.is(ROLLBACK_STAGE.label({ inputs: {}, cluster }), 'bluegreen rollback web-prod → previous');
  t.is(
    ROLLBACK_STAGE.label({ inputs: { to: 'web-prod-v003' }, cluster }),
    'bluegreen rollback web-prod → web-prod-v003',
  );
  t.is(BAKE_STAGE.label({ inputs: { app: 'web', version: '1.4.0' } }), 'bluegreen bake web 1.4.0');
  t.is(
    PUBLISH_STAGE.label({ inputs: { file: 'web.tgz', bucket: 'my-artifacts' } }),
    'bluegreen publish web.tgz → s3://my-artifacts',
  );
  t.is(STATUS_STAGE.label({ inputs: {}, cluster }), 'bluegreen status web-prod');
  t.is(HISTORY_STAGE.label({ inputs: {}, cluster }), 'bluegreen history web-prod');
  t.is(CLEANUP_STAGE.label({ inputs: {}, cluster }), 'bluegreen cleanup web-prod');
  t.is(
    DEPLOY_STAGE.label({ inputs: { amiId: { not: 'text' } } }),
    'bluegreen deploy  → ?',
    'never throws on odd input',
  );
});

test('the summaries: one build-page line per finished run', (t) => {
  const deployed = {
    cluster: 'web-prod',
    status: 'succeeded',
    serverGroup: 'web-prod-v004',
    amiId: 'ami-0123456789abcdef0',
  };
  const deploy = (inputs: Record<string, unknown>, output: Record<string, unknown>) =>
    DEPLOY_STAGE.summary({ inputs, cluster: 'web-prod' }, { ...deployed, ...output } as never);
  t.is(
    deploy({ version: '1.4.0' }, { previousServerGroup: 'web-prod-v003' }),
    'bluegreen deploy web-prod: web-prod-v004 serving ami-0123456789abcdef0 (1.4.0), was web-prod-v003',
  );
  t.is(
    deploy({}, { previousServerGroup: null }),
    'bluegreen deploy web-prod: web-prod-v004 serving ami-0123456789abcdef0, first server group',
  );
  t.is(deploy({}, { status: 'planned' }), 'bluegreen deploy web-prod: planned web-prod-v004 (nothing changed)');
  t.is(
    ROLLBACK_STAGE.summary({ inputs: { reason: 'v2 breaks checkout' }, cluster: 'web-prod' }, {
      cluster: 'web-prod',
      rolledBackFrom: 'web-prod-v001',
      restoredServerGroup: 'web-prod-v000',
      mode: 'reenable',
    } as never),
    'bluegreen rollback web-prod: web-prod-v001 → web-prod-v000 (reenable): v2 breaks checkout',
  );
  t.is(
    BAKE_STAGE.summary({ inputs: { app: 'web', version: '1.4.0' } }, {
      amiId: 'ami-0123456789abcdef0',
      amiName: 'web-1.4.0-20261206',
      region: 'us-east-1',
    } as never),
    'bluegreen bake web 1.4.0: ami-0123456789abcdef0 (web-1.4.0-20261206) in us-east-1',
  );
  const published = {
    artifactUrl: 's3://my-artifacts/web/1.4.0/web.tgz',
    sha256: 'ab'.repeat(32),
    alreadyPublished: true,
  };
  t.is(
    PUBLISH_STAGE.summary({ inputs: {} }, published as never),
    `bluegreen publish: s3://my-artifacts/web/1.4.0/web.tgz (sha256 ${'ab'.repeat(6)}…), already published`,
  );
  t.is(
    STATUS_STAGE.summary(
      { inputs: {}, cluster: 'web-prod' },
      {
        cluster: 'web-prod',
        serverGroups: [{}],
        active: 'web-prod-v004',
      },
    ),
    'bluegreen status web-prod: 1 server group(s), serving web-prod-v004',
  );
  t.is(
    HISTORY_STAGE.summary(
      { inputs: {}, cluster: 'web-prod' },
      {
        cluster: 'web-prod',
        records: [{}, {}],
        lock: { owner: 'jenkins/42' },
      },
    ),
    'bluegreen history web-prod: 2 record(s), locked by jenkins/42',
  );
  t.is(
    CLEANUP_STAGE.summary({ inputs: {}, cluster: 'web-prod' }, { cluster: 'web-prod', actions: [] }),
    'bluegreen cleanup web-prod: nothing to do',
  );
});

test('a finished run carries its summary line in its output; a failed one its error only', async (t) => {
  const status = {
    ...statusStage,
    run: async () => ({ cluster: 'web--canary', serverGroups: [], active: null, lock: null, deployments: [] }),
  } as StageDefinition<unknown, unknown>;
  const run = await runStage(status, ['--app', 'web', '--detail', 'canary', '--region', 'us-east-1']);
  t.is(run.exitCode, 0, run.stderr);
  t.is(run.output.summary, 'bluegreen status web--canary: 0 server group(s), serving none');
  const bad = await runStage(status, ['--cluster', 'web prod', '--region', 'us-east-1']);
  t.is(bad.exitCode, 2);
  t.deepEqual(Object.keys(bad.output), ['error']);
});

test('a summary that throws never fails the run it describes', async (t) => {
  const status = {
    ...statusStage,
    run: async () => ({ cluster: 'web-prod' }),
  } as unknown as StageDefinition<unknown, unknown>;
  const run = await runStage(status, ['--cluster', 'web-prod', '--region', 'us-east-1']);
  t.is(run.exitCode, 0, run.stderr);
  t.is(run.output.summary, 'bluegreen status web-prod: done');
  t.regex(run.stderr, /no summary line/);
});

test('every stage is named once: one bundle entry each, and its step runs it', (t) => {
  const names = STAGES.map((stage) => stage.name);
  t.deepEqual(new Set(names).size, names.length);
  const bins = readdirSync(join(root, 'src', 'bin')).map((file) => file.replace(/\.ts$/, ''));
  t.deepEqual(bins.sort(), [...names, 'junit-report'].sort(), 'src/bin/<stage>.ts for every stage (and the report)');
  for (const name of names) t.regex(read(`src/bin/${name}.ts`), new RegExp(`runStandalone\\(${name}Stage\\)`));
  // Each step's vars/<step>.groovy runs its own stage; no other var runs a stage by name.
  const steps = new Map(STAGES.flatMap((stage) => (stage.step ? [[stage.step, stage.name] as const] : [])));
  for (const file of readdirSync(join(root, 'vars')).filter((name) => name.endsWith('.groovy'))) {
    const step = file.replace(/\.groovy$/, '');
    const runs = [...read(`vars/${file}`).matchAll(/bluegreenStage\('([a-z-]+)'/g)].map((m) => m[1]);
    t.deepEqual(runs, steps.has(step) ? [steps.get(step)] : [], `vars/${file}`);
  }
  t.is(steps.size, STAGES.filter((stage) => stage.step).length);
  // The runner only runs: no stage's label, summary or cluster rule of its own.
  const runner = read('vars/bluegreenStage.groovy');
  for (const name of names)
    t.notRegex(runner, new RegExp(`(case|==)\\s*'${name}'`), `the runner decides nothing for ${name}`);
});
