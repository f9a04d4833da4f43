import test, { type ExecutionContext } from 'ava';
import {
  CreateOrUpdateTagsCommand,
  DescribeScheduledActionsCommand,
  PutScheduledUpdateGroupActionCommand,
} from '@aws-sdk/client-auto-scaling';
import { Tag } from '../../src/aws/tags';
import { describeAsgsByName } from '../../src/cluster/server-groups';
import { scaleDownActionName } from '../../src/deploy/scheduled-scale-down';
import { startProbe } from '../../src/sandbox/probe';
import { cleanupStage } from '../../src/stages/cleanup';
import { executeStage } from '../../src/stages/framework';
import { startDeploySandbox, TEST_TIME_SCALE, type DeploySandbox } from '../helpers/deploy-sandbox';
import { rollback } from '../rollback/helpers';
import { waitFor } from '../sandbox/fixtures';

// Issue #20: the deploy returns at cutover. The old group is out of every target group and drains on its
// own; a scheduled action scales it to 0 when the drain ends, with no run (and no Jenkins executor) waiting.
let env: DeploySandbox;
const amis: Record<string, string> = {};
/** The demo target group's deregistration delay on the sandbox clock: requests shorter than it finish. */
const DRAIN_MS = 30 * 1000 * TEST_TIME_SCALE;

test.before(async () => {
  env = await startDeploySandbox();
  for (const version of ['1.0.0', '2.0.0', '3.0.0']) amis[version] = await env.ami(version);
  const first = await env.deploy({ ...env.baseInput, amiId: amis['1.0.0'], version: '1.0.0' });
  if (first.exitCode !== 0) throw new Error(`first deploy failed: ${JSON.stringify(first.output)}`);
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

/** Steady requests plus slow ones (most of the deregistration delay each), through the demo listener. */
function probes() {
  const fast = startProbe({ url: env.listenerUrl, concurrency: 2, maxDurationMs: 240_000, maxRequests: 200_000 });
  const slow = startProbe({
    url: `${env.listenerUrl}/?delay=${Math.round(DRAIN_MS * 0.8)}`,
    concurrency: 4,
    maxDurationMs: 240_000,
    maxRequests: 200_000,
    requestTimeoutMs: 60_000,
  });
  return {
    async stop(t: ExecutionContext) {
      const [a, b] = await Promise.all([fast.stop(), slow.stop()]);
      t.log(`probe: ${a.total} requests, ${a.failed} failed; slow: ${b.total} requests, ${b.failed} failed`);
      t.is(a.failed, 0, JSON.stringify(a.failures));
      t.true(b.total > 0, 'slow requests were sent');
      t.is(b.failed, 0, `slow requests: ${JSON.stringify(b.failures)}`);
      return { fast: a, slow: b };
    },
  };
}

async function pendingScaleDown(group: string) {
  const out = await env.aws.autoScaling.send(new DescribeScheduledActionsCommand({ AutoScalingGroupName: group }));
  return (out.ScheduledUpdateGroupActions ?? []).find((a) => a.ScheduledActionName === scaleDownActionName(group));
}

async function instanceCount(group: string): Promise<number> {
  const [asg] = await describeAsgsByName(env.aws, [group]);
  return (asg?.Instances ?? []).length;
}

test.serial(
  'the deploy returns at cutover; a scheduled action scales the old group to 0 after its drain, with no other run; 0 failed requests, slow ones included',
  async (t) => {
    const traffic = probes();
    const result = await env.deploy({ ...env.baseInput, amiId: amis['2.0.0'], version: '2.0.0' });
    t.is(result.exitCode, 0, `${JSON.stringify(result.output)}\n${env.lines.slice(-20).join('\n')}`);
    const returnedAt = Date.now();
    const output = result.output as { previousServerGroup: string; scaledDownServerGroups: string[] };
    const old = output.previousServerGroup;
    t.deepEqual(output.scaledDownServerGroups, [], 'nothing scaled down by the run itself');
    const [asg] = await describeAsgsByName(env.aws, [old]);
    t.true((asg?.Instances ?? []).length > 0, 'the old group was still draining when the deploy returned');
    t.truthy(
      asg?.Tags?.find((tag) => tag.Key === Tag.scaleDownAfter),
      'its scale-down time is on its tag',
    );
    t.is(asg?.MinSize, 2, 'its min is not left pinned (2 was its min before)');
    const action = await pendingScaleDown(old);
    t.is(action?.DesiredCapacity, 0);
    t.is(action?.MinSize, 0);
    const emptyAt = await waitFor(
      `${old} at 0 instances`,
      async () => ((await instanceCount(old)) === 0 ? Date.now() : undefined),
      120_000,
      100,
    );
    t.log(`old group at 0 instances ${emptyAt - returnedAt} ms after the deploy returned (drain ${DRAIN_MS} ms)`);
    t.is(await pendingScaleDown(old), undefined, 'the action ran and is gone');
    await traffic.stop(t);
  },
);

test.serial(
  'a rollback right after a deploy re-enables the still draining group and removes its pending scale-down',
  async (t) => {
    const traffic = probes();
    const deployed = await env.deploy({ ...env.baseInput, amiId: amis['3.0.0'], version: '3.0.0' });
    t.is(deployed.exitCode, 0, JSON.stringify(deployed.output));
    const previous = (deployed.output as { previousServerGroup: string }).previousServerGroup;
    const due = await pendingScaleDown(previous);
    t.truthy(due, 'scheduled');
    const back = await rollback(t, env, { cluster: 'web-prod', to: 'previous' });
    t.is(back.exitCode, 0, JSON.stringify(back.output));
    t.is(back.output.mode, 'reenable');
    t.is(await pendingScaleDown(previous), undefined, 'the re-enable removed the pending scale-down');
    // Past the time it would have fired, and its drain: the group still serves at full size.
    const firedBy = (due?.StartTime?.getTime() ?? Date.now()) + DRAIN_MS + 1_000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firedBy - Date.now())));
    t.is(await instanceCount(previous), 2);
    const { fast } = await traffic.stop(t);
    t.deepEqual(fast.timeline[fast.timeline.length - 1]?.versions, ['2.0.0'], 'traffic ends on the re-enabled v2');
  },
);

test.serial('cleanup removes a pending scale-down from a group that serves (brought back by hand)', async (t) => {
  const [serving] = (await describeAsgsByName(env.aws, ['web-prod-v001'])).filter((a) => a);
  t.truthy(serving, 'v001 serves after the rollback');
  const name = serving?.AutoScalingGroupName as string;
  const at = new Date(Math.ceil((Date.now() + 5_000) / 1000) * 1000);
  await env.aws.autoScaling.send(
    new PutScheduledUpdateGroupActionCommand({
      AutoScalingGroupName: name,
      ScheduledActionName: scaleDownActionName(name),
      StartTime: at,
      MinSize: 0,
      DesiredCapacity: 0,
    }),
  );
  await env.aws.autoScaling.send(
    new CreateOrUpdateTagsCommand({
      Tags: [
        {
          ResourceId: name,
          ResourceType: 'auto-scaling-group',
          Key: Tag.scaleDownAfter,
          Value: at.toISOString(),
          PropagateAtLaunch: false,
        },
      ],
    }),
  );
  const cleanup = await executeStage(
    cleanupStage,
    { region: 'us-east-1', cluster: 'web-prod', ledger: env.baseInput.ledger },
    env.log,
  );
  t.is(cleanup.exitCode, 0, JSON.stringify(cleanup.output));
  t.true(
    (cleanup.output as { actions: string[] }).actions.includes(`removed the pending scale-down of ${name} (it serves)`),
    JSON.stringify(cleanup.output),
  );
  t.is(await pendingScaleDown(name), undefined);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at.getTime() + DRAIN_MS + 1_000 - Date.now())));
  t.is(await instanceCount(name), 2, 'still serving at full size past the removed action time');
});
