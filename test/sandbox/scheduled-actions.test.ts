import test from 'ava';
import {
  DescribeAutoScalingGroupsCommand,
  DescribeScheduledActionsCommand,
  PutScheduledUpdateGroupActionCommand,
  SuspendProcessesCommand,
} from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../../src/aws/clients';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import { dueActions } from '../../src/sandbox/scheduled-actions';
import { createAppAsg, getJson, makeAppAmi, waitFor } from './fixtures';

// Moto stores scheduled actions and runs none; the sandbox runs one-time actions at their time,
// and a scale-in waits for the leaving instances' targets to drain, as an ASG in a target group does on AWS.
const SCALE = 0.05;
let sandbox: Sandbox;
let aws: AwsClients;

test.before(async () => {
  sandbox = await startSandbox({ timeScale: SCALE, infra: 'demo' });
  aws = sandbox.clients();
});

test.after.always(async () => {
  await sandbox?.stop();
});

async function instancesOf(name: string): Promise<number | undefined> {
  const out = await aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return out.AutoScalingGroups?.[0]?.Instances?.length;
}

async function servingGroup(name: string, version: string): Promise<void> {
  const infra = sandbox.infra;
  if (!infra) throw new Error('no demo infra');
  await createAppAsg(aws, infra, name, await makeAppAmi(aws, version), 2);
  await waitFor(
    `${name} serving`,
    async () => ((await getJson(`${sandbox.listenerUrl}/`)).body?.version === version ? true : undefined),
    60_000,
    100,
  );
}

test.serial(
  'a due scale-to-0 action runs at its time, after the targets drained; a request in flight finishes',
  async (t) => {
    await servingGroup('sched-a', 'a-1');
    const slow = fetch(`${sandbox.listenerUrl}/?delay=1000`).then(async (r) => ({
      status: r.status,
      body: await r.text(),
    }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const at = Date.now() + 300;
    await aws.autoScaling.send(
      new PutScheduledUpdateGroupActionCommand({
        AutoScalingGroupName: 'sched-a',
        ScheduledActionName: 'to-zero',
        StartTime: new Date(at),
        MinSize: 0,
        DesiredCapacity: 0,
      }),
    );
    t.is(await instancesOf('sched-a'), 2, 'nothing happens before StartTime');
    const answer = await slow;
    t.is(answer.status, 200, `the request in flight when the scale-in began finished: ${answer.body}`);
    const emptyAt = await waitFor(
      'sched-a at 0 instances',
      async () => ((await instancesOf('sched-a')) === 0 ? Date.now() : undefined),
      30_000,
      100,
    );
    const drainMs = 30 * 1000 * SCALE;
    t.true(
      emptyAt >= at + drainMs,
      'the instances left only once their targets had drained (the deregistration delay)',
    );
    const left = await aws.autoScaling.send(new DescribeScheduledActionsCommand({ AutoScalingGroupName: 'sched-a' }));
    t.deepEqual(left.ScheduledUpdateGroupActions ?? [], [], 'a one-time action is gone once it ran');
  },
);

test.serial('an action of a group whose ScheduledActions process is suspended is dropped without effect', async (t) => {
  await servingGroup('sched-b', 'b-1');
  await aws.autoScaling.send(
    new SuspendProcessesCommand({ AutoScalingGroupName: 'sched-b', ScalingProcesses: ['ScheduledActions'] }),
  );
  await aws.autoScaling.send(
    new PutScheduledUpdateGroupActionCommand({
      AutoScalingGroupName: 'sched-b',
      ScheduledActionName: 'to-zero',
      StartTime: new Date(Date.now() + 200),
      MinSize: 0,
      DesiredCapacity: 0,
    }),
  );
  await waitFor('the action dropped', async () => {
    const out = await aws.autoScaling.send(new DescribeScheduledActionsCommand({ AutoScalingGroupName: 'sched-b' }));
    return (out.ScheduledUpdateGroupActions ?? []).length === 0 ? true : undefined;
  });
  t.is(await instancesOf('sched-b'), 2);
});

test('dueActions: one-time actions whose StartTime has come; recurring ones never', (t) => {
  const now = Date.parse('2026-01-01T00:00:10Z');
  const base = { AutoScalingGroupName: 'g', ScheduledActionName: 'a' };
  t.is(dueActions([{ ...base, StartTime: new Date(now) }], now).length, 1);
  t.is(dueActions([{ ...base, StartTime: new Date(now + 1) }], now).length, 0);
  t.is(dueActions([{ ...base, StartTime: new Date(now - 1), Recurrence: '0 * * * *' }], now).length, 0);
});
