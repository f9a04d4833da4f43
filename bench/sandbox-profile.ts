/**
 * `npx tsx bench/sandbox-profile.ts [--sizes 200,400]`: what the sandbox itself
 * costs per call as the world grows (issue 13): one sandbox per size with
 * that many instances of one ASG in the demo target group, then, timed
 * through the gateway, the calls a deploy polls with (DescribeTargetHealth,
 * DescribeAutoScalingGroups) and mutates with (CreateOrUpdateTags: no world
 * change; UpdateAutoScalingGroup of another group: a world refresh), each
 * several times, median reported. Only 127.0.0.1; the sandbox is stopped at the end.
 */
import {
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSandbox } from '../src/sandbox/sandbox';
import { createAppAsg, makeAppAmi } from '../test/sandbox/fixtures';
import { median } from './timeline-measures';

async function timed(times: number, call: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const t = Date.now();
    await call();
    ms.push(Date.now() - t);
  }
  return median(ms) ?? 0;
}

async function profile(size: number): Promise<Record<string, number>> {
  const sandbox = await startSandbox({ timeScale: 0.05, infra: 'demo' });
  try {
    const aws = sandbox.clients();
    const infra = sandbox.infra as NonNullable<typeof sandbox.infra>;
    const ami = await makeAppAmi(aws, '1.0.0');
    await createAppAsg(aws, infra, 'profile-big', ami, size);
    await createAppAsg(aws, infra, 'profile-small', ami, 1);
    await sandbox.refresh();
    await sleep(3_000);
    const result: Record<string, number> = { instances: size + 1 };
    result['DescribeTargetHealth ms'] = await timed(5, () =>
      aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: infra.targetGroupArn })),
    );
    result['DescribeAutoScalingGroups ms'] = await timed(5, () =>
      aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['profile-big'] })),
    );
    result['CreateOrUpdateTags ms'] = await timed(5, () =>
      aws.autoScaling.send(
        new CreateOrUpdateTagsCommand({
          Tags: [
            {
              ResourceId: 'profile-small',
              ResourceType: 'auto-scaling-group',
              Key: 'k',
              Value: String(Date.now()),
              PropagateAtLaunch: false,
            },
          ],
        }),
      ),
    );
    result['UpdateAutoScalingGroup ms'] = await timed(3, () =>
      aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'profile-small', MaxSize: 2 })),
    );
    const t = Date.now();
    await sandbox.refresh();
    result['world read ms'] = Date.now() - t;
    return result;
  } finally {
    await sandbox.stop();
  }
}

async function main(): Promise<void> {
  const arg = process.argv.indexOf('--sizes');
  const sizes = (arg > 0 ? String(process.argv[arg + 1]) : '200,400').split(',').map(Number);
  for (const size of sizes) process.stdout.write(`${JSON.stringify(await profile(size))}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
