import test from 'ava';
import { renderJUnit } from '../../src/stages/junit-report';
import { deployStageChecks, rolloutChecks } from '../../src/stages/junit-rollout';

const tg = (region: string) =>
  `arn:aws:elasticloadbalancing:${region}:123456789012:targetgroup/web-tg/0123456789abcdef`;
const deployed = (region: string, group: string, previous: string) => ({
  cluster: 'web-prod',
  region,
  status: 'succeeded',
  serverGroup: group,
  previousServerGroup: previous,
  targetGroups: [tg(region)],
  disabledServerGroups: [previous],
  destroyedServerGroups: [],
});

test("a rollout's checks are per region: each region's deploy checks and what the rollout did with it", (t) => {
  const output = {
    cluster: 'web-prod',
    rolloutId: '20261206T120000Z-abc123',
    status: 'succeeded',
    regions: [
      {
        region: 'us-east-1',
        wave: 0,
        status: 'succeeded',
        deploy: deployed('us-east-1', 'web-prod-v004', 'web-prod-v003'),
      },
      {
        region: 'eu-west-1',
        wave: 1,
        status: 'succeeded',
        deploy: deployed('eu-west-1', 'web-prod-v002', 'web-prod-v001'),
      },
    ],
  };
  t.deepEqual(rolloutChecks({ cluster: 'web-prod', exitCode: 0, output }), [
    { name: 'web-prod-v004 healthy in target group web-tg', group: 'us-east-1' },
    { name: 'web-prod-v003 drained and disabled', group: 'us-east-1' },
    { name: 'kept by the rollout', group: 'us-east-1' },
    { name: 'web-prod-v002 healthy in target group web-tg', group: 'eu-west-1' },
    { name: 'web-prod-v001 drained and disabled', group: 'eu-west-1' },
    { name: 'kept by the rollout', group: 'eu-west-1' },
  ]);
  const xml = renderJUnit('bluegreen deploy web-prod', deployStageChecks({ cluster: 'web-prod', exitCode: 0, output }));
  t.regex(xml, /classname="bluegreen deploy web-prod\.us-east-1" name="kept by the rollout"/);
  t.regex(xml, /classname="bluegreen deploy web-prod\.eu-west-1" name="web-prod-v002 healthy/);
});

test('a failed rollout: the failed region fails, a region put back is skipped, a region not reached is skipped', (t) => {
  const output = {
    error: {
      code: 'RolloutFailed',
      message: 'rollout r1: us-east-1 put back on web-prod-v003; eu-west-1 failed (left serving what it served before)',
      rolloutId: 'r1',
      regions: [
        {
          region: 'us-east-1',
          status: 'rolled-back',
          deploy: deployed('us-east-1', 'web-prod-v004', 'web-prod-v003'),
          rollback: { restoredServerGroup: 'web-prod-v003', mode: 'reenable' },
        },
        {
          region: 'eu-west-1',
          status: 'failed',
          error: { code: 'HealthCheckFailed', message: 'web-prod-v002 never became healthy', exitCode: 1 },
        },
        { region: 'ap-south-1', status: 'not-started' },
      ],
    },
  };
  const cases = deployStageChecks({ cluster: 'web-prod', exitCode: 1, output });
  const byRegion = (region: string) => cases.filter((c) => c.group === region);
  t.deepEqual(byRegion('us-east-1').at(-1), {
    name: 'put back by the rollout',
    skipped: 'another region failed: back on web-prod-v003',
    group: 'us-east-1',
  });
  t.deepEqual(byRegion('eu-west-1'), [
    {
      name: 'deploy of web-prod',
      failure: { type: 'HealthCheckFailed', message: 'web-prod-v002 never became healthy' },
      group: 'eu-west-1',
    },
  ]);
  t.is(byRegion('ap-south-1')[0]?.skipped, 'not started: an earlier wave failed');
  t.is(cases.filter((c) => c.failure).length, 1, 'only the failed region fails');
});

test("a single deploy's output is not a rollout's: its checks as before", (t) => {
  const output = deployed('us-east-1', 'web-prod-v004', 'web-prod-v003');
  t.is(rolloutChecks({ cluster: 'web-prod', exitCode: 0, output }), undefined);
  t.is(deployStageChecks({ cluster: 'web-prod', exitCode: 0, output }).length, 2);
});
