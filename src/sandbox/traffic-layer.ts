import { describeError } from '../core/errors';
import type { Logger } from '../core/log';
import { AlarmEvaluator } from './alarm-evaluator';
import type { AwsCall } from './aws-request';
import { CloudWatchClock, metricWindowMs, scaledPeriodMs } from './cloudwatch-clock';
import { sortJsonDimensions, sortQueryDimensions } from './cloudwatch-dimensions';
import { InstanceFleet } from './fleet';
import type { ControlAnswer, GatewayHooks } from './gateway';
import { LoadBalancerRouter } from './load-balancer';
import { motoClients, MotoWorldReader, type WorldSnapshot } from './moto-world';
import { rewriteAsgInstanceHealth, rewriteTargetHealth } from './response-rewrite';
import { TargetHealthMonitor } from './target-health';
import { callEventOf, Timeline } from './timeline';

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
  /** How often moto is read, in real milliseconds. */
  pollMs: number;
  log: Logger;
}

/** Actions after which cached AMI tags / target group attributes may be stale. */
const CACHE_BUSTING_ACTIONS = new Set([
  'CreateTags',
  'DeleteTags',
  'ModifyTargetGroupAttributes',
  'RegisterImage',
  'CreateImage',
  'DeregisterImage',
]);
const WORLD_SERVICES = new Set(['ec2', 'autoscaling', 'elasticloadbalancing']);
/** With no world-changing call since the last read, the background poll still reads moto every this many ticks. */
const IDLE_READ_EVERY = 100;
/**
 * Mutations that cannot change what the layer reads (instances, target
 * membership, listeners, ASG health check settings): answered without the
 * read-your-writes refresh. A world read costs moto ~4 ms per instance
 * (DescribeInstances), so at a few hundred instances refreshing after every
 * tag write made each of them take seconds.
 */
const WORLD_NEUTRAL_ACTIONS = new Set([
  'autoscaling:CreateOrUpdateTags',
  'autoscaling:DeleteTags',
  'autoscaling:SuspendProcesses',
  'autoscaling:ResumeProcesses',
  'autoscaling:PutScalingPolicy',
  'autoscaling:DeletePolicy',
  'autoscaling:PutScheduledUpdateGroupAction',
  'autoscaling:DeleteScheduledAction',
  'autoscaling:PutLifecycleHook',
  'autoscaling:DeleteLifecycleHook',
  'autoscaling:EnableMetricsCollection',
  'autoscaling:DisableMetricsCollection',
  'ec2:CreateLaunchTemplate',
  'ec2:CreateLaunchTemplateVersion',
  'ec2:ModifyLaunchTemplate',
  'ec2:DeleteLaunchTemplate',
]);

export class TrafficLayer {
  readonly fleet: InstanceFleet;
  readonly health: TargetHealthMonitor;
  readonly router: LoadBalancerRouter;
  /** Target state changes and AWS calls, in order. */
  readonly timeline = new Timeline();
  private readonly cloudWatchClock: CloudWatchClock;
  private readonly reader: MotoWorldReader;
  private world: WorldSnapshot | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** How long the last read of moto took (real ms). */
  private lastReadMs = 0;
  /** A call that may have changed the world came after the last read started. */
  private dirty = false;

  constructor(private readonly options: TrafficLayerOptions) {
    const log = options.log;
    const moto = motoClients(options.motoEndpoint, options.region);
    this.reader = new MotoWorldReader(moto);
    this.fleet = new InstanceFleet(
      options.bootSeconds * 1000 * options.timeScale,
      options.timeScale,
      log.child('instances'),
    );
    this.health = new TargetHealthMonitor(this.fleet, options.timeScale, log.child('health'), (change) =>
      this.timeline.record({ kind: 'target-state', ...change }),
    );
    this.router = new LoadBalancerRouter(this.fleet, this.health, log.child('lb'));
    const scale = options.timeScale;
    const alarms = new AlarmEvaluator(
      moto.cloudWatch,
      (seconds) => scaledPeriodMs(seconds, scale),
      log.child('alarms'),
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
    );
  }

  /**
   * Reads moto once, then keeps polling: every `pollMs`, or after a pause as
   * long as the last read when reads are slower (a big world), so that moto
   * keeps at least half its time for the calls of the code under test. Moto
   * changes only through calls, and every call that can change the world is
   * followed by a read (`afterMutation`): while none came since the last read
   * the poll skips moto, and reads only every {@link IDLE_READ_EVERY} ticks as
   * a safety net (a world read is O(instances) in moto: ~4 s at 400).
   */
  async start(): Promise<void> {
    await this.refresh();
    this.cloudWatchClock.start();
    let idleTicks = 0;
    const tick = (): void => {
      this.pollTimer = setTimeout(
        () => {
          idleTicks += 1;
          if (!this.dirty && idleTicks < IDLE_READ_EVERY) {
            tick();
            return;
          }
          idleTicks = 0;
          this.refresh()
            .catch((error: unknown) => this.options.log.debug(`poll: ${describeError(error)}`))
            .finally(() => {
              if (!this.stopped) tick();
            });
        },
        Math.max(this.options.pollMs, this.lastReadMs),
      );
    };
    tick();
  }

  /** Reads moto and reconciles; concurrent callers share a run, and a call made during a run gets a fresh one after it. */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.running) {
      this.running = this.refreshOnce().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    if (!this.queued) {
      this.queued = this.running
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined;
          return this.refresh();
        });
    }
    return this.queued;
  }

  private async refreshOnce(): Promise<void> {
    const started = Date.now();
    this.dirty = false;
    const world = await this.reader.read();
    this.lastReadMs = Date.now() - started;
    if (this.stopped) return;
    this.world = world;
    await this.fleet.reconcile(world);
    this.health.reconcile(world);
    await this.router.reconcile(world);
  }

  /** ASG HealthStatus of an instance: for `HealthCheckType=ELB`, Unhealthy once a target group says `unhealthy` after the grace period. */
  asgHealthStatus(instanceId: string): 'Healthy' | 'Unhealthy' | undefined {
    const world = this.world;
    const asgName = world?.instances.get(instanceId)?.asgName;
    const asg = asgName ? world?.asgs.get(asgName) : undefined;
    if (!asg || asg.healthCheckType !== 'ELB') return undefined;
    const launchedAt = this.fleet.launchedAt(instanceId) ?? 0;
    if (Date.now() < launchedAt + asg.healthCheckGracePeriodSeconds * 1000 * this.options.timeScale) return 'Healthy';
    const unhealthy = asg.targetGroupArns.some((arn) => this.health.healthOf(arn, instanceId)?.state === 'unhealthy');
    return unhealthy ? 'Unhealthy' : 'Healthy';
  }

  /** The gateway hooks of the traffic layer. */
  gatewayHooks(extraControl?: GatewayHooks['control']): GatewayHooks {
    const rewritten = (call: AwsCall): boolean =>
      (call.service === 'elasticloadbalancing' && call.action === 'DescribeTargetHealth') ||
      (call.service === 'autoscaling' &&
        (call.action === 'DescribeAutoScalingGroups' || call.action === 'DescribeAutoScalingInstances'));
    return {
      rewritesAction: rewritten,
      rewriteResponse: (call, body) => {
        if (!rewritten(call)) return undefined;
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
      onCall: (call, receivedAt, fault) => this.timeline.record(callEventOf(call, receivedAt, fault)),
      afterMutation: async (call) => {
        if (call.service === 'monitoring' && call.action === 'PutMetricAlarm')
          return this.cloudWatchClock.evaluateNewAlarms();
        if (!WORLD_SERVICES.has(call.service) || WORLD_NEUTRAL_ACTIONS.has(`${call.service}:${call.action}`)) return;
        if (CACHE_BUSTING_ACTIONS.has(call.action)) this.reader.forgetCaches();
        this.dirty = true;
        await this.refresh();
      },
      control: async (method, path, body, query): Promise<ControlAnswer | undefined> => {
        if (method === 'GET' && path === 'state') return { status: 200, body: this.state() };
        if (method === 'GET' && path === 'timeline')
          return { status: 200, body: this.timeline.snapshot(Number(query?.get('since') ?? 0) || 0) };
        if ((method === 'DELETE' && path === 'timeline') || (method === 'POST' && path === 'timeline/reset')) {
          this.timeline.reset();
          return { status: 200, body: this.timeline.snapshot() };
        }
        if (method === 'GET' && path === 'listeners')
          return { status: 200, body: { listeners: this.router.endpoints() } };
        if (method === 'POST' && path === 'refresh') {
          await this.refresh();
          return { status: 200, body: this.state() };
        }
        return extraControl?.(method, path, body, query);
      },
    };
  }

  /** Instances, targets and listeners as the sandbox sees them. */
  state(): {
    instances: ReturnType<InstanceFleet['list']>;
    targets: ReturnType<TargetHealthMonitor['list']>;
    listeners: ReturnType<LoadBalancerRouter['endpoints']>;
  } {
    return { instances: this.fleet.list(), targets: this.health.list(), listeners: this.router.endpoints() };
  }

  /** Every port the layer listens on (instance apps and listeners). */
  ports(): number[] {
    return [...this.fleet.ports(), ...this.router.ports()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.cloudWatchClock.stop();
    await this.running?.catch(() => undefined);
    this.health.stop();
    await this.router.stop();
    await this.fleet.stopAll();
  }
}
