import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';

/**
 * What moto says exists, read straight from moto (not through the gateway, so
 * these reads are neither counted nor faulted). Moto is the truth about
 * membership; the traffic layer adds what moto cannot do (serving, health).
 */

export interface InstanceFacts {
  id: string;
  amiId: string;
  /** EC2 state name: pending, running, stopping, stopped, shutting-down, terminated. */
  state: string;
  asgName?: string;
}

export interface HealthCheckSettings {
  enabled: boolean;
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** Matcher.HttpCode, e.g. `200`, `200-299`, `200,302`. */
  matcher: string;
}

export interface TargetGroupFacts {
  arn: string;
  name: string;
  healthCheck: HealthCheckSettings;
  deregistrationDelaySeconds: number;
  /** Registered targets (moto's membership). */
  targets: { id: string; port: number }[];
}

export interface ListenerFacts {
  arn: string;
  loadBalancerArn: string;
  loadBalancerName: string;
  port: number;
  /** Target groups the default action forwards to, with weights (1 when a single target group). */
  forward: { targetGroupArn: string; weight: number }[];
}

export interface AsgFacts {
  name: string;
  healthCheckType: string;
  healthCheckGracePeriodSeconds: number;
  targetGroupArns: string[];
}

/** One consistent read of moto. */
export interface WorldSnapshot {
  instances: Map<string, InstanceFacts>;
  /** Tags of the AMIs of the instances above. */
  imageTags: Map<string, Record<string, string>>;
  targetGroups: Map<string, TargetGroupFacts>;
  listeners: Map<string, ListenerFacts>;
  asgs: Map<string, AsgFacts>;
}

/** SDK clients aimed straight at moto. */
export interface MotoClients {
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
  autoScaling: AutoScalingClient;
  /** For the sandbox's own metrics and alarm states. */
  cloudWatch: CloudWatchClient;
}

/** Clients for the traffic layer's own reads of moto (fixed dummy credentials; moto does not check them). */
export function motoClients(motoEndpoint: string, region: string): MotoClients {
  const config = {
    region,
    endpoint: motoEndpoint,
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    maxAttempts: 3,
  };
  return {
    ec2: new EC2Client(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    autoScaling: new AutoScalingClient(config),
    // Moto fails on compressed bodies (the SDK gzips PutMetricData over 10 KB).
    cloudWatch: new CloudWatchClient({ ...config, disableRequestCompression: true }),
  };
}

/** Forward targets of a listener's default actions (plain TargetGroupArn or ForwardConfig weights). */
export function forwardTargets(actions: Action[] | undefined): { targetGroupArn: string; weight: number }[] {
  const forward = (actions ?? []).find((action) => action.Type === 'forward');
  if (!forward) return [];
  const weighted = forward.ForwardConfig?.TargetGroups ?? [];
  if (weighted.length > 0) {
    return weighted
      .filter((tg) => tg.TargetGroupArn)
      .map((tg) => ({ targetGroupArn: tg.TargetGroupArn as string, weight: tg.Weight ?? 1 }));
  }
  return forward.TargetGroupArn ? [{ targetGroupArn: forward.TargetGroupArn, weight: 1 }] : [];
}

/** Reads moto; caches what rarely changes (AMI tags, target group attributes) until told to forget. */
export class MotoWorldReader {
  private readonly imageTagCache = new Map<string, Record<string, string>>();
  private readonly deregistrationDelayCache = new Map<string, number>();

  constructor(private readonly clients: MotoClients) {}

  /** Forgets cached AMI tags and target group attributes (after CreateTags, ModifyTargetGroupAttributes, …). */
  forgetCaches(): void {
    this.imageTagCache.clear();
    this.deregistrationDelayCache.clear();
  }

  async read(): Promise<WorldSnapshot> {
    const [instances, targetGroups, listeners, asgs] = await Promise.all([
      this.readInstances(),
      this.readTargetGroups(),
      this.readListeners(),
      this.readAsgs(),
    ]);
    const imageTags = await this.readImageTags([...new Set([...instances.values()].map((i) => i.amiId))]);
    return { instances, imageTags, targetGroups, listeners, asgs };
  }

  private async readInstances(): Promise<Map<string, InstanceFacts>> {
    const result = new Map<string, InstanceFacts>();
    let token: string | undefined;
    do {
      const page = await this.clients.ec2.send(new DescribeInstancesCommand({ NextToken: token, MaxResults: 1000 }));
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          if (!instance.InstanceId) continue;
          const asgName = instance.Tags?.find((tag) => tag.Key === 'aws:autoscaling:groupName')?.Value;
          result.set(instance.InstanceId, {
            id: instance.InstanceId,
            amiId: instance.ImageId ?? '',
            state: instance.State?.Name ?? 'unknown',
            ...(asgName ? { asgName } : {}),
          });
        }
      }
      token = page.NextToken;
    } while (token);
    return result;
  }

  private async readImageTags(amiIds: string[]): Promise<Map<string, Record<string, string>>> {
    const missing = amiIds.filter((id) => id && !this.imageTagCache.has(id));
    if (missing.length > 0) {
      const images = await this.clients.ec2
        .send(new DescribeImagesCommand({ ImageIds: missing }))
        .catch(() => ({ Images: [] }));
      for (const image of images.Images ?? []) {
        if (image.ImageId)
          this.imageTagCache.set(
            image.ImageId,
            Object.fromEntries((image.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
          );
      }
      // AMIs moto no longer knows (deregistered) serve with defaults.
      for (const id of missing) if (!this.imageTagCache.has(id)) this.imageTagCache.set(id, {});
    }
    return new Map(amiIds.map((id) => [id, this.imageTagCache.get(id) ?? {}]));
  }

  private async readTargetGroups(): Promise<Map<string, TargetGroupFacts>> {
    const result = new Map<string, TargetGroupFacts>();
    const groups = await this.clients.elbv2.send(new DescribeTargetGroupsCommand({}));
    await Promise.all(
      (groups.TargetGroups ?? []).map(async (group) => {
        const arn = group.TargetGroupArn as string;
        const [health, delay] = await Promise.all([
          this.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
          this.deregistrationDelay(arn),
        ]);
        result.set(arn, {
          arn,
          name: group.TargetGroupName ?? arn,
          healthCheck: {
            enabled: group.HealthCheckEnabled ?? true,
            path: group.HealthCheckPath ?? '/',
            intervalSeconds: group.HealthCheckIntervalSeconds ?? 30,
            timeoutSeconds: group.HealthCheckTimeoutSeconds ?? 5,
            healthyThreshold: group.HealthyThresholdCount ?? 5,
            unhealthyThreshold: group.UnhealthyThresholdCount ?? 2,
            matcher: group.Matcher?.HttpCode ?? '200',
          },
          deregistrationDelaySeconds: delay,
          targets: (health.TargetHealthDescriptions ?? [])
            .filter((d) => d.Target?.Id && d.TargetHealth?.Reason !== 'Target.NotRegistered')
            .map((d) => ({ id: d.Target?.Id as string, port: d.Target?.Port ?? group.Port ?? 80 })),
        });
      }),
    );
    return result;
  }

  private async deregistrationDelay(arn: string): Promise<number> {
    const cached = this.deregistrationDelayCache.get(arn);
    if (cached !== undefined) return cached;
    const attributes = await this.clients.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
    const value = Number(
      attributes.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value ?? 300,
    );
    const seconds = Number.isFinite(value) ? value : 300;
    this.deregistrationDelayCache.set(arn, seconds);
    return seconds;
  }

  private async readListeners(): Promise<Map<string, ListenerFacts>> {
    const result = new Map<string, ListenerFacts>();
    const balancers = await this.clients.elbv2.send(new DescribeLoadBalancersCommand({}));
    await Promise.all(
      (balancers.LoadBalancers ?? []).map(async (balancer) => {
        const listeners = await this.clients.elbv2.send(
          new DescribeListenersCommand({ LoadBalancerArn: balancer.LoadBalancerArn }),
        );
        for (const listener of listeners.Listeners ?? []) {
          if (!listener.ListenerArn) continue;
          result.set(listener.ListenerArn, {
            arn: listener.ListenerArn,
            loadBalancerArn: balancer.LoadBalancerArn as string,
            loadBalancerName: balancer.LoadBalancerName ?? '',
            port: listener.Port ?? 80,
            forward: forwardTargets(listener.DefaultActions),
          });
        }
      }),
    );
    return result;
  }

  private async readAsgs(): Promise<Map<string, AsgFacts>> {
    const result = new Map<string, AsgFacts>();
    let token: string | undefined;
    do {
      const page = await this.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ NextToken: token }));
      for (const group of page.AutoScalingGroups ?? ([] as AutoScalingGroup[])) {
        if (!group.AutoScalingGroupName) continue;
        result.set(group.AutoScalingGroupName, {
          name: group.AutoScalingGroupName,
          healthCheckType: group.HealthCheckType ?? 'EC2',
          healthCheckGracePeriodSeconds: group.HealthCheckGracePeriod ?? 0,
          targetGroupArns: group.TargetGroupARNs ?? [],
        });
      }
      token = page.NextToken;
    } while (token);
    return result;
  }
}
