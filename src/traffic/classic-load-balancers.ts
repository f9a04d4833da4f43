import {
  DeregisterInstancesFromLoadBalancerCommand,
  DescribeInstanceHealthCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  RegisterInstancesWithLoadBalancerCommand,
  type InstanceState,
} from '@aws-sdk/client-elastic-load-balancing';
import type { TargetHealthDescription, TargetHealthStateEnum } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { chunk } from '../aws/paginate';
import type { TargetHealthByGroup, Traffic } from './traffic';

/**
 * Classic load balancers (the `elb` API) behind the {@link Traffic}
 * interface: the sources are CLB names. Their instance health is mapped onto
 * the target-group states, so the health rules, drain waits and status read
 * one shape whatever the load balancer.
 */

/** Most instances one RegisterInstancesWithLoadBalancer / DeregisterInstancesFromLoadBalancer call is given. */
const INSTANCES_PER_CALL = 100;

/** What a CLB says while connection draining runs for a deregistered instance (AWS's wording). */
const DEREGISTERING = /deregistration currently in progress/i;
/** What a CLB says of an instance that has not passed HealthyThreshold checks since registration. */
const REGISTERING = /registration is still in progress/i;

/**
 * One CLB instance state as a target-group state: `InService` → `healthy`;
 * deregistration in progress (connection draining, whatever the State) →
 * `draining`; registration in progress → `initial`; failing its checks
 * (`OutOfService`, ReasonCode `Instance`) → `unhealthy`; `Unknown` →
 * `unavailable`.
 */
export function targetStateOfInstance(state: InstanceState): TargetHealthStateEnum {
  const description = state.Description ?? '';
  if (DEREGISTERING.test(description)) return 'draining';
  if (state.State === 'InService') return 'healthy';
  if (state.State === 'Unknown') return 'unavailable';
  if (REGISTERING.test(description)) return 'initial';
  return 'unhealthy';
}

/**
 * The target-group reason code of a mapped state: a CLB does not tell a
 * wrong answer from none, so a failing instance is `Target.FailedHealthChecks`
 * (a broken build only once past the ASG's grace period).
 */
const REASON_OF: Partial<Record<TargetHealthStateEnum, string>> = {
  initial: 'Elb.RegistrationInProgress',
  unhealthy: 'Target.FailedHealthChecks',
  draining: 'Target.DeregistrationInProgress',
};

/** A CLB's instance state in the shape of DescribeTargetHealth's. */
export function targetHealthOfInstance(state: InstanceState): TargetHealthDescription {
  const description = state.Description && state.Description !== 'N/A' ? state.Description : undefined;
  const mapped = targetStateOfInstance(state);
  const reason = REASON_OF[mapped];
  return {
    Target: { Id: state.InstanceId as string },
    TargetHealth: {
      State: mapped,
      ...(reason ? { Reason: reason as NonNullable<TargetHealthDescription['TargetHealth']>['Reason'] } : {}),
      ...(description ? { Description: description } : {}),
    },
  };
}

/** A CLB's health check timing, AWS seconds. */
export interface ClassicHealthCheckTiming {
  name: string;
  intervalSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

/**
 * The health check timing of classic load balancers (one DescribeLoadBalancers
 * for up to 20 names); a name that does not exist fails with AWS's
 * `LoadBalancerNotFound`.
 */
export async function classicHealthChecks(
  aws: AwsClients,
  names: readonly string[],
): Promise<ClassicHealthCheckTiming[]> {
  const timings: ClassicHealthCheckTiming[] = [];
  for (const batch of chunk([...new Set(names)], 20)) {
    const response = await aws.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: batch }));
    for (const balancer of response.LoadBalancerDescriptions ?? [])
      timings.push({
        name: balancer.LoadBalancerName ?? '',
        // AWS's defaults for a CLB health check.
        intervalSeconds: balancer.HealthCheck?.Interval ?? 30,
        healthyThreshold: balancer.HealthCheck?.HealthyThreshold ?? 10,
        unhealthyThreshold: balancer.HealthCheck?.UnhealthyThreshold ?? 2,
      });
  }
  return timings;
}

/** {@link Traffic} over classic load balancers (sources are CLB names). */
export function classicLoadBalancerTraffic(aws: AwsClients): Traffic {
  const health = async (sources: readonly string[]): Promise<TargetHealthByGroup> => {
    const result: TargetHealthByGroup = new Map();
    await Promise.all(
      [...new Set(sources)].map(async (name) => {
        const response = await aws.elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: name }));
        result.set(
          name,
          (response.InstanceStates ?? []).filter((s) => s.InstanceId).map((s) => targetHealthOfInstance(s)),
        );
      }),
    );
    return result;
  };
  return {
    health,
    async register(sources, instanceIds) {
      for (const name of sources)
        for (const batch of chunk(instanceIds, INSTANCES_PER_CALL))
          await aws.elb.send(
            new RegisterInstancesWithLoadBalancerCommand({
              LoadBalancerName: name,
              Instances: batch.map((InstanceId) => ({ InstanceId })),
            }),
          );
    },
    async deregister(sources, instanceIds, known) {
      const current = known && sources.every((name) => known.has(name)) ? known : await health(sources);
      const ids = new Set(instanceIds);
      for (const name of sources) {
        const registered = (current.get(name) ?? [])
          .filter((t) => ids.has(t.Target?.Id ?? '') && t.TargetHealth?.State !== 'draining')
          .map((t) => t.Target?.Id as string);
        for (const batch of chunk(registered, INSTANCES_PER_CALL))
          await aws.elb.send(
            new DeregisterInstancesFromLoadBalancerCommand({
              LoadBalancerName: name,
              Instances: batch.map((InstanceId) => ({ InstanceId })),
            }),
          );
      }
    },
    async drainSeconds(sources) {
      let longest = 0;
      for (const name of new Set(sources)) {
        const response = await aws.elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerName: name }));
        const draining = response.LoadBalancerAttributes?.ConnectionDraining;
        // Off: a deregistered instance's connections are closed at once.
        longest = Math.max(longest, draining?.Enabled ? (draining.Timeout ?? 300) : 0);
      }
      return longest;
    },
  };
}
