import type { LoggedCall } from './aws-call-log';

/** What IAM authorizes for one call: an action on a resource, with the request's context keys. */
export interface AuthorizationRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
  /** The call it comes from, for messages. */
  from: string;
  /** The call it comes from. */
  call: LoggedCall;
}

export const ACCOUNT = '123456789012';

/** S3 operations whose IAM action has another name. */
export const S3_ACTIONS: Record<string, string> = {
  HeadObject: 's3:GetObject',
  HeadBucket: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
};

/** Signing names whose IAM prefix differs. */
const IAM_PREFIX: Record<string, string> = { monitoring: 'cloudwatch' };

function numbered(params: Record<string, string>, prefix: string, suffix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params[`${prefix}${i}${suffix}`] !== undefined; i++)
    out.push(params[`${prefix}${i}${suffix}`] as string);
  return out;
}

function tagsOf(params: Record<string, string>, prefix: string): Record<string, string> {
  const keys = numbered(params, prefix, '.Key');
  const values = numbered(params, prefix, '.Value');
  return Object.fromEntries(keys.map((k, i) => [k, values[i] ?? '']));
}

function requestTags(tags: Record<string, string>): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = { 'aws:TagKeys': Object.keys(tags) };
  for (const [k, v] of Object.entries(tags)) context[`aws:RequestTag/${k}`] = v;
  return context;
}

const asgArn = (region: string, name: string) =>
  `arn:aws:autoscaling:${region}:${ACCOUNT}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${name}`;

/**
 * Turns the calls a stage made into the requests IAM authorizes, with the
 * resource ARNs and tag context AWS would evaluate. Resource tags of groups
 * and launch templates come from the calls that created them (earlier in
 * `calls`); tag-on-create adds the `CreateTags` check EC2 makes.
 */
export function authorizationRequests(calls: readonly LoggedCall[], region = 'us-east-1'): AuthorizationRequest[] {
  const groupTags = new Map<string, Record<string, string>>();
  const templateTags = new Map<string, Record<string, string>>();
  const out: AuthorizationRequest[] = [];
  for (const call of calls) {
    if (call.status >= 300) continue;
    const p = call.params;
    const from = `${call.service}:${call.action}`;
    if (call.service === 's3') {
      const url = new URL(call.url, 'http://x.invalid');
      const [bucket, ...keyParts] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const key = keyParts.join('/');
      const action = S3_ACTIONS[call.action] ?? `s3:${call.action}`;
      const context: Record<string, string> = {};
      if (call.action === 'ListObjectsV2') context['s3:prefix'] = url.searchParams.get('prefix') ?? '';
      out.push({
        action,
        resource: key ? `arn:aws:s3:::${bucket}/${key}` : `arn:aws:s3:::${bucket}`,
        context,
        from,
        call,
      });
      continue;
    }
    const action = `${IAM_PREFIX[call.service] ?? call.service}:${call.action}`;
    if (!call.mutating) {
      out.push({ action, resource: '*', context: {}, from, call });
      continue;
    }
    switch (call.action) {
      case 'CreateAutoScalingGroup': {
        const name = p['AutoScalingGroupName'] as string;
        const tags = tagsOf(p, 'Tags.member.');
        groupTags.set(name, tags);
        out.push({ action, resource: asgArn(region, name), context: requestTags(tags), from, call });
        if (Object.keys(tags).length > 0)
          out.push({
            action: 'autoscaling:CreateOrUpdateTags',
            resource: asgArn(region, name),
            context: requestTags(tags),
            from: `${from} (tags)`,
            call,
          });
        break;
      }
      case 'CreateOrUpdateTags':
      case 'DeleteTags': {
        const name = p['Tags.member.1.ResourceId'] as string;
        const tags = tagsOf(p, 'Tags.member.');
        out.push({
          action,
          resource: asgArn(region, name),
          context: { ...resourceTags(groupTags.get(name)), ...requestTags(tags) },
          from,
          call,
        });
        break;
      }
      case 'CreateLaunchTemplate': {
        const tags = tagsOf(p, 'TagSpecification.1.Tag.');
        const id = /<launchTemplateId>([^<]+)</.exec(call.response)?.[1] ?? 'lt-00000000000000000';
        templateTags.set(id, tags);
        templateTags.set(p['LaunchTemplateName'] as string, tags);
        const resource = `arn:aws:ec2:${region}:${ACCOUNT}:launch-template/*`;
        out.push({ action, resource, context: requestTags(tags), from, call });
        out.push({
          action: 'ec2:CreateTags',
          resource,
          context: { ...requestTags(tags), 'ec2:CreateAction': 'CreateLaunchTemplate' },
          from: `${from} (tags)`,
          call,
        });
        break;
      }
      case 'DeleteLaunchTemplate': {
        const ref = p['LaunchTemplateId'] ?? p['LaunchTemplateName'] ?? '';
        const id = p['LaunchTemplateId'] ?? 'lt-00000000000000000';
        out.push({
          action,
          resource: `arn:aws:ec2:${region}:${ACCOUNT}:launch-template/${id}`,
          context: resourceTags(templateTags.get(ref)),
          from,
          call,
        });
        break;
      }
      case 'RegisterTargets':
      case 'DeregisterTargets':
        out.push({ action, resource: p['TargetGroupArn'] as string, context: {}, from, call });
        break;
      case 'RegisterInstancesWithLoadBalancer':
      case 'DeregisterInstancesFromLoadBalancer':
        out.push({
          action,
          resource: `arn:aws:elasticloadbalancing:${region}:${ACCOUNT}:loadbalancer/${p['LoadBalancerName']}`,
          context: {},
          from,
          call,
        });
        break;
      case 'PutMetricAlarm':
        out.push({
          action,
          resource: `arn:aws:cloudwatch:${region}:${ACCOUNT}:alarm:${p['AlarmName']}`,
          context: {},
          from,
          call,
        });
        break;
      case 'DeleteAlarms':
        for (const name of numbered(p, 'AlarmNames.member.', '')) {
          out.push({
            action,
            resource: `arn:aws:cloudwatch:${region}:${ACCOUNT}:alarm:${name}`,
            context: {},
            from,
            call,
          });
        }
        break;
      default: {
        const name = p['AutoScalingGroupName'];
        if (call.service === 'autoscaling' && name !== undefined) {
          out.push({ action, resource: asgArn(region, name), context: resourceTags(groupTags.get(name)), from, call });
        } else {
          out.push({ action, resource: '*', context: {}, from: `${from} (no resource mapping)`, call });
        }
      }
    }
  }
  return out;
}

function resourceTags(tags: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
}

/** The same request aimed elsewhere: every occurrence of `from` (names, ARNs, tag values, prefixes) becomes `to`. */
export function retarget(request: AuthorizationRequest, from: string, to: string): AuthorizationRequest {
  const swap = (s: string) => s.split(from).join(to);
  const context = Object.fromEntries(
    Object.entries(request.context).map(([k, v]) => [k, Array.isArray(v) ? v : swap(v)]),
  );
  return { ...request, resource: swap(request.resource), context };
}
