import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployStage, singleRegionRequest, type DeployStageRequest } from '../../../src/stages/deploy';
import { publishStage } from '../../../src/stages/publish';
import { statusStage } from '../../../src/stages/status';
import { PROJECT_DEFAULTS_FILE } from '../../../src/stages/resolve-input';
import { echoing, runStage } from '../helpers/run-stage';

// `.bluegreen.json` in the working directory (Jenkins: the workspace) holds defaults for every step,
// and per-cluster sections over them; order: flags > input JSON > config file > cluster section >
// defaults > declared defaults.
// The deploy request of a single-region deploy, echoed.
const deploy = { ...echoing(deployStage), run: async (input: DeployStageRequest) => singleRegionRequest(input) };
const given = ['--cluster', 'web-prod', '--ami-id', 'ami-0123456789abcdef0'];

test('defaults give the region and ledger, so a step need not repeat them', async (t) => {
  const files = {
    [PROJECT_DEFAULTS_FILE]: {
      defaults: { region: 'eu-west-1', ledger: { bucket: 'team-ledger' }, tags: { team: 'web' } },
    },
  };
  const run = await runStage(deploy, given, { files, env: { AWS_REGION: 'us-east-1' } });
  t.is(run.exitCode, 0, run.stderr);
  t.is(run.output.region, 'eu-west-1', 'the project file wins over the environment region');
  t.deepEqual(run.output.ledger, { bucket: 'team-ledger', prefix: 'bluegreen' });
  t.deepEqual(run.output.tags, { team: 'web' });
});

test('each layer wins over the ones under it', async (t) => {
  const layer = (minutes: number, keys: string[]): Record<string, string> =>
    Object.fromEntries(keys.map((key) => [key, `${minutes}m`]));
  const keys = ['healthTimeout', 'drainTimeout', 'scaleDownDelay', 'lockWait', 'lockLease'];
  const files = {
    [PROJECT_DEFAULTS_FILE]: {
      defaults: { ledger: { bucket: 'team-ledger' }, ...layer(1, keys) },
      clusters: {
        'web-prod': { ledger: { prefix: 'prod' }, ...layer(2, keys.slice(0, 4)) },
        'api-prod': { keepPrevious: 9 },
      },
    },
    'deploy.json': layer(3, keys.slice(0, 3)),
  };
  const run = await runStage(
    deploy,
    [...given, '--region', 'us-east-1', '--config', 'deploy.json', '--health-timeout', '5m'],
    {
      files,
      input: layer(4, keys.slice(0, 2)),
    },
  );
  t.is(run.exitCode, 0, run.stderr);
  t.like(run.output, {
    healthTimeoutSeconds: 300, // flag
    drainTimeoutSeconds: 240, // input JSON
    scaleDownDelaySeconds: 180, // config file
    lockWaitSeconds: 120, // .bluegreen.json, cluster section
    lockLeaseSeconds: 60, // .bluegreen.json, defaults
    keepPrevious: 2, // declared default (api-prod's section is not this cluster's)
  });
  t.deepEqual(run.output.ledger, { bucket: 'team-ledger', prefix: 'prod' }, 'objects merge key by key across layers');
});

test('a key another stage takes is ignored by this one; cluster keys never come from the file', async (t) => {
  const files = {
    [PROJECT_DEFAULTS_FILE]: {
      defaults: { region: 'us-east-1', bucket: 'artifacts', app: 'web', ledger: 's3://team-ledger/x' },
    },
  };
  const status = await runStage(echoing(statusStage), ['--cluster', 'api-prod'], { files });
  t.is(status.exitCode, 0, status.stderr);
  t.is(status.output.cluster, 'api-prod');
  t.deepEqual(status.output.ledger, { bucket: 'team-ledger', prefix: 'x' });
  const cwd = mkdtempSync(join(tmpdir(), 'unit-defaults-'));
  const publish = await runStage(echoing(publishStage), ['--file', join(cwd, 'a.tgz'), '--key', 'web/a.tgz'], {
    cwd,
    files: { ...files, 'a.tgz': 'artifact' },
  });
  t.is(publish.exitCode, 0, publish.stderr);
  t.like(publish.output.request, { bucket: 'artifacts', region: 'us-east-1', build: { app: 'web' } });
});

const bad: Array<[string, unknown, string, RegExp]> = [
  [
    'an unknown key in defaults',
    { defaults: { colour: 'blue' } },
    'defaults.colour',
    /not an input of any stage \(in .*\.bluegreen\.json\)/,
  ],
  [
    'an unknown key in a cluster section',
    { clusters: { 'web-prod': { ledgr: 'x' } } },
    'clusters.web-prod.ledgr',
    /not an input of any stage \(in .*\.bluegreen\.json\)/,
  ],
  [
    'an unknown section',
    { default: { region: 'us-east-1' } },
    'default',
    /not a section of \.bluegreen\.json.*\(in .*\.bluegreen\.json\)/,
  ],
  ['config in it', { defaults: { config: 'x.json' } }, 'defaults.config', /not an input of any stage/],
  ['a section that is not an object', { clusters: { 'web-prod': 'x' } }, 'clusters.web-prod', /must be an object/],
  ['not JSON', '{"defaults": ', '.bluegreen.json', /is not valid JSON/],
  ['a bad value in it', { defaults: { lockLease: 'soon' } }, 'lockLease', /like 90, "90s"/],
];

for (const [what, content, field, message] of bad) {
  test(`.bluegreen.json with ${what}: exit 2 naming ${field}, no AWS call`, async (t) => {
    const files = { [PROJECT_DEFAULTS_FILE]: content as Record<string, unknown> | string };
    const run = await runStage(deployStage, [...given, '--region', 'us-east-1', '--ledger', 's3://l-bucket'], {
      files,
    });
    t.is(run.exitCode, 2, run.stderr);
    t.is(run.output?.error?.field, field);
    t.regex(run.output?.error?.message ?? '', message);
    t.is(run.awsClientRequests, 0);
  });
}

test('a bad value from a file says which file it came from', async (t) => {
  const files = {
    [PROJECT_DEFAULTS_FILE]: { clusters: { 'web-prod': { healthTimeout: 'soon' } } },
    'deploy.json': { lockWait: -1 },
  };
  const fromProject = await runStage(deployStage, [...given, '--region', 'us-east-1', '--ledger', 's3://l-bucket'], {
    files,
  });
  t.is(fromProject.output.error.field, 'healthTimeout');
  t.is(fromProject.output.error.source, join(fromProject.cwd, PROJECT_DEFAULTS_FILE));
  t.regex(fromProject.stderr, /that value comes from .*\.bluegreen\.json/);
  const fromConfig = await runStage(
    deployStage,
    [
      ...given,
      '--region',
      'us-east-1',
      '--ledger',
      's3://l-bucket',
      '--config',
      'deploy.json',
      '--health-timeout',
      '1m',
    ],
    { files },
  );
  t.is(fromConfig.output.error.field, 'lockWait');
  t.is(fromConfig.output.error.source, 'deploy.json');
  const given2 = await runStage(
    deployStage,
    [...given, '--region', 'us-east-1', '--ledger', 's3://l-bucket', '--health-timeout', 'later'],
    { files },
  );
  t.is(given2.output.error.field, 'healthTimeout');
  t.is(given2.output.error.source, undefined, 'a value the step was given has no file to name');
});
