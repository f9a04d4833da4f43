import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { classicElbCall, find, membersOf, textAt } from '../../src/sandbox/classic-elb';
import type { ListenerEndpoint } from '../../src/sandbox/load-balancer';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import { createAppAsg, getJson, makeAppAmi, waitFor } from './fixtures';

/**
 * Classic load balancers (issue #22), through boto3's `elb` client (Query API 2012-06-01):
 * real health checks answer DescribeInstanceHealth, the listener routes round robin over
 * InService instances, connection draining lets in-flight requests finish and then cuts them,
 * ASGs with LoadBalancerNames register and deregister, AWS/ELB metrics reach CloudWatch.
 */

const run = promisify(execFile);
let sandbox: Sandbox;
let clb: string;

// Scale 0.05: boot 0.5 s, health interval 0.5 s (3 checks to InService), draining 30 s → 1.5 s.
test.before(async () => {
  sandbox = await startSandbox({ infra: 'demo', classicLoadBalancer: true, timeScale: 0.05 });
  clb = sandbox.infra?.classicLoadBalancerName as string;
});

test.after.always(async () => {
  await sandbox?.stop();
});

/** Runs boto3 code with `elb` (a classic ELB client aimed at the gateway) and prints its JSON result. */
async function boto(code: string): Promise<unknown> {
  const { stdout } = await run(
    'python3',
    [
      '-c',
      `import boto3, json\nelb = boto3.client('elb', endpoint_url='${sandbox.endpoint}')\nresult = None\n${code}\nprint(json.dumps(result, default=str))`,
    ],
    { env: { ...process.env, ...sandbox.env() }, timeout: 60_000 },
  );
  return JSON.parse(stdout) as unknown;
}

type InstanceState = { InstanceId: string; State: string; ReasonCode: string; Description: string };

async function instanceHealth(): Promise<InstanceState[]> {
  return (await boto(
    `result = elb.describe_instance_health(LoadBalancerName='${clb}')['InstanceStates']`,
  )) as InstanceState[];
}

function classicListener(): ListenerEndpoint {
  const listener = sandbox.listeners().find((l) => l.type === 'classic' && l.loadBalancerName === clb);
  if (!listener) throw new Error(`no classic listener of ${clb}`);
  return listener;
}

function createClbAsg(name: string, amiId: string, desired: number): Promise<void> {
  return createAppAsg(sandbox.clients(), sandbox.infra!, name, amiId, desired, { loadBalancerNames: [clb] });
}

async function waitInService(ids: string[]): Promise<InstanceState[]> {
  return waitFor(
    `${ids.join(', ')} InService`,
    async () => {
      const states = await instanceHealth();
      return ids.every((id) => states.find((s) => s.InstanceId === id)?.State === 'InService') ? states : undefined;
    },
    30_000,
    300,
  );
}

test.serial(
  'the demo CLB listener is listed with its name and local URL; with no instance it answers 503',
  async (t) => {
    const listener = (
      (await getJson(`${sandbox.endpoint}/_sandbox/listeners`)).body?.listeners as ListenerEndpoint[]
    ).find((l) => l.type === 'classic');
    t.like(listener, { loadBalancerName: clb, region: 'us-east-1', protocol: 'HTTP', awsPort: 80 });
    t.regex(listener?.loadBalancerArn ?? '', new RegExp(`:loadbalancer/${clb}$`));
    t.is((await fetch(listener?.url as string)).status, 503);
  },
);

test.serial(
  'ASG instances with LoadBalancerNames register, start OutOfService, turn InService after real checks, and share traffic round robin',
  async (t) => {
    await createClbAsg('clb-v001', await makeAppAmi(sandbox.clients(), 'v1'), 2);
    // Asked at once (a Query request through the gateway): boto3 starts slower than these instances boot.
    const answer = await classicElbCall(sandbox.endpoint, sandbox.region, 'DescribeInstanceHealth', {
      LoadBalancerName: clb,
    });
    const first = membersOf(find(answer, 'InstanceStates')).map((m) => ({
      InstanceId: textAt(m, 'InstanceId') as string,
      State: textAt(m, 'State'),
      ReasonCode: textAt(m, 'ReasonCode'),
      Description: textAt(m, 'Description'),
    }));
    t.is(first.length, 2, 'moto registered the ASG instances');
    for (const state of first)
      t.like(state, {
        State: 'OutOfService',
        ReasonCode: 'ELB',
        Description: 'Instance registration is still in progress.',
      });
    const ids = first.map((s) => s.InstanceId);
    const healthy = await waitInService(ids);
    for (const state of healthy) t.like(state, { ReasonCode: 'N/A', Description: 'N/A' });
    const events = sandbox.timeline().events.filter((e) => e.kind === 'instance-health');
    for (const id of ids)
      t.deepEqual(
        events.filter((e) => e.kind === 'instance-health' && e.instanceId === id).map((e) => e.state),
        ['OutOfService', 'InService'],
        `the timeline shows ${id} registering, then InService`,
      );
    const seen = new Set<string>();
    for (let i = 0; i < 6; i += 1) {
      const { status, body } = await getJson(classicListener().url);
      t.is(status, 200);
      t.is(body?.version, 'v1');
      seen.add(String(body?.instanceId));
    }
    t.deepEqual([...seen].sort(), [...ids].sort(), 'round robin reaches both instances');
  },
);

test.serial('an instance failing its checks goes OutOfService (ReasonCode Instance) and gets no traffic', async (t) => {
  await createClbAsg('clb-bad-v001', await makeAppAmi(sandbox.clients(), 'v-bad', 'fail'), 1);
  const bad = sandbox.state().instances.find((i) => i.version === 'v-bad')?.instanceId as string;
  const state = await waitFor(
    'the bad instance OutOfService for failed checks',
    async () => {
      const s = (await instanceHealth()).find((x) => x.InstanceId === bad);
      return s?.ReasonCode === 'Instance' ? s : undefined;
    },
    30_000,
    300,
  );
  t.like(state, {
    State: 'OutOfService',
    Description: 'Instance has failed at least the UnhealthyThreshold number of health checks consecutively.',
  });
  for (let i = 0; i < 6; i += 1) t.is((await getJson(classicListener().url)).body?.version, 'v1');
  t.is(
    (await instanceHealth()).filter((s) => s.State === 'InService').length,
    2,
    "a second ASG on the CLB leaves the first one's instances registered (moto would drop them)",
  );
  await sandbox
    .clients()
    .autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'clb-bad-v001', DesiredCapacity: 0 }));
  // Scale-in deregisters it; DescribeInstanceHealth lists it while its connections drain (as AWS does), then not.
  t.true(
    await waitFor(
      'ASG scale-in deregistered it from the CLB',
      async () => ((await instanceHealth()).some((s) => s.InstanceId === bad) ? undefined : true),
      30_000,
      300,
    ),
  );
});

test.serial(
  'connection draining: in-flight requests finish, none new, and those still running at the timeout are cut',
  async (t) => {
    const ids = (await instanceHealth()).map((s) => s.InstanceId);
    const url = classicListener().url;
    // Round robin: the two requests land on the two instances; one ends within the 1.5 s of draining, one would not.
    const short = getJson(`${url}/?delay=600`);
    const long = fetch(`${url}/?delay=20000`).then((r) => r.status);
    await waitFor('both requests in flight', async () =>
      sandbox.state().instances.filter((i) => ids.includes(i.instanceId) && i.inFlight > 0).length === 2
        ? true
        : undefined,
    );
    await boto(
      `result = elb.deregister_instances_from_load_balancer(LoadBalancerName='${clb}', Instances=[${ids.map((id) => `{'InstanceId': '${id}'}`).join(', ')}])['Instances']`,
    );
    t.is((await fetch(url)).status, 503, 'deregistered instances get no new request');
    t.is((await short).status, 200, 'the short request finished');
    t.is(await long, 502, 'the long one was cut when draining ended');
    t.deepEqual(await instanceHealth(), []);
    const ends = sandbox
      .timeline()
      .events.filter((e) => e.kind === 'instance-health' && ids.includes(e.instanceId))
      .map((e) => (e.kind === 'instance-health' ? e.state : ''));
    t.deepEqual(ends.slice(-4).sort(), ['Draining', 'Draining', 'Removed', 'Removed']);
  },
);

test.serial(
  'AWS/ELB metrics by LoadBalancerName: RequestCount, HTTPCode_Backend_5XX, Latency with percentiles',
  async (t) => {
    const errors = await makeAppAmi(sandbox.clients(), 'v-errors', 'ok', { 'sandbox:errors': '1' });
    await createClbAsg('clb-errors-v001', errors, 1);
    const id = sandbox.state().instances.find((i) => i.version === 'v-errors')?.instanceId as string;
    await waitInService([id]);
    for (let i = 0; i < 5; i += 1) t.is((await fetch(classicListener().url)).status, 500);
    const query = (metric: string, stat: string) => ({
      Id: `${metric.toLowerCase().replace(/\W/g, '')}${stat.replace('.', '')}`.toLowerCase(),
      MetricStat: {
        Metric: { Namespace: 'AWS/ELB', MetricName: metric, Dimensions: [{ Name: 'LoadBalancerName', Value: clb }] },
        Period: 3600,
        Stat: stat,
      },
    });
    const results = await waitFor(
      'the errors in AWS/ELB',
      async () => {
        const answer = await sandbox.clients().cloudWatch.send(
          new GetMetricDataCommand({
            StartTime: new Date(Date.now() - 600_000),
            EndTime: new Date(Date.now() + 60_000),
            MetricDataQueries: [
              query('RequestCount', 'Sum'),
              query('HTTPCode_Backend_5XX', 'Sum'),
              query('Latency', 'p99'),
              query('HealthyHostCount', 'Maximum'),
            ],
          }),
        );
        const byId = new Map((answer.MetricDataResults ?? []).map((r) => [r.Id, r.Values?.[0]]));
        return byId.get('httpcode_backend_5xxsum') === 5 ? byId : undefined;
      },
      30_000,
      300,
    );
    t.true((results.get('requestcountsum') ?? 0) >= 5 + 6 + 6 + 2, 'every request routed so far');
    t.true((results.get('latencyp99') ?? 0) > 0);
    t.true((results.get('healthyhostcountmaximum') ?? 0) >= 1);
  },
);
