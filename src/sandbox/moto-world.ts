import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  type AutoScalingGroup,
  type DescribeAutoScalingGroupsCommandOutput,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  DescribeImagesCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type DescribeInstanceStatusCommandOutput,
  type DescribeLaunchTemplateVersionsCommandOutput,
  EC2Client,
  type DescribeImagesCommandOutput,
  type DescribeInstancesCommandOutput,
  type Filter,
  type Instance,
} from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type DescribeListenersCommandOutput,
  type DescribeLoadBalancersCommandOutput,
  type DescribeRulesCommandOutput,
  type DescribeTargetGroupAttributesCommandOutput,
  type DescribeTargetGroupsCommandOutput,
  type DescribeTargetHealthCommandOutput,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { readClassicLoadBalancers, type ClassicLoadBalancerFacts } from './classic-elb';
import { CostMeter } from './cost-meter';
import { forwardTargets, listenerRulesOf, routeActionOf, type ListenerRule, type RouteAction } from './listeners';
import type { WorldScope } from './world-effects';

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
  /** The target group's port (a target registered without one gets it). */
  port: number;
  /** Registered targets (moto's membership). */
  targets: { id: string; port: number }[];
}

export interface ListenerFacts {
  arn: string;
  loadBalancerArn: string;
  loadBalancerName: string;
  port: number;
  /** `HTTP`, `HTTPS`, … (served as plain HTTP locally). */
  protocol: string;
  /** Target groups the default action forwards to, with weights (1 when a single target group). */
  forward: { targetGroupArn: string; weight: number }[];
  /** The default action (a forward, or a fixed response / redirect). */
  defaultAction: RouteAction;
  /** The listener's other rules, by priority (listeners.ts). */
  rules: ListenerRule[];
}

export interface AsgFacts {
  name: string;
  /** The launch template and version the group launches from (`id:version`), when it names one. */
  launchTemplate?: string;
  healthCheckType: string;
  healthCheckGracePeriodSeconds: number;
  targetGroupArns: string[];
  /** Classic load balancers the group registers its instances with (`LoadBalancerNames`). */
  loadBalancerNames?: string[];
}

export { forwardTargets } from './listeners';

/** One consistent read of moto. */
export interface WorldSnapshot {
  instances: Map<string, InstanceFacts>;
  /** Tags of the AMIs of the instances above. */
  imageTags: Map<string, Record<string, string>>;
  targetGroups: Map<string, TargetGroupFacts>;
  listeners: Map<string, ListenerFacts>;
  asgs: Map<string, AsgFacts>;
  /** Classic load balancers by name (classic-elb.ts). */
  classicLoadBalancers?: Map<string, ClassicLoadBalancerFacts>;
}

/** SDK clients aimed straight at moto. */
export interface MotoClients {
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
  autoScaling: AutoScalingClient;
  /** For the sandbox's own metrics and alarm states. */
  cloudWatch: CloudWatchClient;
  /** Where the classic ELB API is asked (no SDK client: classic-elb.ts sends Query requests). */
  classic?: { endpoint: string; region: string };
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
    classic: { endpoint: motoEndpoint, region },
  };
}

/** A snapshot, with its classic load balancers when they were read. */
function snapshotOf(
  albWorld: Omit<WorldSnapshot, 'classicLoadBalancers'>,
  classicLoadBalancers: Map<string, ClassicLoadBalancerFacts> | undefined,
): WorldSnapshot {
  return classicLoadBalancers ? { ...albWorld, classicLoadBalancers } : albWorld;
}

/** Most instance ids in one DescribeInstances filter (EC2's limit on filter values). */
const INSTANCE_IDS_PER_CALL = 200;
/** Most names in one DescribeAutoScalingGroups call. */
const ASG_NAMES_PER_CALL = 50;

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

function instanceFactsOf(instance: Instance): InstanceFacts | undefined {
  if (!instance.InstanceId) return undefined;
  const asgName = instance.Tags?.find((tag) => tag.Key === 'aws:autoscaling:groupName')?.Value;
  return {
    id: instance.InstanceId,
    amiId: instance.ImageId ?? '',
    state: instance.State?.Name ?? 'unknown',
    ...(asgName ? { asgName } : {}),
  };
}

function asgFactsOf(group: AutoScalingGroup & { AutoScalingGroupName: string }): AsgFacts {
  return {
    name: group.AutoScalingGroupName,
    healthCheckType: group.HealthCheckType ?? 'EC2',
    healthCheckGracePeriodSeconds: group.HealthCheckGracePeriod ?? 0,
    targetGroupArns: group.TargetGroupARNs ?? [],
    ...(group.LoadBalancerNames?.length ? { loadBalancerNames: group.LoadBalancerNames } : {}),
    ...(group.LaunchTemplate?.LaunchTemplateId
      ? { launchTemplate: `${group.LaunchTemplate.LaunchTemplateId}:${group.LaunchTemplate.Version ?? '$Default'}` }
      : {}),
  };
}

function healthCheckOf(group: TargetGroup): HealthCheckSettings {
  return {
    enabled: group.HealthCheckEnabled ?? true,
    path: group.HealthCheckPath ?? '/',
    intervalSeconds: group.HealthCheckIntervalSeconds ?? 30,
    timeoutSeconds: group.HealthCheckTimeoutSeconds ?? 5,
    healthyThreshold: group.HealthyThresholdCount ?? 5,
    unhealthyThreshold: group.UnhealthyThresholdCount ?? 2,
    matcher: group.Matcher?.HttpCode ?? '200',
  };
}

/** The kinds of the {@link CostMeter}: one per moto action the reader sends. */
type MotoCommand = { constructor: { name: string } };

/**
 * Reads moto, whole ({@link MotoWorldReader.read}) or the part a call may
 * have changed ({@link MotoWorldReader.readChanges}); caches what rarely
 * changes (AMI tags, target group attributes) until told to forget.
 */
export class MotoWorldReader {
  private readonly imageTagCache = new Map<string, Record<string, string>>();
  private readonly deregistrationDelayCache = new Map<string, number>();
  /** AMI of each numbered launch template version (`id:version`) seen. */
  private readonly templateImageCache = new Map<string, string>();

  /** @param meter where each moto call's time goes, as `moto:<Action>` */
  constructor(
    private readonly clients: MotoClients,
    private readonly meter = new CostMeter(),
  ) {}

  /** Sends one command to moto, timed under `moto:<Action>`. */
  private send<T>(client: { send(command: never): Promise<unknown> }, command: MotoCommand): Promise<T> {
    const action = command.constructor.name.replace(/Command$/, '');
    return this.meter.time(`moto:${action}`, () => client.send(command as never) as Promise<T>);
  }

  /** Forgets cached AMI tags and target group attributes (all of them, or the ones named). */
  forgetCaches(only?: { imageIds?: Iterable<string>; targetGroupArns?: Iterable<string> }): void {
    if (!only) {
      this.imageTagCache.clear();
      this.deregistrationDelayCache.clear();
      return;
    }
    for (const id of only.imageIds ?? []) this.imageTagCache.delete(id);
    for (const arn of only.targetGroupArns ?? []) this.deregistrationDelayCache.delete(arn);
  }

  /** Reads the whole world. */
  async read(): Promise<WorldSnapshot> {
    const [instances, targetGroups, listeners, asgs, classicLoadBalancers] = await Promise.all([
      this.readInstances(),
      this.readTargetGroups(),
      this.readListeners(),
      this.readAsgs(),
      this.readClassic(),
    ]);
    const imageTags = await this.readImageTags([...new Set([...instances.values()].map((i) => i.amiId))]);
    return snapshotOf({ instances, imageTags, targetGroups, listeners, asgs }, classicLoadBalancers);
  }

  /**
   * `previous` with the part in `scope` read again: the named ASGs (settings;
   * members that are new or left them, described; their target groups before
   * and after), the named instances, target groups and listeners. What is
   * outside the scope is taken as unchanged: moto changes only through calls,
   * and the caller names what a call touched (world-effects.ts).
   */
  async readChanges(previous: WorldSnapshot, scope: WorldScope): Promise<WorldSnapshot> {
    if (scope.full) return this.read();
    this.forgetCaches({ imageIds: scope.imageIds, targetGroupArns: scope.targetGroupAttributes });
    const instances = new Map(previous.instances);
    const asgs = new Map(previous.asgs);
    const targetGroups = new Map(previous.targetGroups);
    const toDescribe = new Set(scope.instanceIds);
    /** Instances a named group launched, by the launch template they came from. */
    const launchedFrom = new Map<string, { asgName: string; template: string }>();
    /** Instances that left a named group (scaled in, terminated, detached, or the group deleted). */
    const left = new Set<string>();
    const tgsToRead = new Set(scope.targetGroupArns);
    if (scope.asgNames.size > 0) {
      const members = new Map<string, Set<string>>();
      for (const name of scope.asgNames) {
        members.set(name, new Set());
        for (const arn of previous.asgs.get(name)?.targetGroupArns ?? []) tgsToRead.add(arn);
      }
      for (const instance of previous.instances.values()) {
        if (instance.asgName && instance.state !== 'terminated') members.get(instance.asgName)?.add(instance.id);
      }
      for (const names of chunks([...scope.asgNames], ASG_NAMES_PER_CALL)) {
        const listed = new Set<string>();
        let token: string | undefined;
        do {
          const page = await this.send<DescribeAutoScalingGroupsCommandOutput>(
            this.clients.autoScaling,
            new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names, NextToken: token }),
          );
          for (const group of page.AutoScalingGroups ?? []) {
            const name = group.AutoScalingGroupName;
            if (!name) continue;
            listed.add(name);
            const facts = asgFactsOf({ ...group, AutoScalingGroupName: name });
            asgs.set(name, facts);
            for (const arn of facts.targetGroupArns) tgsToRead.add(arn);
            const before = members.get(name) ?? new Set<string>();
            const now = new Set((group.Instances ?? []).flatMap((i) => (i.InstanceId ? [i.InstanceId] : [])));
            const launched = [...now].filter((id) => !previous.instances.has(id) && !toDescribe.has(id));
            // The group launched these from its launch template: a numbered version is immutable, so its AMI is
            // theirs, unless the template changed since the last read (then a concurrent call may have changed it).
            const template = facts.launchTemplate;
            const was = previous.asgs.get(name)?.launchTemplate;
            if (launched.length > 0 && template && /:\d+$/.test(template) && (was === undefined || was === template))
              for (const id of launched) launchedFrom.set(id, { asgName: name, template });
            else for (const id of launched) toDescribe.add(id);
            for (const id of now) if (previous.instances.has(id) && !before.has(id)) toDescribe.add(id);
            for (const id of before) if (!now.has(id)) left.add(id);
          }
          token = page.NextToken;
        } while (token);
        for (const name of names) {
          if (listed.has(name)) continue;
          asgs.delete(name);
          for (const id of members.get(name) ?? []) left.add(id);
        }
      }
    }
    for (const [id, { asgName, template }] of launchedFrom) {
      const amiId = await this.imageOfTemplate(template);
      if (amiId === undefined) toDescribe.add(id);
      else instances.set(id, { id, amiId, state: 'running', asgName });
    }
    // Members that left a group: terminated ones keep their facts but their state (a cheap status read);
    // the rest (detached, stopped) are described in full.
    for (const ids of chunks(
      [...left].filter((id) => !toDescribe.has(id)),
      INSTANCE_IDS_PER_CALL,
    )) {
      const page = await this.send<DescribeInstanceStatusCommandOutput>(
        this.clients.ec2,
        new DescribeInstanceStatusCommand({ InstanceIds: ids, IncludeAllInstances: true }),
      ).catch(() => undefined);
      const states = new Map(
        (page?.InstanceStatuses ?? []).map((status) => [status.InstanceId ?? '', status.InstanceState?.Name]),
      );
      for (const id of ids) {
        const known = previous.instances.get(id);
        const state = states.get(id);
        if (known && state === 'terminated') instances.set(id, { ...known, state });
        else toDescribe.add(id);
      }
    }
    // Moto takes a stopped or terminated instance out of every target group it was in.
    const changedState = new Set<string>();
    for (const id of left) if (instances.get(id)?.state !== previous.instances.get(id)?.state) changedState.add(id);
    for (const ids of chunks([...toDescribe], INSTANCE_IDS_PER_CALL)) {
      const found = await this.describeInstances({ Filters: [{ Name: 'instance-id', Values: ids }] });
      for (const id of ids) {
        const facts = found.get(id);
        if (facts?.state !== previous.instances.get(id)?.state) changedState.add(id);
        if (facts) instances.set(id, facts);
        else instances.delete(id);
      }
    }
    if (changedState.size > 0) {
      for (const group of previous.targetGroups.values())
        if (group.targets.some((target) => changedState.has(target.id))) tgsToRead.add(group.arn);
    }
    let groupList: TargetGroup[] | undefined;
    if (scope.targetGroupList || [...tgsToRead].some((arn) => !targetGroups.has(arn))) {
      groupList = await this.listTargetGroups();
      const arns = new Set(groupList.map((g) => g.TargetGroupArn as string));
      for (const arn of targetGroups.keys()) if (!arns.has(arn)) targetGroups.delete(arn);
      for (const arn of arns) if (!targetGroups.has(arn)) tgsToRead.add(arn);
    }
    const definitions = new Map((groupList ?? []).map((g) => [g.TargetGroupArn as string, g]));
    await Promise.all(
      [...tgsToRead].map(async (arn) => {
        const group = definitions.get(arn);
        const known = targetGroups.get(arn);
        if (!group && !known) return; // named by a call, but moto has no such target group
        const facts = group ? await this.targetGroupFacts(group) : await this.refreshTargets(known as TargetGroupFacts);
        if (facts) targetGroups.set(arn, facts);
        else targetGroups.delete(arn);
      }),
    );
    if (groupList) {
      // Settings of the groups not read above (ModifyTargetGroup of one names it; a list read refreshes all).
      for (const [arn, group] of definitions) {
        const known = targetGroups.get(arn);
        if (known && !tgsToRead.has(arn))
          targetGroups.set(arn, {
            ...known,
            name: group.TargetGroupName ?? arn,
            port: group.Port ?? 80,
            healthCheck: healthCheckOf(group),
          });
      }
    }
    const listeners = scope.listeners ? await this.readListeners() : previous.listeners;
    // A CLB's registrations follow its ASGs (scale-in deregisters) and its instances (terminated ones).
    const classicMoved =
      scope.classicLoadBalancers ||
      ((previous.classicLoadBalancers?.size ?? 0) > 0 && (scope.asgNames.size > 0 || scope.instanceIds.size > 0));
    const classicLoadBalancers = classicMoved ? await this.readClassic() : previous.classicLoadBalancers;
    const imageTags = await this.readImageTags([...new Set([...instances.values()].map((i) => i.amiId))]);
    return snapshotOf({ instances, imageTags, targetGroups, listeners, asgs }, classicLoadBalancers);
  }

  /** The AMI of a launch template version (`id:version`, numbered: immutable, so cached); undefined when unknown. */
  private async imageOfTemplate(template: string): Promise<string | undefined> {
    if (this.templateImageCache.has(template)) return this.templateImageCache.get(template);
    const [id, version] = template.split(':') as [string, string];
    const answer = await this.send<DescribeLaunchTemplateVersionsCommandOutput>(
      this.clients.ec2,
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: [version] }),
    ).catch(() => undefined);
    const amiId = answer?.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.ImageId;
    if (amiId) this.templateImageCache.set(template, amiId);
    return amiId;
  }

  private async describeInstances(filter: { Filters?: Filter[] }): Promise<Map<string, InstanceFacts>> {
    const result = new Map<string, InstanceFacts>();
    let token: string | undefined;
    do {
      const page = await this.send<DescribeInstancesCommandOutput>(
        this.clients.ec2,
        new DescribeInstancesCommand({ ...filter, NextToken: token, MaxResults: 1000 }),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          const facts = instanceFactsOf(instance);
          if (facts) result.set(facts.id, facts);
        }
      }
      token = page.NextToken;
    } while (token);
    return result;
  }

  private readInstances(): Promise<Map<string, InstanceFacts>> {
    return this.describeInstances({});
  }

  private async readImageTags(amiIds: string[]): Promise<Map<string, Record<string, string>>> {
    const missing = amiIds.filter((id) => id && !this.imageTagCache.has(id));
    if (missing.length > 0) {
      const images: Pick<DescribeImagesCommandOutput, 'Images'> = await this.send<DescribeImagesCommandOutput>(
        this.clients.ec2,
        new DescribeImagesCommand({ ImageIds: missing }),
      ).catch(() => ({ Images: [] }));
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

  private async listTargetGroups(): Promise<TargetGroup[]> {
    const groups: TargetGroup[] = [];
    let marker: string | undefined;
    do {
      const page = await this.send<DescribeTargetGroupsCommandOutput>(
        this.clients.elbv2,
        new DescribeTargetGroupsCommand({ Marker: marker }),
      );
      groups.push(...(page.TargetGroups ?? []).filter((g) => g.TargetGroupArn));
      marker = page.NextMarker;
    } while (marker);
    return groups;
  }

  private async readTargetGroups(): Promise<Map<string, TargetGroupFacts>> {
    const result = new Map<string, TargetGroupFacts>();
    await Promise.all(
      (await this.listTargetGroups()).map(async (group) => {
        const facts = await this.targetGroupFacts(group);
        if (facts) result.set(facts.arn, facts);
      }),
    );
    return result;
  }

  /** A target group's facts from its definition, with its registered targets read now; undefined when moto no longer has it. */
  private async targetGroupFacts(group: TargetGroup): Promise<TargetGroupFacts | undefined> {
    const arn = group.TargetGroupArn as string;
    const targets = await this.registeredTargets(arn, group.Port ?? 80);
    if (!targets) return undefined;
    const delay = await this.deregistrationDelay(arn);
    return {
      arn,
      name: group.TargetGroupName ?? arn,
      healthCheck: healthCheckOf(group),
      deregistrationDelaySeconds: delay,
      port: group.Port ?? 80,
      targets,
    };
  }

  /** `known` with its registered targets (and deregistration delay, when forgotten) read again. */
  private async refreshTargets(known: TargetGroupFacts): Promise<TargetGroupFacts | undefined> {
    const targets = await this.registeredTargets(known.arn, known.port);
    if (!targets) return undefined;
    return { ...known, deregistrationDelaySeconds: await this.deregistrationDelay(known.arn), targets };
  }

  /** Registered targets of a target group (moto's membership); undefined when the target group is gone. */
  private async registeredTargets(
    arn: string,
    defaultPort: number,
  ): Promise<{ id: string; port: number }[] | undefined> {
    let health: DescribeTargetHealthCommandOutput;
    try {
      health = await this.send<DescribeTargetHealthCommandOutput>(
        this.clients.elbv2,
        new DescribeTargetHealthCommand({ TargetGroupArn: arn }),
      );
    } catch (error) {
      if (/^TargetGroupNotFound/.test((error as { name?: string }).name ?? '')) return undefined;
      throw error;
    }
    return (health.TargetHealthDescriptions ?? [])
      .filter((d) => d.Target?.Id && d.TargetHealth?.Reason !== 'Target.NotRegistered')
      .map((d) => ({ id: d.Target?.Id as string, port: d.Target?.Port ?? defaultPort }));
  }

  private async deregistrationDelay(arn: string): Promise<number> {
    const cached = this.deregistrationDelayCache.get(arn);
    if (cached !== undefined) return cached;
    const attributes = await this.send<DescribeTargetGroupAttributesCommandOutput>(
      this.clients.elbv2,
      new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }),
    );
    const value = Number(
      attributes.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value ?? 300,
    );
    const seconds = Number.isFinite(value) ? value : 300;
    this.deregistrationDelayCache.set(arn, seconds);
    return seconds;
  }

  private async readListeners(): Promise<Map<string, ListenerFacts>> {
    const result = new Map<string, ListenerFacts>();
    const balancers = await this.send<DescribeLoadBalancersCommandOutput>(
      this.clients.elbv2,
      new DescribeLoadBalancersCommand({}),
    );
    await Promise.all(
      (balancers.LoadBalancers ?? []).map(async (balancer) => {
        const listeners = await this.send<DescribeListenersCommandOutput>(
          this.clients.elbv2,
          new DescribeListenersCommand({ LoadBalancerArn: balancer.LoadBalancerArn }),
        );
        for (const listener of listeners.Listeners ?? []) {
          if (!listener.ListenerArn) continue;
          const rules = await this.send<DescribeRulesCommandOutput>(
            this.clients.elbv2,
            new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }),
          );
          result.set(listener.ListenerArn, {
            arn: listener.ListenerArn,
            loadBalancerArn: balancer.LoadBalancerArn as string,
            loadBalancerName: balancer.LoadBalancerName ?? '',
            port: listener.Port ?? 80,
            protocol: listener.Protocol ?? 'HTTP',
            forward: forwardTargets(listener.DefaultActions),
            defaultAction: routeActionOf(listener.DefaultActions),
            rules: listenerRulesOf(rules.Rules),
          });
        }
      }),
    );
    return result;
  }

  /** Every classic load balancer (undefined when the clients name no classic endpoint). */
  private async readClassic(): Promise<Map<string, ClassicLoadBalancerFacts> | undefined> {
    const classic = this.clients.classic;
    if (!classic) return undefined;
    return this.meter.time('moto:DescribeClassicLoadBalancers', () =>
      readClassicLoadBalancers(classic.endpoint, classic.region),
    );
  }

  private async readAsgs(): Promise<Map<string, AsgFacts>> {
    const result = new Map<string, AsgFacts>();
    let token: string | undefined;
    do {
      const page = await this.send<DescribeAutoScalingGroupsCommandOutput>(
        this.clients.autoScaling,
        new DescribeAutoScalingGroupsCommand({ NextToken: token }),
      );
      for (const group of page.AutoScalingGroups ?? []) {
        const name = group.AutoScalingGroupName;
        if (name) result.set(name, asgFactsOf({ ...group, AutoScalingGroupName: name }));
      }
      token = page.NextToken;
    } while (token);
    return result;
  }
}
