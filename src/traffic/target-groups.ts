import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { chunk } from '../aws/paginate';
import type { TargetHealthByGroup, Traffic } from './traffic';

/** Most targets one RegisterTargets / DeregisterTargets call takes. */
const TARGETS_PER_CALL = 100;

/** {@link Traffic} over ALB/NLB target groups (sources are target group ARNs), written once over the SDK. */
export function targetGroupTraffic(aws: AwsClients): Traffic {
  const health = async (sources: readonly string[]): Promise<TargetHealthByGroup> => {
    const result: TargetHealthByGroup = new Map();
    await Promise.all(
      [...new Set(sources)].map(async (arn) => {
        const response = await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
        result.set(arn, response.TargetHealthDescriptions ?? []);
      }),
    );
    return result;
  };
  return {
    health,
    async register(sources, instanceIds) {
      for (const arn of sources) {
        for (const batch of chunk(instanceIds, TARGETS_PER_CALL)) {
          await aws.elbv2.send(
            new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: batch.map((Id) => ({ Id })) }),
          );
        }
      }
    },
    async deregister(sources, instanceIds, known) {
      const current = known && sources.every((arn) => known.has(arn)) ? known : await health(sources);
      const ids = new Set(instanceIds);
      for (const arn of sources) {
        const registered = (current.get(arn) ?? []).filter(
          (t) => ids.has(t.Target?.Id ?? '') && t.TargetHealth?.State !== 'draining',
        );
        for (const batch of chunk(registered, TARGETS_PER_CALL)) {
          await aws.elbv2.send(
            new DeregisterTargetsCommand({
              TargetGroupArn: arn,
              Targets: batch.map((t) => ({ Id: t.Target?.Id as string, Port: t.Target?.Port })),
            }),
          );
        }
      }
    },
    async drainSeconds(sources) {
      let longest = 0;
      for (const arn of sources) {
        const response = await aws.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
        const value = response.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
        // AWS's default when the attribute is not set.
        longest = Math.max(longest, value === undefined ? 300 : Number(value));
      }
      return longest;
    },
  };
}
