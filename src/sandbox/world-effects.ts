import type { AwsCall } from './aws-request';
import type { WorldSnapshot } from './moto-world';

/**
 * What a mutating call that moto accepted may have changed in the traffic
 * layer's world (instances, target membership, target groups, listeners,
 * ASG health settings), from the call's service, action and parameters: the
 * part of moto to read again instead of the whole region. A call whose
 * effect is not known here (or whose parameters do not say which resources
 * it touched) reads everything again; a call that cannot change the world
 * reads nothing.
 */

/** The parts of the world to read again after a call. */
export interface WorldScope {
  /** Read everything (the effect is unknown). */
  full: boolean;
  /** ASGs to describe again: their settings, their members (new ones and those that left), their target groups. */
  asgNames: Set<string>;
  /** Instances to describe again (EC2 state, AMI, ASG tag). */
  instanceIds: Set<string>;
  /** Target groups whose registered targets to read again. */
  targetGroupArns: Set<string>;
  /** List the target groups again (created, deleted, health check settings changed). */
  targetGroupList: boolean;
  /** Read the load balancers' listeners again. */
  listeners: boolean;
  /** AMIs whose tags may have changed (the cache forgets them). */
  imageIds: Set<string>;
  /** Target groups whose attributes (deregistration delay) may have changed (the cache forgets them). */
  targetGroupAttributes: Set<string>;
  /** Read the classic load balancers again (their listeners, health check, instances, draining). */
  classicLoadBalancers: boolean;
}

/** A scope that reads nothing. */
export function emptyScope(): WorldScope {
  return {
    full: false,
    asgNames: new Set(),
    instanceIds: new Set(),
    targetGroupArns: new Set(),
    targetGroupList: false,
    listeners: false,
    imageIds: new Set(),
    targetGroupAttributes: new Set(),
    classicLoadBalancers: false,
  };
}

/** A scope that reads everything. */
export function fullScope(): WorldScope {
  return { ...emptyScope(), full: true };
}

/** True when the scope reads nothing. */
export function isEmptyScope(scope: WorldScope): boolean {
  return (
    !scope.full &&
    !scope.targetGroupList &&
    !scope.listeners &&
    !scope.classicLoadBalancers &&
    scope.asgNames.size === 0 &&
    scope.instanceIds.size === 0 &&
    scope.targetGroupArns.size === 0 &&
    scope.imageIds.size === 0 &&
    scope.targetGroupAttributes.size === 0
  );
}

/** Everything either scope reads. */
export function mergeScopes(a: WorldScope | undefined, b: WorldScope): WorldScope {
  if (!a) return b;
  const union = (x: Set<string>, y: Set<string>): Set<string> => new Set([...x, ...y]);
  return {
    full: a.full || b.full,
    asgNames: union(a.asgNames, b.asgNames),
    instanceIds: union(a.instanceIds, b.instanceIds),
    targetGroupArns: union(a.targetGroupArns, b.targetGroupArns),
    targetGroupList: a.targetGroupList || b.targetGroupList,
    listeners: a.listeners || b.listeners,
    imageIds: union(a.imageIds, b.imageIds),
    targetGroupAttributes: union(a.targetGroupAttributes, b.targetGroupAttributes),
    classicLoadBalancers: a.classicLoadBalancers || b.classicLoadBalancers,
  };
}

/**
 * Mutations that cannot change what the layer reads: no refresh at all. A
 * full world read costs moto ~4 ms per instance (DescribeInstances), so at a
 * few hundred instances refreshing after every tag write made each take seconds.
 */
const WORLD_NEUTRAL_ACTIONS = new Set([
  'autoscaling:CreateOrUpdateTags',
  'autoscaling:DeleteTags',
  'autoscaling:SuspendProcesses',
  'autoscaling:ResumeProcesses',
  'autoscaling:PutScalingPolicy',
  'autoscaling:DeletePolicy',
  'autoscaling:PutScheduledUpdateGroupAction',
  'autoscaling:BatchPutScheduledUpdateGroupAction',
  'autoscaling:DeleteScheduledAction',
  'autoscaling:BatchDeleteScheduledAction',
  'autoscaling:PutLifecycleHook',
  'autoscaling:DeleteLifecycleHook',
  'autoscaling:PutNotificationConfiguration',
  'autoscaling:DeleteNotificationConfiguration',
  'autoscaling:EnableMetricsCollection',
  'autoscaling:DisableMetricsCollection',
  'autoscaling:CreateLaunchConfiguration',
  'autoscaling:DeleteLaunchConfiguration',
  'autoscaling:PutWarmPool',
  'autoscaling:DeleteWarmPool',
  'autoscaling:RecordLifecycleActionHeartbeat',
  'ec2:CreateLaunchTemplate',
  'ec2:CreateLaunchTemplateVersion',
  'ec2:ModifyLaunchTemplate',
  'ec2:DeleteLaunchTemplate',
  'ec2:DeleteLaunchTemplateVersions',
  'elasticloadbalancing:AddTags',
  'elasticloadbalancing:RemoveTags',
]);

/** Auto Scaling actions whose effect is on the group named by `AutoScalingGroupName` (and the instances they name). */
const ASG_ACTIONS = new Set([
  'CreateAutoScalingGroup',
  'UpdateAutoScalingGroup',
  'DeleteAutoScalingGroup',
  'SetDesiredCapacity',
  'AttachInstances',
  'DetachInstances',
  'EnterStandby',
  'ExitStandby',
  'AttachLoadBalancerTargetGroups',
  'DetachLoadBalancerTargetGroups',
  'AttachTrafficSources',
  'DetachTrafficSources',
  'AttachLoadBalancers',
  'DetachLoadBalancers',
  'ExecutePolicy',
  'CompleteLifecycleAction',
  'SetInstanceProtection',
]);

/** Auto Scaling actions on one instance, whose group the world knows. */
const ASG_INSTANCE_ACTIONS = new Set(['TerminateInstanceInAutoScalingGroup', 'SetInstanceHealth']);

/** EC2 actions on the instances they name by `InstanceId.N`. */
const EC2_INSTANCE_ACTIONS = new Set([
  'TerminateInstances',
  'StopInstances',
  'StartInstances',
  'RebootInstances',
  'ModifyInstanceAttribute',
]);

/** EC2 actions that change AMIs (and so what new instances of them serve). */
const EC2_IMAGE_ACTIONS = new Set(['RegisterImage', 'CreateImage', 'CopyImage', 'DeregisterImage']);

/** ELBv2 actions that change the target groups' list or settings. */
const TARGET_GROUP_LIST_ACTIONS = new Set(['CreateTargetGroup', 'DeleteTargetGroup', 'ModifyTargetGroup']);

/** ELBv2 actions that change listeners or their rules (the layer reads the load balancers' listeners). */
const LISTENER_ACTIONS = new Set([
  'CreateLoadBalancer',
  'DeleteLoadBalancer',
  'CreateListener',
  'ModifyListener',
  'DeleteListener',
  'CreateRule',
  'ModifyRule',
  'DeleteRule',
  'SetRulePriorities',
  'SetSecurityGroups',
  'SetSubnets',
  'SetIpAddressType',
  'ModifyLoadBalancerAttributes',
  'ModifyListenerAttributes',
]);

/** Classic ELB actions that change what the layer reads of CLBs (listeners, health check, instances, draining). */
const CLASSIC_ACTIONS = new Set([
  'CreateLoadBalancer',
  'DeleteLoadBalancer',
  'CreateLoadBalancerListeners',
  'DeleteLoadBalancerListeners',
  'RegisterInstancesWithLoadBalancer',
  'DeregisterInstancesFromLoadBalancer',
  'ConfigureHealthCheck',
  'ModifyLoadBalancerAttributes',
  'EnableAvailabilityZonesForLoadBalancer',
  'DisableAvailabilityZonesForLoadBalancer',
  'AttachLoadBalancerToSubnets',
  'DetachLoadBalancerFromSubnets',
  'ApplySecurityGroupsToLoadBalancer',
  'CreateLoadBalancerPolicy',
  'SetLoadBalancerPoliciesOfListener',
]);

/** Services whose calls can change the world the layer reads. */
const WORLD_SERVICES = new Set(['ec2', 'autoscaling', 'elasticloadbalancing']);

/** Values of a Query-protocol list parameter: `<prefix>.1`, `<prefix>.2`, … (and `<prefix>.N.<suffix>` with a suffix). */
function listParam(params: URLSearchParams, prefix: string, suffix = ''): string[] {
  const values: string[] = [];
  for (const [key, value] of params) {
    if (!key.startsWith(`${prefix}.`)) continue;
    const rest = key.slice(prefix.length + 1);
    if (suffix ? rest.endsWith(`.${suffix}`) && /^\d+$/.test(rest.slice(0, -suffix.length - 1)) : /^\d+$/.test(rest))
      values.push(value);
  }
  return values;
}

/** True when a call can never change the world the layer reads (no refresh). */
export function isWorldNeutral(call: Pick<AwsCall, 'service' | 'action'>): boolean {
  return !WORLD_SERVICES.has(call.service) || WORLD_NEUTRAL_ACTIONS.has(`${call.service}:${call.action}`);
}

/**
 * The part of the world a mutating call moto accepted may have changed, as
 * of `world` (the layer's view before the call). Unknown actions, and known
 * ones without the parameters that name what they touched, read everything.
 */
export function worldScopeOf(call: AwsCall, world: WorldSnapshot | undefined): WorldScope {
  const scope = emptyScope();
  if (isWorldNeutral(call)) return scope;
  if (!world) return fullScope();
  const params = call.params;
  const full = fullScope();
  if (call.service === 'autoscaling') {
    if (ASG_ACTIONS.has(call.action)) {
      const name = params.get('AutoScalingGroupName');
      if (!name) return full;
      scope.asgNames.add(name);
      for (const id of listParam(params, 'InstanceIds.member')) scope.instanceIds.add(id);
      for (const arn of listParam(params, 'TargetGroupARNs.member')) scope.targetGroupArns.add(arn);
      for (const arn of listParam(params, 'TrafficSources.member', 'Identifier')) scope.targetGroupArns.add(arn);
      return scope;
    }
    if (ASG_INSTANCE_ACTIONS.has(call.action)) {
      const id = params.get('InstanceId');
      const asgName = id ? world.instances.get(id)?.asgName : undefined;
      if (!id || !asgName) return full;
      scope.instanceIds.add(id);
      scope.asgNames.add(asgName);
      return scope;
    }
    return full;
  }
  if (call.service === 'ec2') {
    if (EC2_INSTANCE_ACTIONS.has(call.action)) {
      const ids = listParam(params, 'InstanceId');
      if (call.action === 'ModifyInstanceAttribute' && params.get('InstanceId'))
        ids.push(params.get('InstanceId') ?? '');
      if (ids.length === 0) return full;
      for (const id of ids) {
        scope.instanceIds.add(id);
        // An ASG may replace or drop an instance stopped or terminated under it; its target groups may change.
        const asgName = world.instances.get(id)?.asgName;
        if (asgName) scope.asgNames.add(asgName);
      }
      return scope;
    }
    if (call.action === 'CreateTags' || call.action === 'DeleteTags') {
      const resources = listParam(params, 'ResourceId');
      if (resources.length === 0) return full;
      for (const id of resources) {
        if (id.startsWith('i-')) scope.instanceIds.add(id);
        else if (id.startsWith('ami-')) scope.imageIds.add(id);
      }
      return scope;
    }
    if (EC2_IMAGE_ACTIONS.has(call.action)) {
      const id = params.get('ImageId');
      if (id) scope.imageIds.add(id);
      else if (call.action !== 'RegisterImage' && call.action !== 'CreateImage' && call.action !== 'CopyImage')
        return full;
      // A new AMI's tags are read when an instance of it first shows up.
      return scope;
    }
    return full;
  }
  // elasticloadbalancing: Classic ELB (Version 2012-06-01) re-reads the CLBs; ELBv2 (2015-12-01) what it names.
  if (params.get('Version') === '2012-06-01') {
    if (!CLASSIC_ACTIONS.has(call.action)) return full;
    scope.classicLoadBalancers = true;
    return scope;
  }
  if (params.get('Version') !== '2015-12-01') return full;
  if (call.action === 'RegisterTargets' || call.action === 'DeregisterTargets') {
    const arn = params.get('TargetGroupArn');
    if (!arn) return full;
    scope.targetGroupArns.add(arn);
    return scope;
  }
  if (call.action === 'ModifyTargetGroupAttributes') {
    const arn = params.get('TargetGroupArn');
    if (!arn) return full;
    scope.targetGroupAttributes.add(arn);
    scope.targetGroupArns.add(arn);
    return scope;
  }
  if (TARGET_GROUP_LIST_ACTIONS.has(call.action)) {
    scope.targetGroupList = true;
    const arn = params.get('TargetGroupArn');
    if (arn) scope.targetGroupArns.add(arn);
    // Deleting a target group takes it out of listeners' forward actions.
    if (call.action === 'DeleteTargetGroup') scope.listeners = true;
    return scope;
  }
  if (LISTENER_ACTIONS.has(call.action)) {
    scope.listeners = true;
    return scope;
  }
  return full;
}
