import type { AwsCall } from './aws-request';

/**
 * What happened in the sandbox, in order, so a benchmark can measure from the
 * outside (e.g. last new target really `healthy` → first `DeregisterTargets`
 * of the old group): every change of a target's health state as the
 * sandbox's checks see it, and every AWS call through the gateway. Bounded:
 * past {@link TIMELINE_CAPACITY} events the oldest are dropped (and counted).
 */

/** A target's health state changed (`initial`, `healthy`, `unhealthy`, `draining`, `unused` when it left). */
export interface TargetStateEvent {
  /** Epoch milliseconds. */
  at: number;
  kind: 'target-state';
  targetGroupArn: string;
  targetId: string;
  state: string;
  /** AWS reason code when there is one, e.g. `Target.ResponseCodeMismatch`. */
  reason?: string;
}

/** A classic load balancer instance's health changed (`OutOfService` on registration, `InService`, `Draining`, `Removed`). */
export interface InstanceHealthEvent {
  /** Epoch milliseconds. */
  at: number;
  kind: 'instance-health';
  loadBalancerName: string;
  instanceId: string;
  state: 'InService' | 'OutOfService' | 'Draining' | 'Removed';
  /** DescribeInstanceHealth's ReasonCode (`ELB`, `Instance`) when not `N/A`. */
  reasonCode?: string;
}

/** An AWS call reached the gateway. */
export interface CallEvent {
  /** Epoch milliseconds, when the gateway received it. */
  at: number;
  kind: 'call';
  /** Signing name: `ec2`, `autoscaling`, `elasticloadbalancing`, `monitoring`, `s3`, … */
  service: string;
  action: string;
  /** Set when the sandbox answered with an injected fault instead of moto. */
  fault?: 'throttle' | 'fail';
  /** The group, target group or listener the call names (Query protocol calls), to tell old group from new. */
  autoScalingGroupName?: string;
  targetGroupArn?: string;
  listenerArn?: string;
  /** The classic load balancer a call names. */
  loadBalancerName?: string;
  /** Targets named by RegisterTargets / DeregisterTargets (instances, for the classic API's Register/Deregister). */
  targetIds?: string[];
}

export type TimelineEvent = TargetStateEvent | CallEvent | InstanceHealthEvent;

/** The body of `GET /_sandbox/timeline`. */
export interface TimelineSnapshot {
  events: TimelineEvent[];
  /** Events dropped (oldest first) since the last reset because the timeline was full. */
  dropped: number;
}

/** Most events kept; a deploy of 200 instances records a few thousand. */
export const TIMELINE_CAPACITY = 50_000;

/** The names a call event keeps from a Query call's parameters. */
export function callEventOf(call: AwsCall, at: number, fault?: 'throttle' | 'fail'): CallEvent {
  const event: CallEvent = { at, kind: 'call', service: call.service, action: call.action };
  if (fault) event.fault = fault;
  const asg = call.params.get('AutoScalingGroupName');
  if (asg) event.autoScalingGroupName = asg;
  const tg = call.params.get('TargetGroupArn');
  if (tg) event.targetGroupArn = tg;
  const listener = call.params.get('ListenerArn');
  if (listener) event.listenerArn = listener;
  const loadBalancerName = call.params.get('LoadBalancerName');
  if (loadBalancerName) event.loadBalancerName = loadBalancerName;
  const targetIds = [...call.params.entries()]
    .filter(([key]) => /^(Targets\.member\.\d+\.Id|Instances\.member\.\d+\.InstanceId)$/.test(key))
    .map(([, value]) => value);
  if (targetIds.length > 0) event.targetIds = targetIds;
  return event;
}

/** A bounded, append-only event log (a ring: memory stays at most `capacity` events). */
export class Timeline {
  private events: TimelineEvent[] = [];
  private start = 0;
  private dropped = 0;

  constructor(private readonly capacity = TIMELINE_CAPACITY) {}

  record(event: TimelineEvent): void {
    if (this.events.length < this.capacity) {
      this.events.push(event);
      return;
    }
    this.events[this.start] = event;
    this.start = (this.start + 1) % this.capacity;
    this.dropped += 1;
  }

  /** Events at or after `since` (epoch ms), oldest first (ordered by `at`). */
  snapshot(since = 0): TimelineSnapshot {
    const ordered = [...this.events.slice(this.start), ...this.events.slice(0, this.start)];
    // Stable: events of the same millisecond keep the order they were recorded in.
    const events = ordered.filter((e) => e.at >= since).sort((a, b) => a.at - b.at);
    return { events, dropped: this.dropped };
  }

  reset(): void {
    this.events = [];
    this.start = 0;
    this.dropped = 0;
  }
}
