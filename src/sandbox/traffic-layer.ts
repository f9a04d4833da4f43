import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { describeError } from '../core/errors';
import type { Logger } from '../core/log';
import { AlarmEvaluator } from './alarm-evaluator';
import type { AwsCall } from './aws-request';
import { CloudWatchClock, metricWindowMs, scaledPeriodMs } from './cloudwatch-clock';
import { CostMeter, type CostSnapshot } from './cost-meter';
import { sortJsonDimensions, sortQueryDimensions } from './cloudwatch-dimensions';
import { InstanceFleet } from './fleet';
import type { ControlAnswer, GatewayHooks } from './gateway';
import { classicElbCall } from './classic-elb';
import { CLB_NAMESPACE, ClassicRouter } from './classic-load-balancer';
import { droppedByMoto } from './clb-membership';
import { ClassicHealthMonitor, rewriteInstanceHealth } from './clb-health';
import { LoadBalancerRouter, type ListenerEndpoint } from './load-balancer';
import { motoClients, MotoWorldReader, type WorldSnapshot } from './moto-world';
import { answerGetMetricData, answerGetMetricStatistics, type OwnAnswer } from './metric-queries';
import { ResponseTimeSamples } from './percentiles';
import { MotoReadCache } from './read-cache';
import { rewriteAsgInstanceHealth, rewriteTargetHealth } from './response-rewrite';
import { TargetHealthMonitor } from './target-health';
import { callEventOf, Timeline } from './timeline';
import { worldScopeOf } from './world-effects';
import { fullScope, isEmptyScope, mergeScopes, type WorldScope } from './world-scope';

/**
 * The traffic layer: reads moto, serves instances, checks health, routes
 * listeners, publishes their ALB metrics and evaluates alarms, records the
 * timeline, and plugs into the gateway to answer what moto cannot.
 */

export interface TrafficLayerOptions {
  motoEndpoint: string;
  region: string;
  /** Factor on every sandbox delay (boot, health interval, deregistration delay). */
  timeScale: number;
  /** Default instance boot time in AWS seconds (before scaling). */
  bootSeconds: number;
  /** How often the background poll checks whether a safety-net full read of moto is due, in real milliseconds. */
  pollMs: number;
  log: Logger;
}

/**
 * The background poll's safety net for changes that did not come through the
 * gateway: a full read of moto at most this often (and at least 100 × as long
 * as the last full read took), and only once no mutating call came for
 * {@link QUIET_BEFORE_FULL_READ_MS}, so it never lands in the middle of a deploy.
 */
const SAFETY_FULL_READ_EVERY_MS = 60_000;
const QUIET_BEFORE_FULL_READ_MS = 10_000;

export class TrafficLayer {
  readonly fleet: InstanceFleet;
  readonly health: TargetHealthMonitor;
  readonly router: LoadBalancerRouter;
  /** Classic load balancers: real health checks of their instances, and their listeners. */
  readonly classicHealth: ClassicHealthMonitor;
  readonly classicRouter: ClassicRouter;
  /** Target state changes and AWS calls, in order. */
  readonly timeline = new Timeline();
  private readonly cloudWatchClock: CloudWatchClock;
  private readonly reader: MotoWorldReader;
  private world: WorldSnapshot | undefined;
  /** The read in progress. */
  private running: Promise<void> | undefined;
  /** The read that starts after it, shared by every caller until it starts. */
  private next: Promise<void> | undefined;
  /** What {@link next} will read: the union of its callers' scopes. */
  private pending: WorldScope | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** How long the last full read of moto took (real ms), and when it ended. */
  private lastFullReadMs = 0;
  private lastFullReadAt = 0;
  /** When the gateway last passed on a mutating call (epoch ms). */
  private lastMutationAt = 0;
  /** What the layer spends (reads of moto, refreshes, CloudWatch windows), for the benchmark. */
  readonly costs = new CostMeter();
  /** Response times the load balancers measured, for percentile statistics (percentiles.ts). */
  readonly responseTimes = new ResponseTimeSamples();
  private readonly motoCloudWatch: CloudWatchClient;
  /** Moto's answers to the deploy's costly reads, kept between mutations (read-cache.ts). */
  readonly readCache = new MotoReadCache();

  constructor(private readonly options: TrafficLayerOptions) {
    const log = options.log;
    const moto = motoClients(options.motoEndpoint, options.region);
    this.reader = new MotoWorldReader(moto, this.costs);
    this.fleet = new InstanceFleet(
      options.bootSeconds * 1000 * options.timeScale,
      options.timeScale,
      log.child('instances'),
    );
    this.health = new TargetHealthMonitor(this.fleet, options.timeScale, log.child('health'), (change) =>
      this.timeline.record({ kind: 'target-state', ...change }),
    );
    this.router = new LoadBalancerRouter(this.fleet, this.health, log.child('lb'));
    this.classicHealth = new ClassicHealthMonitor(
      this.fleet,
      options.timeScale,
      log.child('clb-health'),
      (name, id) => this.classicRouter.cutInFlight(name, id),
      (change) => this.timeline.record({ kind: 'instance-health', ...change }),
    );
    this.classicRouter = new ClassicRouter(this.fleet, this.classicHealth, options.region, log.child('clb'));
    const scale = options.timeScale;
    const alarms = new AlarmEvaluator(
      moto.cloudWatch,
      (seconds) => scaledPeriodMs(seconds, scale),
      log.child('alarms'),
      this.responseTimes,
    );
    const hosts = () =>
      this.router.forwardPairs().map((pair) => ({ ...pair, ...this.health.hostCounts(pair.targetGroupArn) }));
    this.cloudWatchClock = new CloudWatchClock(
      moto.cloudWatch,
      metricWindowMs(scale),
      this.router.metrics,
      hosts,
      alarms,
      log.child('cloudwatch'),
      this.costs,
      this.responseTimes,
      [{ namespace: CLB_NAMESPACE, take: (at) => this.classicRouter.takeMetricData(at, this.responseTimes) }],
    );
    this.motoCloudWatch = moto.cloudWatch;
  }

  /**
   * Reads moto once, then keeps it current: every call that can change the
   * world is followed by a read of what it touched (`afterMutation`,
   * world-effects.ts), and moto changes only through calls, so the
   * background poll reads all of moto only rarely, as a safety net
   * ({@link SAFETY_FULL_READ_EVERY_MS}; a full read is O(instances) in moto: ~4 s at 400).
   */
  async start(): Promise<void> {
    await this.refresh();
    this.cloudWatchClock.start();
    const tick = (): void => {
      this.pollTimer = setTimeout(() => {
        const now = Date.now();
        const due =
          now - this.lastFullReadAt >= Math.max(SAFETY_FULL_READ_EVERY_MS, 100 * this.lastFullReadMs) &&
          now - this.lastMutationAt >= QUIET_BEFORE_FULL_READ_MS;
        if (!due) {
          tick();
          return;
        }
        this.refresh()
          .catch((error: unknown) => this.options.log.debug(`poll: ${describeError(error)}`))
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, this.options.pollMs);
    };
    tick();
  }

  /**
   * Reads `scope` of moto (default: all of it) and reconciles. Reads run one
   * at a time; callers that come while one runs share the next, which reads
   * the union of their scopes, so a caller's changes are always read after its call.
   */
  refresh(scope: WorldScope = fullScope()): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.pending = mergeScopes(this.pending, scope);
    this.next ??= (this.running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        const pending = this.pending ?? fullScope();
        this.pending = undefined;
        this.running = this.refreshOnce(pending).finally(() => {
          this.running = undefined;
        });
        return this.running;
      });
    return this.next;
  }

  private async refreshOnce(scope: WorldScope): Promise<void> {
    if (this.stopped || isEmptyScope(scope)) return;
    const started = performance.now();
    const previous = this.world;
    let world: WorldSnapshot;
    let kind = 'full';
    if (!previous || scope.full) world = await this.reader.read();
    else {
      kind = 'changes';
      world = await this.reader.readChanges(previous, scope).catch((error: unknown) => {
        this.options.log.debug(`partial read failed, reading everything: ${describeError(error)}`);
        kind = 'full';
        return this.reader.read();
      });
    }
    const readMs = performance.now() - started;
    this.costs.record(`refresh:${kind}`, readMs);
    if (kind === 'full') {
      this.lastFullReadMs = readMs;
      this.lastFullReadAt = Date.now();
    }
    if (this.stopped) return;
    world = await this.restoreClassicMembers(previous, world, scope);
    this.world = world;
    await this.costs.time('reconcile', async () => {
      await this.fleet.reconcile(world);
      this.health.reconcile(world);
      await this.router.reconcile(world);
      this.classicHealth.reconcile(world.classicLoadBalancers);
      await this.classicRouter.reconcile(world.classicLoadBalancers);
    });
  }

  /** Puts back in moto the CLB instances moto's Auto Scaling dropped by mistake (clb-membership.ts), and in `world`. */
  private async restoreClassicMembers(
    previous: WorldSnapshot | undefined,
    world: WorldSnapshot,
    scope: WorldScope,
  ): Promise<WorldSnapshot> {
    const dropped = droppedByMoto(previous, world, scope);
    if (dropped.size === 0) return world;
    const balancers = new Map(world.classicLoadBalancers);
    for (const [name, ids] of dropped) {
      await classicElbCall(this.options.motoEndpoint, this.options.region, 'RegisterInstancesWithLoadBalancer', {
        LoadBalancerName: name,
        ...Object.fromEntries(ids.map((id, i) => [`Instances.member.${i + 1}.InstanceId`, id])),
      });
      const facts = balancers.get(name);
      if (facts) balancers.set(name, { ...facts, instances: [...facts.instances, ...ids] });
      this.options.log.debug(`moto dropped ${ids.join(', ')} from ${name}: registered again`);
    }
    return { ...world, classicLoadBalancers: balancers };
  }

  /** What the layer spent so far ({@link costs}), with the gateway's reads answered from the cache and from moto. */
  costSnapshot(): CostSnapshot {
    const { hits, misses } = this.readCache.counts();
    return {
      ...this.costs.snapshot(),
      'read-cache:hit': { count: hits, ms: 0 },
      'read-cache:miss': { count: misses, ms: 0 },
    };
  }

  /** The world as the layer last read it (undefined before the first read). */
  currentWorld(): WorldSnapshot | undefined {
    return this.world;
  }

  /** ASG HealthStatus of an instance: for `HealthCheckType=ELB`, Unhealthy once a target group says `unhealthy` after the grace period. */
  asgHealthStatus(instanceId: string): 'Healthy' | 'Unhealthy' | undefined {
    const world = this.world;
    const asgName = world?.instances.get(instanceId)?.asgName;
    const asg = asgName ? world?.asgs.get(asgName) : undefined;
    if (!asg || asg.healthCheckType !== 'ELB') return undefined;
    const launchedAt = this.fleet.launchedAt(instanceId) ?? 0;
    if (Date.now() < launchedAt + asg.healthCheckGracePeriodSeconds * 1000 * this.options.timeScale) return 'Healthy';
    const unhealthy =
      asg.targetGroupArns.some((arn) => this.health.healthOf(arn, instanceId)?.state === 'unhealthy') ||
      (asg.loadBalancerNames ?? []).some(
        (name) => this.classicHealth.healthOf(name, instanceId)?.reasonCode === 'Instance',
      );
    return unhealthy ? 'Unhealthy' : 'Healthy';
  }

  /** The gateway hooks of the traffic layer. */
  gatewayHooks(extraControl?: GatewayHooks['control']): GatewayHooks {
    const rewritten = (call: AwsCall): boolean =>
      (call.service === 'elasticloadbalancing' &&
        (call.action === 'DescribeTargetHealth' || call.action === 'DescribeInstanceHealth')) ||
      (call.service === 'autoscaling' &&
        (call.action === 'DescribeAutoScalingGroups' || call.action === 'DescribeAutoScalingInstances'));
    return {
      readCache: this.readCache,
      rewritesAction: rewritten,
      rewriteResponse: (call, body) => {
        if (!rewritten(call)) return undefined;
        if (call.action === 'DescribeInstanceHealth') {
          const name = call.params.get('LoadBalancerName');
          if (!name) return undefined;
          const asked = [...call.params.keys()].some((key) => key.startsWith('Instances.'));
          return rewriteInstanceHealth(
            body,
            name,
            (lb, id) => this.classicHealth.healthOf(lb, id),
            asked ? [] : this.classicHealth.draining(name),
          );
        }
        if (call.action === 'DescribeTargetHealth') {
          const arn = call.params.get('TargetGroupArn');
          if (!arn) return undefined;
          const asked = [...call.params.keys()].some((key) => key.startsWith('Targets.'));
          return rewriteTargetHealth(body, arn, asked, this.health);
        }
        return rewriteAsgInstanceHealth(body, (id) => this.asgHealthStatus(id));
      },
      rewriteRequest: (call, headers, body) => {
        if (call.service !== 'monitoring' || body.length === 0) return undefined;
        const text = body.toString('utf8');
        const sorted = headers['x-amz-target'] ? sortJsonDimensions(text) : sortQueryDimensions(text);
        return sorted === undefined ? undefined : Buffer.from(sorted, 'utf8');
      },
      answerCall: (call, headers, body) => this.answerCall(call, headers, body),
      onCall: (call, receivedAt, fault) => this.timeline.record(callEventOf(call, receivedAt, fault)),
      afterMutation: async (call) => {
        if (call.service === 'monitoring' && call.action === 'PutMetricAlarm')
          return this.cloudWatchClock.evaluateNewAlarms();
        this.lastMutationAt = Date.now();
        const scope = worldScopeOf(call, this.world);
        if (!isEmptyScope(scope)) await this.refresh(scope);
      },
      control: async (method, path, body, query): Promise<ControlAnswer | undefined> => {
        if (method === 'GET' && path === 'state') return { status: 200, body: this.state() };
        if (method === 'GET' && path === 'timeline')
          return { status: 200, body: this.timeline.snapshot(Number(query?.get('since') ?? 0) || 0) };
        if ((method === 'DELETE' && path === 'timeline') || (method === 'POST' && path === 'timeline/reset')) {
          this.timeline.reset();
          return { status: 200, body: this.timeline.snapshot() };
        }
        if (method === 'GET' && path === 'listeners') return { status: 200, body: { listeners: this.endpoints() } };
        if (method === 'POST' && path === 'refresh') {
          await this.refresh();
          return { status: 200, body: this.state() };
        }
        return extraControl?.(method, path, body, query);
      },
    };
  }

  /** Answers the CloudWatch reads of percentiles (metric-queries.ts); undefined for every other call. */
  private answerCall(
    call: AwsCall,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
  ): Promise<OwnAnswer | undefined> {
    if (call.service !== 'monitoring') return Promise.resolve(undefined);
    if (call.action !== 'GetMetricData' && call.action !== 'GetMetricStatistics') return Promise.resolve(undefined);
    let json: Record<string, unknown> | undefined;
    if (headers['x-amz-target']) {
      try {
        json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return Promise.resolve(undefined);
      }
    }
    return call.action === 'GetMetricData'
      ? answerGetMetricData(this.responseTimes, this.motoCloudWatch, json, call.params)
      : Promise.resolve(answerGetMetricStatistics(this.responseTimes, json, call.params));
  }

  /** Instances, targets and listeners as the sandbox sees them. */
  state(): {
    instances: ReturnType<InstanceFleet['list']>;
    targets: ReturnType<TargetHealthMonitor['list']>;
    listeners: ListenerEndpoint[];
  } {
    return { instances: this.fleet.list(), targets: this.health.list(), listeners: this.endpoints() };
  }

  /** Every listener's local address: ALB listeners, then classic load balancer listeners. */
  endpoints(): ListenerEndpoint[] {
    return [...this.router.endpoints(), ...this.classicRouter.endpoints()];
  }

  /** Every port the layer listens on (instance apps and listeners). */
  ports(): number[] {
    return [...this.fleet.ports(), ...this.router.ports(), ...this.classicRouter.ports()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.cloudWatchClock.stop();
    await this.running?.catch(() => undefined);
    this.health.stop();
    this.classicHealth.stop();
    await this.router.stop();
    await this.classicRouter.stop();
    await this.fleet.stopAll();
  }
}
