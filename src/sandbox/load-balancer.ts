import {
  Agent,
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Logger } from '../core/log';
import { AlbMetricsRecorder } from './alb-metrics';
import type { InstanceFleet } from './fleet';
import { chooseAction, forwardedGroups, redirectLocation, type ForwardTarget } from './listeners';
import type { ListenerFacts, WorldSnapshot } from './moto-world';
import { closeHttpServer, listenLoopback } from './ports';
import type { TargetHealthMonitor, TargetRef } from './target-health';

/**
 * Every ALB listener moto knows gets a real port on 127.0.0.1 that routes as
 * an ALB does: weighted choice among the forward action's target groups,
 * round robin over healthy targets, fail-open to all registered targets when
 * none is healthy, 503 when none is registered, 502 when the target's server
 * is gone. Draining targets get no new requests; in-flight ones finish.
 * Every routed request is tallied for the ALB metrics.
 */

/** A listener's local address. */
export interface ListenerEndpoint {
  /** `application` (ALB) or `classic` (CLB, which has no listener ARN: `listenerArn` is `<name>:<port>`). */
  type: 'application' | 'classic';
  listenerArn: string;
  loadBalancerArn: string;
  loadBalancerName: string;
  /** The region of the load balancer (from its ARN). */
  region: string;
  /** `HTTP`, `HTTPS`, … in AWS (served as plain HTTP locally). */
  protocol: string;
  /** The listener port in AWS (e.g. 80). */
  awsPort: number;
  /** The real port on 127.0.0.1. */
  localPort: number;
  url: string;
}

interface RunningListener {
  facts: ListenerFacts;
  server: Server;
  localPort: number;
}

/** The region of an ARN (`arn:aws:<service>:<region>:…`). */
export function regionOfArn(arn: string): string {
  return arn.split(':')[3] ?? '';
}

export function sendError(response: ServerResponse, status: number, text: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = `<html><body><h1>${status} ${text}</h1></body></html>`;
  response.writeHead(status, {
    'content-type': 'text/html',
    'content-length': Buffer.byteLength(body),
    server: 'awselb/2.0',
  });
  response.end(body);
}

/**
 * Sends a request on to an instance's app on 127.0.0.1:`port` and pipes its
 * answer back; `answered` gets the status and the seconds until its headers,
 * `failed` a failure before any answer (then 502). Returns the upstream request
 * (a classic load balancer cuts it when connection draining ends).
 */
export function proxyToInstance(
  request: IncomingMessage,
  response: ServerResponse,
  port: number,
  listenerPort: number,
  agent: Agent,
  tell: { answered(status: number, seconds: number): void; failed(): void },
): ClientRequest {
  const sentAt = performance.now();
  let answered = false;
  const upstream = httpRequest(
    {
      host: '127.0.0.1',
      port,
      method: request.method,
      path: request.url,
      headers: {
        ...request.headers,
        'x-forwarded-for': request.socket.remoteAddress ?? '127.0.0.1',
        'x-forwarded-port': String(listenerPort),
      },
      agent,
    },
    (answer) => {
      answered = true;
      tell.answered(answer.statusCode ?? 502, (performance.now() - sentAt) / 1000);
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
      answer.on('error', () => response.destroy());
    },
  );
  // Without a listener the agent's idle timeout would not touch active requests anyway; keep them alive.
  upstream.on('timeout', () => undefined);
  upstream.on('error', () => {
    if (!answered) tell.failed();
    sendError(response, 502, 'Bad Gateway');
  });
  request.pipe(upstream);
  return upstream;
}

/** The local ports of listeners that are open. */
export function openPorts(listeners: Iterable<{ localPort: number }>): number[] {
  return [...listeners].map((l) => l.localPort).filter((p) => p > 0);
}

/** Closes every listener's server (and forgets them), then the pool of connections to the apps. */
export async function closeListeners(listeners: Map<string, { server: Server }>, agent: Agent): Promise<void> {
  const all = [...listeners.values()];
  listeners.clear();
  await Promise.all(all.map((l) => closeHttpServer(l.server)));
  agent.destroy();
}

export class LoadBalancerRouter {
  private readonly listeners = new Map<string, RunningListener>();
  private readonly roundRobin = new Map<string, number>();
  /** Pooled connections to instance apps; idle ones close well before the apps' keep-alive timeout. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 20_000 });
  private stopped = false;

  constructor(
    private readonly fleet: InstanceFleet,
    private readonly health: TargetHealthMonitor,
    private readonly log: Logger,
    /** Where routed requests are tallied (the ALB metrics). */
    readonly metrics = new AlbMetricsRecorder(),
  ) {}

  /** Opens a port for each new listener and closes those of deleted ones. */
  async reconcile(world: WorldSnapshot): Promise<void> {
    if (this.stopped) return;
    for (const [arn, facts] of world.listeners) {
      const running = this.listeners.get(arn);
      if (running) {
        running.facts = facts;
        continue;
      }
      const server = createServer((request, response) => this.route(arn, request, response));
      server.keepAliveTimeout = 65_000;
      const entry: RunningListener = { facts, server, localPort: 0 };
      this.listeners.set(arn, entry);
      entry.localPort = await listenLoopback(server, 0);
      this.log.info(`listener ${facts.loadBalancerName}:${facts.port} → http://127.0.0.1:${entry.localPort}`);
    }
    for (const [arn, running] of this.listeners) {
      if (world.listeners.has(arn)) continue;
      this.listeners.delete(arn);
      await closeHttpServer(running.server);
    }
  }

  /** Chooses a target group by weight (only groups with registered targets; healthy ones first), then a target. */
  private pickTarget(forward: ForwardTarget[]): TargetRef | undefined {
    const options = forward
      .filter((f) => f.weight > 0)
      .map((f) => ({ ...f, ...this.health.routable(f.targetGroupArn) }))
      .filter((f) => f.registered.length > 0);
    if (options.length === 0) return undefined;
    const withHealthy = options.filter((f) => f.healthy.length > 0);
    const candidates = withHealthy.length > 0 ? withHealthy : options;
    const totalWeight = candidates.reduce((sum, f) => sum + f.weight, 0);
    let roll = Math.random() * totalWeight;
    let chosen = candidates[candidates.length - 1] as (typeof candidates)[number];
    for (const candidate of candidates) {
      roll -= candidate.weight;
      if (roll < 0) {
        chosen = candidate;
        break;
      }
    }
    // Fail open: with no healthy target, an ALB routes to all registered ones.
    const pool = chosen.healthy.length > 0 ? chosen.healthy : chosen.registered;
    const next = (this.roundRobin.get(chosen.targetGroupArn) ?? 0) % pool.length;
    this.roundRobin.set(chosen.targetGroupArn, next + 1);
    return pool[next];
  }

  private route(listenerArn: string, request: IncomingMessage, response: ServerResponse): void {
    const running = this.listeners.get(listenerArn);
    if (!running || this.stopped) return sendError(response, 503, 'Service Temporarily Unavailable');
    const facts = running.facts;
    const loadBalancerArn = facts.loadBalancerArn;
    const asked = { method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers };
    const action = chooseAction(facts.rules, facts.defaultAction, asked);
    if (action.kind !== 'forward') {
      request.resume();
      if (action.kind === 'unsupported') return sendError(response, 501, `Not Implemented (${action.type})`);
      const headers: Record<string, string | number> =
        action.kind === 'redirect'
          ? {
              location: redirectLocation(action.location, asked, facts.port),
            }
          : { 'content-type': action.contentType };
      const body = action.kind === 'fixed-response' ? action.body : '';
      const status = action.status;
      this.metrics.elbResponse(loadBalancerArn, status);
      response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body), server: 'awselb/2.0' });
      response.end(body);
      return;
    }
    const target = this.pickTarget(action.forward);
    if (!target) {
      this.metrics.elbResponse(loadBalancerArn, 503);
      return sendError(response, 503, 'Service Temporarily Unavailable');
    }
    const port = this.fleet.portOf(target.instanceId);
    if (port === undefined) {
      request.resume();
      this.metrics.elbResponse(loadBalancerArn, 502, target.targetGroupArn);
      return sendError(response, 502, 'Bad Gateway');
    }
    proxyToInstance(request, response, port, running.facts.port, this.agent, {
      answered: (status, seconds) =>
        this.metrics.targetResponse(loadBalancerArn, target.targetGroupArn, status, seconds),
      failed: () => this.metrics.elbResponse(loadBalancerArn, 502, target.targetGroupArn),
    });
  }

  /** Every (load balancer, target group) a listener forwards to. */
  forwardPairs(): { loadBalancerArn: string; targetGroupArn: string }[] {
    const pairs = new Map<string, { loadBalancerArn: string; targetGroupArn: string }>();
    for (const { facts } of this.listeners.values()) {
      const groups = [facts.defaultAction, ...facts.rules.map((rule) => rule.action)].flatMap(forwardedGroups);
      for (const f of groups)
        pairs.set(`${facts.loadBalancerArn} ${f.targetGroupArn}`, {
          loadBalancerArn: facts.loadBalancerArn,
          targetGroupArn: f.targetGroupArn,
        });
    }
    return [...pairs.values()];
  }

  endpoints(): ListenerEndpoint[] {
    return [...this.listeners.entries()]
      .filter(([, l]) => l.localPort > 0)
      .map(([arn, l]) => ({
        type: 'application' as const,
        listenerArn: arn,
        loadBalancerArn: l.facts.loadBalancerArn,
        loadBalancerName: l.facts.loadBalancerName,
        region: regionOfArn(arn),
        protocol: l.facts.protocol,
        awsPort: l.facts.port,
        localPort: l.localPort,
        url: `http://127.0.0.1:${l.localPort}`,
      }));
  }

  ports(): number[] {
    return openPorts(this.listeners.values());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await closeListeners(this.listeners, this.agent);
  }
}
