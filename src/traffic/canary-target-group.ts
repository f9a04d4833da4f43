import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ModifyTargetGroupAttributesCommand,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { Tag } from '../aws/tags';
import { InputError } from '../core/errors';

/**
 * The canary's own target groups: one per production target group, made for
 * the deploy with its settings (protocol, port, VPC, health check, matcher,
 * attributes — stickiness and deregistration delay included), named after
 * the new server group (`<group>-cyN`, so IAM can scope Create/Delete by
 * name), deleted once the canary ends either way.
 */

/** Longest target group name AWS takes. */
const MAX_NAME = 32;

/** The name of the canary target group made for the `index`-th production target group of `newServerGroup`. */
export function canaryTargetGroupName(newServerGroup: string, index: number): string {
  const name = `${newServerGroup}-cy${index}`;
  if (name.length > MAX_NAME)
    throw new InputError(
      'cluster',
      `canary needs target group names of at most ${MAX_NAME} characters (${name} is ${name.length}): use a shorter cluster name`,
    );
  return name;
}

/** The CreateTargetGroup settings of a production target group, copied. Pure. */
export function copiedSettings(
  group: TargetGroup,
): Omit<ConstructorParameters<typeof CreateTargetGroupCommand>[0], 'Name'> {
  const defined = <T extends object>(value: T) =>
    Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
  return defined({
    Protocol: group.Protocol,
    ProtocolVersion: group.ProtocolVersion,
    Port: group.Port,
    VpcId: group.VpcId,
    TargetType: group.TargetType,
    IpAddressType: group.IpAddressType,
    HealthCheckProtocol: group.HealthCheckProtocol,
    HealthCheckPort: group.HealthCheckPort,
    HealthCheckEnabled: group.HealthCheckEnabled,
    HealthCheckPath: group.HealthCheckPath,
    HealthCheckIntervalSeconds: group.HealthCheckIntervalSeconds,
    HealthCheckTimeoutSeconds: group.HealthCheckTimeoutSeconds,
    HealthyThresholdCount: group.HealthyThresholdCount,
    UnhealthyThresholdCount: group.UnhealthyThresholdCount,
    Matcher: group.Matcher,
  });
}

/**
 * Makes the canary target groups (or finds them, made by an earlier try of
 * this deploy: CreateTargetGroup with the same settings returns the existing
 * one). Returns production ARN → canary ARN, in the production order.
 */
export async function createCanaryTargetGroups(
  aws: AwsClients,
  productionArns: readonly string[],
  newServerGroup: string,
  cluster: string,
): Promise<Map<string, string>> {
  const described = await aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [...productionArns] }));
  const byArn = new Map((described.TargetGroups ?? []).map((g) => [g.TargetGroupArn as string, g]));
  const canaryOf = new Map<string, string>();
  for (const [index, arn] of productionArns.entries()) {
    const production = byArn.get(arn);
    if (!production) throw new Error(`target group ${arn} not found`);
    const created = await aws.elbv2.send(
      new CreateTargetGroupCommand({
        ...copiedSettings(production),
        Name: canaryTargetGroupName(newServerGroup, index),
        Tags: [
          { Key: Tag.cluster, Value: cluster },
          { Key: Tag.canaryOf, Value: newServerGroup },
        ],
      }),
    );
    const canaryArn = created.TargetGroups?.[0]?.TargetGroupArn as string;
    const attributes = await aws.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
    const copied = (attributes.Attributes ?? []).filter((a) => a.Key && a.Value !== undefined);
    if (copied.length > 0)
      await aws.elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: canaryArn, Attributes: copied }));
    canaryOf.set(arn, canaryArn);
  }
  return canaryOf;
}

/** The ARNs of the canary target groups of `newServerGroup` still there (none when already deleted). */
export async function findCanaryTargetGroups(aws: AwsClients, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  try {
    const answer = await aws.elbv2.send(new DescribeTargetGroupsCommand({ Names: [...names] }));
    return (answer.TargetGroups ?? []).map((g) => g.TargetGroupArn as string);
  } catch (error) {
    // One name not found fails the whole call: look them up one by one.
    if ((error as { name?: string }).name !== 'TargetGroupNotFoundException' || names.length === 1) {
      if ((error as { name?: string }).name === 'TargetGroupNotFoundException') return [];
      throw error;
    }
    const found: string[] = [];
    for (const name of names) found.push(...(await findCanaryTargetGroups(aws, [name])));
    return found;
  }
}

/** Deletes target groups (gone already counts as deleted). */
export async function deleteTargetGroups(aws: AwsClients, arns: readonly string[]): Promise<void> {
  for (const arn of arns) {
    try {
      await aws.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'TargetGroupNotFoundException') throw error;
    }
  }
}
