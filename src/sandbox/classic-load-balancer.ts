import {
  Agent,
  createServer,
  type ClientRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { Logger } from '../core/log';
import type { ClassicLoadBalancerFacts, ClassicListenerFacts } from './classic-elb';
import type { ClassicHealthMonitor } from './clb-health';
import type { InstanceFleet } from './fleet';
import { closeListeners, openPorts, proxyToInstance, sendError, type ListenerEndpoint } from './load-balancer';
import type { ResponseTimeSamples } from './percentiles';
import { closeHttpServer, listenLoopback } from './ports';

/**
 * Every listener of every classic load balancer moto holds gets a real port
 * on 127.0.0.1 that routes as a CLB does: round robin over the `InService`
 * instances (no fail-open: none InService is a 503), none to a deregistered
 * instance; its in-flight requests finish until the connection draining
 * timeout, then are cut. Every request is tallied for the `AWS/ELB` metrics
 * (dimension `LoadBalancerName`).
 */

export const CLB_NAMESPACE = 'AWS/ELB';

/** The account moto answers with, for CLB ARNs (CLBs have none in their API; the listing wants one). */
const MOTO_ACCOUNT = '123456789012';

interface RunningListener {
  loadBalancerName: string;
  listener: ClassicListenerFacts;
  server: Server;
  localPort: number;
}

interface ClassicTally {
  requests: number;
  /** HTTPCode_Backend_<n>XX by n (2..5). */
  backendCodes: Map<number, number>;
  elb5xx: number;
  latencies: number[];
}

export class ClassicRouter {
  private readonly listeners = new Map<string, RunningListener>();
  private readonly roundRobin = new Map<string, number>();
  /** Requests in flight per `<name> <instanceId>`, to cut when draining ends. */
  private readonly inFlight = new Map<string, Set<ClientRequest>>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 20_000 });
  private window = new Map<string, ClassicTally>();
  private stopped = false;

  constructor(
    private readonly fleet: InstanceFleet,
    private readonly health: ClassicHealthMonitor,
    private readonly region: string,
    private readonly log: Logger,
  ) {}

  /** Opens a port for each new CLB listener and closes those of deleted ones. */
  async reconcile(balancers: Map<string, ClassicLoadBalancerFacts> | undefined): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map<string, { name: string; listener: ClassicListenerFacts }>();
    for (const facts of balancers?.values() ?? [])
      for (const listener of facts.listeners)
        wanted.set(`${facts.name}:${listener.loadBalancerPort}`, { name: facts.name, listener });
    for (const [key, { name, listener }] of wanted) {
      const running = this.listeners.get(key);
      if (running) {
        running.listener = listener;
        continue;
      }
      const server = createServer((request, response) => this.route(key, request, response));
      server.keepAliveTimeout = 65_000;
      const entry: RunningListener = { loadBalancerName: name, listener, server, localPort: 0 };
      this.listeners.set(key, entry);
      entry.localPort = await listenLoopback(server, 0);
      this.log.info(`classic listener ${key} → http://127.0.0.1:${entry.localPort}`);
    }
    for (const [key, running] of this.listeners) {
      if (wanted.has(key)) continue;
      this.listeners.delete(key);
      await closeHttpServer(running.server);
    }
  }

  private tally(name: string): ClassicTally {
    let tally = this.window.get(name);
    if (!tally) this.window.set(name, (tally = { requests: 0, backendCodes: new Map(), elb5xx: 0, latencies: [] }));
    return tally;
  }

  private route(key: string, request: IncomingMessage, response: ServerResponse): void {
    const running = this.listeners.get(key);
    if (!running || this.stopped) return sendError(response, 503, 'Service Unavailable');
    const name = running.loadBalancerName;
    const pool = this.health.inService(name);
    if (pool.length === 0) {
      request.resume();
      this.tally(name).elb5xx += 1;
      return sendError(response, 503, 'Service Unavailable: Back-end server is at capacity');
    }
    const next = (this.roundRobin.get(name) ?? 0) % pool.length;
    this.roundRobin.set(name, next + 1);
    const instanceId = pool[next] as string;
    const port = this.fleet.portOf(instanceId);
    const tally = this.tally(name);
    if (port === undefined) {
      request.resume();
      tally.elb5xx += 1;
      return sendError(response, 502, 'Bad Gateway');
    }
    tally.requests += 1;
    const flightKey = `${name} ${instanceId}`;
    const upstream = proxyToInstance(request, response, port, running.listener.loadBalancerPort, this.agent, {
      answered: (status, seconds) => {
        const t = this.tally(name);
        const codeClass = Math.floor(status / 100);
        if (codeClass >= 2 && codeClass <= 5) t.backendCodes.set(codeClass, (t.backendCodes.get(codeClass) ?? 0) + 1);
        t.latencies.push(seconds);
      },
      failed: () => {
        this.tally(name).elb5xx += 1;
      },
    });
    let flights = this.inFlight.get(flightKey);
    if (!flights) this.inFlight.set(flightKey, (flights = new Set()));
    flights.add(upstream);
    response.on('close', () => {
      flights.delete(upstream);
      if (flights.size === 0) this.inFlight.delete(flightKey);
    });
  }

  /** Connection draining ended (or was off): cuts what the instance still serves for this CLB. */
  cutInFlight(loadBalancerName: string, instanceId: string): void {
    const flights = this.inFlight.get(`${loadBalancerName} ${instanceId}`);
    for (const upstream of flights ?? []) upstream.destroy();
  }

  /** Requests in flight to an instance through a CLB. */
  inFlightCount(loadBalancerName: string, instanceId: string): number {
    return this.inFlight.get(`${loadBalancerName} ${instanceId}`)?.size ?? 0;
  }

  /**
   * The window's `AWS/ELB` datums by `LoadBalancerName`, stamped `timestamp`
   * (counts only when not zero, host counts every window, as on AWS); its
   * latencies go to `samples` for percentiles. Starts a new window.
   */
  takeMetricData(timestamp: Date, samples?: ResponseTimeSamples): MetricDatum[] {
    const window = this.window;
    this.window = new Map();
    const data: MetricDatum[] = [];
    const datum = (name: string, dimensions: MetricDatum['Dimensions'], value: number, unit = 'Count') =>
      data.push({
        MetricName: name,
        Dimensions: dimensions,
        Timestamp: timestamp,
        Unit: unit as never,
        Value: value,
        StorageResolution: 1,
      });
    for (const [name, tally] of window) {
      const dimensions = [{ Name: 'LoadBalancerName', Value: name }];
      if (tally.requests > 0) datum('RequestCount', dimensions, tally.requests);
      for (const [codeClass, count] of [...tally.backendCodes].sort(([a], [b]) => a - b))
        datum(`HTTPCode_Backend_${codeClass}XX`, dimensions, count);
      if (tally.elb5xx > 0) datum('HTTPCode_ELB_5XX', dimensions, tally.elb5xx);
      const latencies = tally.latencies;
      if (latencies.length > 0) {
        data.push({
          MetricName: 'Latency',
          Dimensions: dimensions,
          Timestamp: timestamp,
          Unit: 'Seconds',
          StatisticValues: {
            SampleCount: latencies.length,
            Sum: latencies.reduce((a, b) => a + b, 0),
            Minimum: Math.min(...latencies),
            Maximum: Math.max(...latencies),
          },
          StorageResolution: 1,
        });
        samples?.record(
          { namespace: CLB_NAMESPACE, metricName: 'Latency', dimensions },
          timestamp.getTime(),
          latencies,
        );
      }
    }
    for (const name of this.health.names()) {
      const dimensions = [{ Name: 'LoadBalancerName', Value: name }];
      const hosts = this.health.hostCounts(name);
      datum('HealthyHostCount', dimensions, hosts.healthy);
      datum('UnHealthyHostCount', dimensions, hosts.unhealthy);
    }
    return data;
  }

  endpoints(): ListenerEndpoint[] {
    return [...this.listeners.entries()]
      .filter(([, l]) => l.localPort > 0)
      .map(([key, l]) => {
        const loadBalancerArn = `arn:aws:elasticloadbalancing:${this.region}:${MOTO_ACCOUNT}:loadbalancer/${l.loadBalancerName}`;
        return {
          type: 'classic' as const,
          listenerArn: `${loadBalancerArn}:${key.slice(key.lastIndexOf(':') + 1)}`,
          loadBalancerArn,
          loadBalancerName: l.loadBalancerName,
          region: this.region,
          protocol: l.listener.protocol,
          awsPort: l.listener.loadBalancerPort,
          localPort: l.localPort,
          url: `http://127.0.0.1:${l.localPort}`,
        };
      });
  }

  ports(): number[] {
    return openPorts(this.listeners.values());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await closeListeners(this.listeners, this.agent);
  }
}
