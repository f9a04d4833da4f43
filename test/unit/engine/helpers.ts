import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ServerGroup, TargetHealthByGroup } from '../../../src/cluster/server-groups';
import { InputError } from '../../../src/core/errors';
import { parseServerGroupName } from '../../../src/core/naming';

/** Target group ARN the test groups are registered in. */
export const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef';

/**
 * A server group model for pure-logic tests (no AWS): `web-prod-vNNN`
 * created `sequence` minutes after a fixed time, enabled with two instances
 * at desired 2 unless told otherwise.
 */
export function group(name: string, overrides: Partial<ServerGroup> = {}): ServerGroup {
  const sequence = parseServerGroupName(name)?.sequence;
  const instances =
    overrides.instances ??
    [`i-${name}-a`, `i-${name}-b`].map((id) => ({
      id,
      lifecycleState: 'InService',
      healthStatus: 'Healthy',
      availabilityZone: 'us-east-1a',
    }));
  return {
    name,
    sequence,
    createdTime: new Date(Date.UTC(2026, 0, 1, 0, sequence ?? 0)),
    amiId: 'ami-0123456789abcdef0',
    launchTemplate: undefined,
    capacity: { min: 2, max: 4, desired: 2 },
    instances,
    targetGroupArns: [TG],
    suspendedProcesses: [],
    tags: {},
    enabled: true,
    managed: true,
    asg: { AutoScalingGroupName: name } as ServerGroup['asg'],
    ...overrides,
  };
}

/** Target health with each of `serving`'s instances in `state` in {@link TG}. */
export function healthOf(entries: Array<[ServerGroup, string]>): TargetHealthByGroup {
  const targets: TargetHealthDescription[] = entries.flatMap(([g, state]) =>
    g.instances.map((i) => ({ Target: { Id: i.id, Port: 80 }, TargetHealth: { State: state as never } })),
  );
  return new Map([[TG, targets]]);
}

/** The field an {@link InputError} thrown by `fn` names, or undefined when `fn` accepts its input. */
export function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error.field;
    throw error;
  }
  return undefined;
}
