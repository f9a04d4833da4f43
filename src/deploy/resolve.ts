import { DescribeImagesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { hasErrorCode } from '../aws/errors';
import { InputError } from '../core/errors';

/**
 * Read-only checks of what the input names, done before any change: the AMI,
 * target groups, classic load balancers, subnets and security groups must exist in the region.
 */

/** Checks the AMI exists and is available; returns its tags. */
export async function resolveAmi(
  aws: AwsClients,
  amiId: string,
  field = 'amiId',
): Promise<{ name: string; tags: Record<string, string> }> {
  let images;
  try {
    images = await aws.ec2.send(new DescribeImagesCommand({ ImageIds: [amiId] }));
  } catch (error) {
    if (hasErrorCode(error, /^InvalidAMIID/)) throw new InputError(field, `${amiId} does not exist in ${aws.region}`);
    throw error;
  }
  const image = images.Images?.[0];
  if (!image) throw new InputError(field, `${amiId} does not exist in ${aws.region}`);
  if (image.State && image.State !== 'available')
    throw new InputError(field, `${amiId} is ${image.State}, not available`);
  const tags: Record<string, string> = {};
  for (const tag of image.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
  return { name: image.Name ?? '', tags };
}

/** Resolves target group names or ARNs to ARNs; an unknown one is an InputError naming it. */
export async function resolveTargetGroups(
  aws: AwsClients,
  given: readonly string[],
  field = 'targetGroups',
): Promise<string[]> {
  const arns: string[] = [];
  for (const [index, value] of given.entries()) {
    const byArn = value.startsWith('arn:');
    try {
      const response = await aws.elbv2.send(
        new DescribeTargetGroupsCommand(byArn ? { TargetGroupArns: [value] } : { Names: [value] }),
      );
      const arn = response.TargetGroups?.[0]?.TargetGroupArn;
      if (!arn) throw new InputError(`${field}[${index}]`, `target group ${value} does not exist in ${aws.region}`);
      arns.push(arn);
    } catch (error) {
      if (error instanceof InputError) throw error;
      if (hasErrorCode(error, /^TargetGroupNotFound/))
        throw new InputError(`${field}[${index}]`, `target group ${value} does not exist in ${aws.region}`);
      throw error;
    }
  }
  return arns;
}

/** Checks that classic load balancers exist (one DescribeLoadBalancers each); an unknown one is an InputError naming it. */
export async function resolveClassicLoadBalancers(
  aws: AwsClients,
  given: readonly string[],
  field = 'loadBalancerNames',
): Promise<string[]> {
  for (const [index, name] of given.entries()) {
    const missing = new InputError(
      `${field}[${index}]`,
      `classic load balancer ${name} does not exist in ${aws.region}`,
    );
    try {
      const response = await aws.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }));
      if (!response.LoadBalancerDescriptions?.some((d) => d.LoadBalancerName === name)) throw missing;
    } catch (error) {
      if (error instanceof InputError) throw error;
      if (hasErrorCode(error, /^(LoadBalancerNotFound|AccessPointNotFound)/)) throw missing;
      throw error;
    }
  }
  return [...given];
}

/** Checks that subnets exist; returns them. */
export async function resolveSubnets(aws: AwsClients, subnets: readonly string[]): Promise<string[]> {
  try {
    const response = await aws.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [...subnets] }));
    const found = new Set((response.Subnets ?? []).map((s) => s.SubnetId));
    const missing = subnets.findIndex((s) => !found.has(s));
    if (missing >= 0)
      throw new InputError(`subnets[${missing}]`, `${subnets[missing]} does not exist in ${aws.region}`);
  } catch (error) {
    if (error instanceof InputError) throw error;
    if (hasErrorCode(error, /^InvalidSubnet/)) {
      const message = (error as Error).message;
      const index = Math.max(
        0,
        subnets.findIndex((s) => message.includes(s)),
      );
      throw new InputError(`subnets[${index}]`, `${subnets[index]} does not exist in ${aws.region} (${message})`);
    }
    throw error;
  }
  return [...subnets];
}

/** Checks that security groups exist. */
export async function resolveSecurityGroups(aws: AwsClients, groups: readonly string[]): Promise<void> {
  if (groups.length === 0) return;
  try {
    await aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [...groups] }));
  } catch (error) {
    if (hasErrorCode(error, /^InvalidGroup/)) {
      const message = (error as Error).message;
      const index = Math.max(
        0,
        groups.findIndex((g) => message.includes(g)),
      );
      throw new InputError(`securityGroups[${index}]`, `${groups[index]} does not exist in ${aws.region} (${message})`);
    }
    throw error;
  }
}
