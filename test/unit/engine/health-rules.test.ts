import test from 'ava';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TargetHealthByGroup } from '../../../src/cluster/server-groups';
import { awsSecondsToMs, healthPollDelayMs, timeScale } from '../../../src/core/poll';
import { brokenBuildReasons, type BrokenBuildInput } from '../../../src/deploy/health-rules';

const TG_A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef';
const TG_B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/fedcba9876543210';

type State = [id: string, state: string, reason?: string];

function healthOf(byGroup: Record<string, State[]>): TargetHealthByGroup {
  return new Map(
    Object.entries(byGroup).map(([arn, states]) => [
      arn,
      states.map(([id, state, reason]): TargetHealthDescription => ({
        Target: { Id: id, Port: 80 },
        TargetHealth: { State: state as never, ...(reason ? { Reason: reason as never } : {}) },
      })),
    ]),
  );
}

function input(overrides: Partial<BrokenBuildInput> & { health: TargetHealthByGroup }): BrokenBuildInput {
  return {
    instances: [
      { InstanceId: 'i-1', LifecycleState: 'InService' },
      { InstanceId: 'i-2', LifecycleState: 'InService' },
    ],
    targetGroupArns: [TG_A],
    inServiceSince: new Map([
      ['i-1', 0],
      ['i-2', 0],
    ]),
    graceMs: 300_000,
    everHealthy: false,
    now: 10_000,
    ...overrides,
  };
}

const mismatch = 'Target.ResponseCodeMismatch';

test('broken: every InService instance answers its health check wrongly (ResponseCodeMismatch), even inside the grace period', (t) => {
  const reasons = brokenBuildReasons(
    input({
      health: healthOf({
        [TG_A]: [
          ['i-1', 'unhealthy', mismatch],
          ['i-2', 'unhealthy', mismatch],
        ],
      }),
    }),
  );
  t.is(reasons?.length, 2);
  t.regex(reasons?.[0] ?? '', /i-1 web unhealthy \(Target\.ResponseCodeMismatch/);
});

test('not broken while one instance is still initial (booting, first checks) or healthy', (t) => {
  t.is(
    brokenBuildReasons(
      input({
        health: healthOf({
          [TG_A]: [
            ['i-1', 'unhealthy', mismatch],
            ['i-2', 'initial', 'Elb.InitialHealthChecking'],
          ],
        }),
      }),
    ),
    undefined,
  );
  t.is(
    brokenBuildReasons(
      input({
        health: healthOf({
          [TG_A]: [
            ['i-1', 'unhealthy', mismatch],
            ['i-2', 'healthy'],
          ],
        }),
      }),
    ),
    undefined,
  );
});

test('never broken once any new instance was seen healthy during the wait (a flaky build that flaps)', (t) => {
  const health = healthOf({
    [TG_A]: [
      ['i-1', 'unhealthy', mismatch],
      ['i-2', 'unhealthy', mismatch],
    ],
  });
  t.is(brokenBuildReasons(input({ health, everHealthy: true })), undefined);
});

test('connection failures (Timeout, FailedHealthChecks) count only past the grace period: the app may still be starting', (t) => {
  const health = healthOf({
    [TG_A]: [
      ['i-1', 'unhealthy', 'Target.Timeout'],
      ['i-2', 'unhealthy', 'Target.FailedHealthChecks'],
    ],
  });
  t.is(brokenBuildReasons(input({ health, graceMs: 300_000, now: 299_999 })), undefined, 'inside the grace period');
  t.is(brokenBuildReasons(input({ health, graceMs: 300_000, now: 300_000 }))?.length, 2, 'past it');
  const late = new Map([
    ['i-1', 0],
    ['i-2', 200_000],
  ]);
  t.is(
    brokenBuildReasons(input({ health, graceMs: 300_000, now: 300_000, inServiceSince: late })),
    undefined,
    'grace counts per instance, from when it was InService',
  );
});

test('an instance failing in one of several target groups counts; instances not yet InService are not judged, but one InService is needed', (t) => {
  const health = healthOf({
    [TG_A]: [
      ['i-1', 'healthy'],
      ['i-2', 'unhealthy', mismatch],
    ],
    [TG_B]: [
      ['i-1', 'unhealthy', mismatch],
      ['i-2', 'healthy'],
    ],
  });
  t.is(brokenBuildReasons(input({ health, targetGroupArns: [TG_A, TG_B] }))?.length, 2);
  const pending = [
    { InstanceId: 'i-1', LifecycleState: 'InService' },
    { InstanceId: 'i-2', LifecycleState: 'Pending' },
  ];
  t.is(
    brokenBuildReasons(input({ health: healthOf({ [TG_A]: [['i-1', 'unhealthy', mismatch]] }), instances: pending }))
      ?.length,
    1,
  );
  t.is(
    brokenBuildReasons(
      input({ health: healthOf({ [TG_A]: [] }), instances: [{ InstanceId: 'i-2', LifecycleState: 'Pending' }] }),
    ),
    undefined,
  );
});

test('other unhealthy reasons (e.g. a health check the load balancer cannot run) are not read as a broken build', (t) => {
  t.is(
    brokenBuildReasons(
      input({
        health: healthOf({
          [TG_A]: [
            ['i-1', 'unhealthy', 'Elb.InternalError'],
            ['i-2', 'unhealthy', mismatch],
          ],
        }),
      }),
    ),
    undefined,
  );
});

test('poll scheduling: back off while nothing is registered; then wait for the moment a verdict can first be due; fast from then on', (t) => {
  t.is(healthPollDelayMs({ now: 0, dueAt: undefined, backoffMs: 4_000, fastMs: 1_000 }), 4_000);
  t.is(
    healthPollDelayMs({ now: 0, dueAt: 30_000, backoffMs: 4_000, fastMs: 1_000 }),
    30_000,
    'registered: no poll before a verdict can be due',
  );
  t.is(
    healthPollDelayMs({ now: 28_500, dueAt: 30_000, backoffMs: 10_000, fastMs: 1_000 }),
    1_500,
    'wake exactly when it can be due',
  );
  t.is(
    healthPollDelayMs({ now: 30_000, dueAt: 30_000, backoffMs: 10_000, fastMs: 1_000 }),
    1_000,
    'due: the fast period',
  );
  t.is(
    healthPollDelayMs({ now: 90_000, dueAt: 30_000, backoffMs: 500, fastMs: 1_000 }),
    500,
    'never slower than the backoff asks',
  );
});

test('AWS-declared seconds run on the sandbox clock only when BLUEGREEN_TIME_SCALE says so (default: real seconds)', (t) => {
  const saved = process.env.BLUEGREEN_TIME_SCALE;
  try {
    delete process.env.BLUEGREEN_TIME_SCALE;
    t.is(awsSecondsToMs(10), 10_000);
    process.env.BLUEGREEN_TIME_SCALE = '0.05';
    t.is(awsSecondsToMs(10), 500);
    for (const wrong of ['0', '-1', '2', 'fast']) {
      process.env.BLUEGREEN_TIME_SCALE = wrong;
      t.is(timeScale(), 1, `${wrong}: ignored`);
    }
  } finally {
    if (saved === undefined) delete process.env.BLUEGREEN_TIME_SCALE;
    else process.env.BLUEGREEN_TIME_SCALE = saved;
  }
});
