import test from 'ava';
import { CreateListenerCommand, CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createLogger } from '../../src/core/log';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import { executeStage } from '../../src/stages/framework';
import { deployStage } from '../../src/stages/deploy';
import { DEPLOY_REFUSALS, MISSING_RESOURCE_REFUSALS, type DeployRefusal } from '../helpers/deploy-refusals';
import { useEmulator } from '../helpers/moto';
import { makeAppAmi } from '../sandbox/fixtures';

// Bad input changes nothing: every refusal of the deploy stage (exit 2) comes before its first mutating
// attempt, counted at the sandbox gateway (anything but Describe*/Get*/List*/Head*), faulted attempts
// included. The stage runs in this process. Time scale 1: the demo target group (healthy threshold 3 ×
// interval 10 s) needs 30 real seconds before it can report an instance healthy, as on AWS.
let sandbox: Sandbox;
let base: Record<string, unknown>;
const lines: string[] = [];
const log = createLogger('deploy', (line) => lines.push(line));

test.before(async () => {
  sandbox = await startSandbox({ timeScale: 1, infra: 'demo', classicLoadBalancer: true });
  useEmulator(sandbox.endpoint, sandbox.region);
  const infra = sandbox.infra!;
  // For the canary's refusals: a target group no listener forwards to, and two that a listener weights together.
  const elbv2 = sandbox.clients().elbv2;
  const made: string[] = [];
  for (const name of ['bg-unlistened', 'bg-shared-a', 'bg-shared-b']) {
    const created = await elbv2.send(
      new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: infra.vpcId }),
    );
    made.push(created.TargetGroups?.[0]?.TargetGroupArn as string);
  }
  await elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: infra.loadBalancerArn,
      Protocol: 'HTTP',
      Port: 8081,
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: made[1], Weight: 50 },
              { TargetGroupArn: made[2], Weight: 50 },
            ],
          },
        },
      ],
    }),
  );
  base = {
    region: sandbox.region,
    cluster: 'web-prod',
    amiId: await makeAppAmi(sandbox.clients(), '1.0.0'),
    targetGroups: [infra.targetGroupName],
    capacity: { min: 1, max: 2, desired: 1 },
    instanceType: 't3.micro',
    subnets: infra.subnetIds,
    ledger: { bucket: infra.ledgerBucket },
    version: '1.0.0',
  };
});

test.after.always(async () => {
  await sandbox?.stop();
});

/** The refusals only AWS can tell: what the input names must exist, and durations must fit the target groups. */
const NEED_AWS: DeployRefusal[] = [
  {
    title: 'healthTimeout " 5 " (5 s, padded) below the 30 s the target group needs to report healthy',
    change: { healthTimeout: ' 5 ' },
    field: 'healthTimeout',
    pattern: /is 5s, shorter than the 30s .*bluegreen-demo-web \(healthy threshold 3 × interval 10s\).*at least 30s/,
  },
  {
    title: 'healthTimeout one second short of the target group',
    change: { healthTimeout: '29s' },
    field: 'healthTimeout',
    pattern: /is 29s, shorter than the 30s/,
  },
  {
    title: 'healthTimeout below the 30 s a classic load balancer alone needs to report healthy',
    change: { targetGroups: undefined, loadBalancerNames: ['bluegreen-demo-classic'], healthTimeout: '29s' },
    field: 'healthTimeout',
    pattern:
      /is 29s, shorter than the 30s .*classic load balancer bluegreen-demo-classic \(healthy threshold 3 × interval 10s\)/,
  },
  {
    title: 'a ledger bucket that does not exist',
    change: { ledger: { bucket: 'no-such-ledger-bucket' } },
    field: 'ledger.bucket',
    pattern: /bucket "no-such-ledger-bucket" does not exist \(checked before taking the lock, nothing changed\)/,
  },
  ...MISSING_RESOURCE_REFUSALS,
  {
    title: 'canary on a target group no listener forwards to',
    change: { strategy: 'canary', steps: [10, 100], targetGroups: ['bg-unlistened'] },
    field: 'targetGroups',
    pattern: /canary needs a listener or rule forwarding to .*bg-unlistened.*; none does/,
  },
  {
    title: 'canary on a target group a listener weights with another',
    change: { strategy: 'canary', steps: [10, 100], targetGroups: ['bg-shared-a'] },
    field: 'targetGroups',
    pattern: /forwards to 2 target groups .*: a canary needs each listener action .* to forward to it alone/,
  },
  {
    title: 'canary of a cluster whose name leaves no room for the canary target group name',
    change: { strategy: 'canary', steps: [10, 100], cluster: 'web-prod-with-a-long-name' },
    field: 'cluster',
    pattern: /canary needs target group names of at most 32 characters \(web-prod-with-a-long-name-v000-cy0 is 34\)/,
  },
  {
    title: 'first deploy without capacity',
    change: {},
    drop: ['capacity'],
    field: 'capacity',
    pattern: /required on the first deploy/,
  },
  {
    title: 'first deploy without target groups',
    change: {},
    drop: ['targetGroups'],
    field: 'targetGroups',
    pattern: /required on the first deploy/,
  },
];

async function deploy(input: Record<string, unknown>) {
  sandbox.resetCalls();
  const run = await executeStage(deployStage, input, log);
  return { run, calls: sandbox.calls() };
}

test.serial('the valid input the table mutates: its plan is made (exit 0) with no mutating call', async (t) => {
  const { run, calls } = await deploy({ ...base, plan: true });
  t.is(run.exitCode, 0, JSON.stringify(run.output));
  t.is(calls.mutating, 0, JSON.stringify(calls.calls));
  // At exactly the target group's 30 s the timeout can work.
  t.is((await deploy({ ...base, plan: true, healthTimeout: '30s' })).run.exitCode, 0);
  // Behind the classic load balancer too (alone and beside the target group).
  const clb = { loadBalancerNames: ['bluegreen-demo-classic'], plan: true };
  const both = await deploy({ ...base, ...clb });
  t.is(both.run.exitCode, 0, JSON.stringify(both.run.output));
  t.is(both.calls.mutating, 0, JSON.stringify(both.calls.calls));
  t.is((await deploy({ ...base, ...clb, targetGroups: undefined, healthTimeout: '30s' })).run.exitCode, 0);
});

for (const c of [...NEED_AWS, ...DEPLOY_REFUSALS]) {
  test.serial(`deploy: ${c.title} → exit 2 naming ${c.field}, 0 mutating calls`, async (t) => {
    const input = { ...base, ...c.change };
    for (const key of c.drop ?? []) delete input[key];
    const { run, calls } = await deploy(input);
    const error = 'error' in run.output ? run.output.error : undefined;
    t.is(run.exitCode, 2, JSON.stringify(run.output));
    t.is(error?.field, c.field, JSON.stringify(run.output));
    t.regex(String(error?.message), c.pattern);
    t.is(calls.mutating, 0, `mutating attempts: ${JSON.stringify(calls.calls)}`);
  });
}

test.serial(
  'a ledger bucket these credentials may not use: exit 2 naming ledger.bucket, 0 mutating calls',
  async (t) => {
    const fault = sandbox.addFault({
      kind: 'fail',
      service: 's3',
      action: 'HeadBucket',
      count: 1,
      code: 'Forbidden',
      status: 403,
    });
    try {
      const { run, calls } = await deploy(base);
      const error = 'error' in run.output ? run.output.error : undefined;
      t.is(run.exitCode, 2, JSON.stringify(run.output));
      t.is(error?.field, 'ledger.bucket');
      t.regex(
        String(error?.message),
        /access denied to s3:\/\/.* \(HeadBucket, checked before taking the lock, nothing changed\).*s3:ListBucket/,
      );
      t.is(calls.mutating, 0, `mutating attempts: ${JSON.stringify(calls.calls)}`);
    } finally {
      sandbox.removeFault(fault.id);
    }
  },
);

test.serial(
  'a test listener for a cluster behind a classic load balancer alone: exit 2 naming testListener, 0 mutating calls',
  async (t) => {
    const { run, calls } = await deploy({
      ...base,
      targetGroups: undefined,
      loadBalancerNames: ['bluegreen-demo-classic'],
      beforeTraffic: 'true',
      testListener: sandbox.infra!.listenerArn,
    });
    const error = 'error' in run.output ? run.output.error : undefined;
    t.is(run.exitCode, 2, JSON.stringify(run.output));
    t.is(error?.field, 'testListener');
    t.regex(String(error?.message), /needs a target group/);
    t.is(calls.mutating, 0, `mutating attempts: ${JSON.stringify(calls.calls)}`);
  },
);
