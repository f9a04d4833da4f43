import type { AwsClients } from '../aws/clients';
import { InputError } from '../core/errors';
import { verdictDueAfterMs } from './health';

/**
 * Durations a deploy is given that cannot work with the cluster as it is, read
 * from AWS before any change: refused as bad input (exit 2, nothing changed)
 * instead of a deploy certain to roll back (exit 1). The checks that need no
 * AWS (a lease of whole seconds, capacity min ≤ desired ≤ max, …) are in the
 * input declarations.
 */

/**
 * `healthTimeout` must leave the load balancer time to report a new instance
 * healthy at all: a freshly registered target is `initial` until it passed
 * the healthy threshold × interval of checks, in every target group and classic load balancer. That is
 * the floor even for an instance that boots at once; its boot time comes on
 * top but cannot be read, and the ASG's grace period is not counted (the load
 * balancer checks during it, and the deploy waits on the load balancer).
 */
export async function checkHealthTimeout(
  aws: AwsClients,
  healthTimeoutSeconds: number,
  targetGroupArns: readonly string[],
): Promise<void> {
  const verdicts = await verdictDueAfterMs(aws, targetGroupArns);
  if (healthTimeoutSeconds * 1000 >= verdicts.healthyMs) return;
  const minimum = Math.ceil(verdicts.healthyMs / 1000);
  throw new InputError(
    'healthTimeout',
    `is ${healthTimeoutSeconds}s, shorter than the ${minimum}s before the load balancers can first report a new instance healthy ` +
      `(${verdicts.slowestHealthy}): give at least ${minimum}s plus the instance's boot time, ` +
      'or change the health check; with less the deploy is certain to roll back',
    { minimumSeconds: minimum },
  );
}
