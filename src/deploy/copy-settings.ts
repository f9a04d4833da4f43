import {
  DescribeLifecycleHooksCommand,
  type AutoScalingGroup,
  type CreateAutoScalingGroupCommandInput,
  DescribeScheduledActionsCommand,
  EnableMetricsCollectionCommand,
  PutLifecycleHookCommand,
  PutScalingPolicyCommand,
  PutScheduledUpdateGroupActionCommand,
  paginateDescribePolicies,
  type LifecycleHookSpecification,
  type MixedInstancesPolicy,
  type ScalingPolicy,
} from '@aws-sdk/client-auto-scaling';
import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  paginateDescribeAlarms,
} from '@aws-sdk/client-cloudwatch';
import type { AwsClients } from '../aws/clients';
import { chunk, collectPages } from '../aws/paginate';
import type { Logger } from '../core/log';
import { DISABLE_PROCESSES, type ServerGroup } from '../cluster/server-groups';
import { warmPoolOf, type WarmPoolSettings } from './fleet-settings';
import { SCALE_DOWN_ACTION_PREFIX } from './scheduled-scale-down';

/**
 * Copies what a user would lose with a new ASG: the group's own settings
 * ({@link asgSettingsOf}, given at creation), lifecycle hooks (given at
 * creation, so the first instances already pass through them), scaling
 * policies re-pointed at the new group with their CloudWatch alarms, future
 * scheduled actions, and metrics collection.
 */

/** The group settings copied as they are (docs/architecture.md, "What a new group copies"). */
const COPIED_AS_IS = [
  'HealthCheckType',
  'HealthCheckGracePeriod',
  'TerminationPolicies',
  'DefaultCooldown',
  'NewInstancesProtectedFromScaleIn',
  'CapacityRebalance',
  'MaxInstanceLifetime',
  'DefaultInstanceWarmup',
  'PlacementGroup',
  'ServiceLinkedRoleARN',
  'Context',
  'DesiredCapacityType',
  'InstanceMaintenancePolicy',
  'CapacityReservationSpecification',
  'AvailabilityZoneDistribution',
  'AvailabilityZoneImpairmentPolicy',
  'InstanceLifecyclePolicy',
] as const satisfies ReadonlyArray<keyof CreateAutoScalingGroupCommandInput & keyof AutoScalingGroup>;

/** The source group's settings a new group takes over, as CreateAutoScalingGroup fields and suspended processes. */
export interface AsgSettings {
  /** Health check, termination, cooldown, scale-in protection, rebalancing, lifetime, warmup, maintenance, capacity reservations, …, as the source has them. */
  group: Pick<CreateAutoScalingGroupCommandInput, (typeof COPIED_AS_IS)[number]>;
  /** The source's mixed instances policy, as it is (the new group's re-points it at its own launch template). */
  mixedInstancesPolicy?: MixedInstancesPolicy;
  /** The source's warm pool, put on the new group once created. */
  warmPool?: WarmPoolSettings;
  /** Processes the user suspended on the source (not the ones bluegreen suspends to disable a group). */
  suspendedProcesses: string[];
}

/**
 * Values that mean "not set": no lifetime limit, and the default service-linked
 * role (named explicitly, it would need iam:PassRole for nothing; a custom one,
 * `AWSServiceRoleForAutoScaling_<suffix>`, is copied).
 */
function isDefault(key: (typeof COPIED_AS_IS)[number], value: unknown): boolean {
  if (key === 'MaxInstanceLifetime') return value === 0;
  if (key === 'ServiceLinkedRoleARN') return String(value).endsWith('/AWSServiceRoleForAutoScaling');
  return false;
}

/** True for a value the source actually sets (not absent, not an empty list or text). */
function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  return !Array.isArray(value) || value.length > 0;
}

/** What of `asg`'s own settings a new group of the cluster copies (only the fields the source sets). */
export function asgSettingsOf(asg: AutoScalingGroup): AsgSettings {
  const disable: readonly string[] = DISABLE_PROCESSES;
  const group = Object.fromEntries(
    COPIED_AS_IS.filter((key) => isSet(asg[key]) && !isDefault(key, asg[key])).map((key) => [key, asg[key]]),
  ) as AsgSettings['group'];
  const warmPool = warmPoolOf(asg);
  return {
    group,
    ...(asg.MixedInstancesPolicy ? { mixedInstancesPolicy: asg.MixedInstancesPolicy } : {}),
    ...(warmPool ? { warmPool } : {}),
    suspendedProcesses: (asg.SuspendedProcesses ?? [])
      .map((p) => p.ProcessName ?? '')
      .filter((name) => name !== '' && !disable.includes(name)),
  };
}

/** The source group's own tags (not bluegreen's, not AWS's), with their propagate flag, for the new group. */
export function userTagsOf(asg: AutoScalingGroup): Array<{ key: string; value: string; propagateAtLaunch: boolean }> {
  return (asg.Tags ?? [])
    .filter((t) => t.Key && !t.Key.startsWith('bluegreen:') && !t.Key.startsWith('aws:'))
    .map((t) => ({ key: t.Key as string, value: t.Value ?? '', propagateAtLaunch: t.PropagateAtLaunch ?? false }));
}

/** Lifecycle hooks of the source, as specifications for CreateAutoScalingGroup. */
export async function lifecycleHookSpecifications(
  aws: AwsClients,
  source: ServerGroup,
): Promise<LifecycleHookSpecification[]> {
  const response = await aws.autoScaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: source.name }));
  return (response.LifecycleHooks ?? []).map((hook) => ({
    LifecycleHookName: hook.LifecycleHookName as string,
    LifecycleTransition: hook.LifecycleTransition as string,
    ...(hook.HeartbeatTimeout !== undefined ? { HeartbeatTimeout: hook.HeartbeatTimeout } : {}),
    ...(hook.DefaultResult ? { DefaultResult: hook.DefaultResult } : {}),
    ...(hook.NotificationMetadata ? { NotificationMetadata: hook.NotificationMetadata } : {}),
    ...(hook.NotificationTargetARN ? { NotificationTargetARN: hook.NotificationTargetARN } : {}),
    ...(hook.RoleARN ? { RoleARN: hook.RoleARN } : {}),
  }));
}

/**
 * Puts the hooks the new group lacks after creation (some APIs and emulators
 * ignore the creation-time list); a no-op where creation already set them.
 */
export async function ensureLifecycleHooks(
  aws: AwsClients,
  groupName: string,
  hooks: readonly LifecycleHookSpecification[],
): Promise<void> {
  if (hooks.length === 0) return;
  const present = await aws.autoScaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: groupName }));
  const names = new Set((present.LifecycleHooks ?? []).map((h) => h.LifecycleHookName));
  for (const hook of hooks.filter((h) => !names.has(h.LifecycleHookName))) {
    await aws.autoScaling.send(new PutLifecycleHookCommand({ AutoScalingGroupName: groupName, ...hook }));
  }
}

/** What was copied, for the log and the output. */
export interface CopiedSettings {
  scalingPolicies: string[];
  alarms: string[];
  scheduledActions: string[];
  metricsCollection: boolean;
}

async function sourcePolicies(aws: AwsClients, source: ServerGroup): Promise<ScalingPolicy[]> {
  return collectPages(
    paginateDescribePolicies({ client: aws.autoScaling }, { AutoScalingGroupName: source.name }),
    (p) => p.ScalingPolicies,
  );
}

/** Name of an alarm copied for `target`: the source's name with the group name swapped in. */
export function copiedAlarmName(alarmName: string, sourceName: string, targetName: string): string {
  return alarmName.includes(sourceName) ? alarmName.split(sourceName).join(targetName) : `${alarmName}-${targetName}`;
}

/** Copies policies (and the alarms of step/simple policies), scheduled actions and metrics collection. */
export async function copyScalingSettings(
  aws: AwsClients,
  source: ServerGroup,
  targetName: string,
  log: Logger,
): Promise<CopiedSettings> {
  const copied: CopiedSettings = { scalingPolicies: [], alarms: [], scheduledActions: [], metricsCollection: false };
  const policyArns = new Map<string, string>();
  for (const policy of await sourcePolicies(aws, source)) {
    const response = await aws.autoScaling.send(
      new PutScalingPolicyCommand({
        AutoScalingGroupName: targetName,
        PolicyName: policy.PolicyName,
        PolicyType: policy.PolicyType,
        AdjustmentType: policy.AdjustmentType,
        MinAdjustmentMagnitude: policy.MinAdjustmentMagnitude,
        ScalingAdjustment: policy.ScalingAdjustment,
        Cooldown: policy.Cooldown,
        MetricAggregationType: policy.MetricAggregationType,
        StepAdjustments: policy.StepAdjustments,
        EstimatedInstanceWarmup: policy.EstimatedInstanceWarmup,
        TargetTrackingConfiguration: policy.TargetTrackingConfiguration,
        PredictiveScalingConfiguration: policy.PredictiveScalingConfiguration,
        Enabled: policy.Enabled,
      }),
    );
    copied.scalingPolicies.push(policy.PolicyName as string);
    if (policy.PolicyARN && response.PolicyARN) policyArns.set(policy.PolicyARN, response.PolicyARN);
    // Target tracking policies own their alarms; step and simple policies are triggered by the user's alarms.
    if (policy.PolicyType !== 'TargetTrackingScaling' && policy.PolicyType !== 'PredictiveScaling') {
      const alarmNames = (policy.Alarms ?? []).map((a) => a.AlarmName as string).filter(Boolean);
      if (alarmNames.length === 0) continue;
      const alarms = await aws.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: alarmNames }));
      for (const alarm of alarms.MetricAlarms ?? []) {
        const name = copiedAlarmName(alarm.AlarmName as string, source.name, targetName);
        const swap = (arns: string[] | undefined) => (arns ?? []).map((arn) => policyArns.get(arn) ?? arn);
        await aws.cloudWatch.send(
          new PutMetricAlarmCommand({
            AlarmName: name,
            AlarmDescription: alarm.AlarmDescription,
            ActionsEnabled: alarm.ActionsEnabled,
            OKActions: swap(alarm.OKActions),
            AlarmActions: swap(alarm.AlarmActions),
            InsufficientDataActions: swap(alarm.InsufficientDataActions),
            MetricName: alarm.MetricName,
            Namespace: alarm.Namespace,
            Statistic: alarm.Statistic,
            ExtendedStatistic: alarm.ExtendedStatistic,
            Dimensions: (alarm.Dimensions ?? []).map((d) =>
              d.Name === 'AutoScalingGroupName' && d.Value === source.name ? { ...d, Value: targetName } : d,
            ),
            Period: alarm.Period,
            Unit: alarm.Unit,
            EvaluationPeriods: alarm.EvaluationPeriods,
            DatapointsToAlarm: alarm.DatapointsToAlarm,
            Threshold: alarm.Threshold,
            ComparisonOperator: alarm.ComparisonOperator,
            TreatMissingData: alarm.TreatMissingData,
          }),
        );
        copied.alarms.push(name);
      }
    }
  }
  const scheduled = await aws.autoScaling.send(
    new DescribeScheduledActionsCommand({ AutoScalingGroupName: source.name }),
  );
  const now = Date.now();
  for (const action of scheduled.ScheduledUpdateGroupActions ?? []) {
    const future = action.Recurrence || (action.StartTime && action.StartTime.getTime() > now);
    // bluegreen's own scale-down of a disabled group is not a setting of the app.
    if (!future || action.ScheduledActionName?.startsWith(SCALE_DOWN_ACTION_PREFIX)) continue;
    await aws.autoScaling.send(
      new PutScheduledUpdateGroupActionCommand({
        AutoScalingGroupName: targetName,
        ScheduledActionName: action.ScheduledActionName,
        ...(action.Recurrence ? { Recurrence: action.Recurrence } : {}),
        ...(action.StartTime && action.StartTime.getTime() > now ? { StartTime: action.StartTime } : {}),
        ...(action.EndTime ? { EndTime: action.EndTime } : {}),
        ...(action.MinSize !== undefined ? { MinSize: action.MinSize } : {}),
        ...(action.MaxSize !== undefined ? { MaxSize: action.MaxSize } : {}),
        ...(action.DesiredCapacity !== undefined ? { DesiredCapacity: action.DesiredCapacity } : {}),
        ...(action.TimeZone ? { TimeZone: action.TimeZone } : {}),
      }),
    );
    copied.scheduledActions.push(action.ScheduledActionName as string);
  }
  const metrics = source.asg.EnabledMetrics ?? [];
  if (metrics.length > 0) {
    await aws.autoScaling.send(
      new EnableMetricsCollectionCommand({
        AutoScalingGroupName: targetName,
        Granularity: metrics[0]?.Granularity ?? '1Minute',
        Metrics: metrics.map((m) => m.Metric as string),
      }),
    );
    copied.metricsCollection = true;
  }
  log.info(
    `copied from ${source.name}: ${copied.scalingPolicies.length} scaling policies, ${copied.alarms.length} alarms, ` +
      `${copied.scheduledActions.length} scheduled actions${copied.metricsCollection ? ', metrics collection' : ''}`,
  );
  return copied;
}

/** Deletes the CloudWatch alarms bluegreen copied for a server group that is being destroyed. */
export async function deleteGroupAlarms(aws: AwsClients, groupName: string): Promise<string[]> {
  const alarms = await collectPages(paginateDescribeAlarms({ client: aws.cloudWatch }, {}), (p) => p.MetricAlarms);
  const names = alarms
    .filter((a) => (a.Dimensions ?? []).some((d) => d.Name === 'AutoScalingGroupName' && d.Value === groupName))
    // Target tracking alarms belong to AWS and go with their policy.
    .filter((a) => !(a.AlarmName ?? '').startsWith('TargetTracking-'))
    .map((a) => a.AlarmName as string);
  for (const batch of chunk(names, 100)) await aws.cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: batch }));
  return names;
}
