import { createServer, type Server } from 'node:http';
import { closeHttpServer, listenLoopback } from './ports';

/**
 * The app an instance serves, as its AMI's tags describe it:
 * `sandbox:version` (default: the AMI id), `sandbox:health` = `ok` |
 * `fail` | `flaky[:share]` | `partial:<share>` | `slow-boot:<seconds>`, and how it answers real
 * (non-`/health`) requests: `sandbox:errors=<share>` of them with 500,
 * each after `sandbox:latency=<ms>` more.
 */

/** Tag keys read on AMIs. */
export const AppTag = {
  version: 'sandbox:version',
  health: 'sandbox:health',
  errors: 'sandbox:errors',
  latency: 'sandbox:latency',
} as const;

export type HealthBehaviour = { kind: 'ok' } | { kind: 'fail' } | { kind: 'flaky'; failShare: number };

/** How an instance of an AMI behaves. */
export interface AppBehaviour {
  version: string;
  health: HealthBehaviour;
  /** Boot time in AWS seconds when the AMI sets it (`slow-boot:<seconds>`), else undefined (sandbox default). */
  bootSeconds?: number;
  /** Share (0..1] of real requests answered 500 (`sandbox:errors`); unset: none. */
  errorShare?: number;
  /** Real milliseconds added to each real request (`sandbox:latency`); an app property, not time-scaled. Unset: none. */
  latencyMs?: number;
}

/** Share of failing health checks for `flaky` without a number. */
const DEFAULT_FLAKY_SHARE = 0.3;
/** Longest a request is held (`?delay=`, `sandbox:latency`). */
const MAX_HOLD_MS = 600_000;

/** A tag's positive number, at most `max`; 0 when unset, not a number or not positive. */
function numberTag(value: string | undefined, max: number): number {
  const n = Number((value ?? '').trim());
  return Number.isFinite(n) && n > 0 ? Math.min(max, n) : 0;
}

function healthOf(tag: string | undefined, ordinal: number): { health: HealthBehaviour; bootSeconds?: number } {
  const health = (tag ?? 'ok').trim();
  if (health === 'fail') return { health: { kind: 'fail' } };
  const partial = /^partial:([\d.]+)$/.exec(health);
  // That share of the AMI's instances, spread evenly by launch order, always fail: a build bad on some hosts.
  if (partial)
    return {
      health: failsAt(ordinal, Math.min(1, Math.max(0, Number(partial[1])))) ? { kind: 'fail' } : { kind: 'ok' },
    };
  const flaky = /^flaky(?::([\d.]+))?$/.exec(health);
  if (flaky) {
    const share = flaky[1] === undefined ? DEFAULT_FLAKY_SHARE : Math.min(1, Math.max(0, Number(flaky[1])));
    return { health: { kind: 'flaky', failShare: share } };
  }
  const slowBoot = /^slow-boot:([\d.]+)$/.exec(health);
  if (slowBoot) return { health: { kind: 'ok' }, bootSeconds: Number(slowBoot[1]) };
  return { health: { kind: 'ok' } };
}

/**
 * Reads an AMI's tags into an app behaviour; unknown values serve as `ok`, with no errors and no added latency.
 * `ordinal` is the instance's launch number among this AMI's instances (0, 1, …), for `partial:<share>`.
 */
export function appBehaviourOf(amiId: string, tags: Record<string, string>, ordinal = 0): AppBehaviour {
  const errorShare = numberTag(tags[AppTag.errors], 1);
  const latencyMs = numberTag(tags[AppTag.latency], MAX_HOLD_MS);
  return {
    version: tags[AppTag.version] || amiId,
    ...healthOf(tags[AppTag.health], ordinal),
    ...(errorShare > 0 ? { errorShare } : {}),
    ...(latencyMs > 0 ? { latencyMs } : {}),
  };
}

/**
 * Whether the `index`-th real request (0-based) fails at `share`: the failures
 * are spread evenly (request i fails when ⌊(i+1)·share⌋ > ⌊i·share⌋), so any
 * n requests hold ⌊n·share⌋ or ⌈n·share⌉ failures — exact enough to assert on.
 */
export function failsAt(index: number, share: number): boolean {
  return Math.floor((index + 1) * share) > Math.floor(index * share);
}

/** A running instance app. */
export interface AppServer {
  port: number;
  /** Health check requests answered so far. */
  healthChecksServed(): number;
  /** Requests being answered right now. */
  inFlight(): number;
  /** Stops serving at once; in-flight requests are cut (the instance is gone). */
  stop(): Promise<void>;
}

/** Milliseconds a request asks to be held: `?delay=ms` on any path, or `/slow?ms=`. */
function requestedDelayMs(url: URL): number {
  const raw =
    url.pathname === '/slow'
      ? (url.searchParams.get('ms') ?? url.searchParams.get('delay'))
      : url.searchParams.get('delay');
  const ms = Number(raw ?? 0);
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_HOLD_MS) : 0;
}

/**
 * Serves an instance's app on 127.0.0.1: `GET /` (and any other path) →
 * `{version, instanceId, amiId}` (or 500 for the `errorShare`, after
 * `latencyMs`); `GET /health` → 200 or 500 per the health behaviour.
 */
export async function startAppServer(instanceId: string, amiId: string, behaviour: AppBehaviour): Promise<AppServer> {
  let healthChecks = 0;
  let inFlight = 0;
  let realRequests = 0;
  const server: Server = createServer((request, response) => {
    inFlight += 1;
    response.once('close', () => {
      inFlight -= 1;
    });
    const url = new URL(request.url ?? '/', 'http://instance.invalid');
    const isHealth = url.pathname === '/health';
    const delay = requestedDelayMs(url) + (isHealth ? 0 : (behaviour.latencyMs ?? 0));
    // Decided on arrival, so the spread follows the order requests came in.
    const failing = !isHealth && behaviour.errorShare !== undefined && failsAt(realRequests, behaviour.errorShare);
    if (!isHealth) realRequests += 1;
    const answer = (): void => {
      if (isHealth) {
        healthChecks += 1;
        const unhealthy =
          behaviour.health.kind === 'fail' ||
          (behaviour.health.kind === 'flaky' && Math.random() < behaviour.health.failShare);
        const body = JSON.stringify({ status: unhealthy ? 'failing' : 'ok', instanceId, version: behaviour.version });
        response.writeHead(unhealthy ? 500 : 200, { 'content-type': 'application/json' });
        response.end(body);
        return;
      }
      if (failing) {
        const body = JSON.stringify({ error: 'sandbox:errors', version: behaviour.version, instanceId, amiId });
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(body);
        return;
      }
      const body = JSON.stringify({ version: behaviour.version, instanceId, amiId });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(body);
    };
    request.resume();
    if (delay > 0) {
      const timer = setTimeout(answer, delay);
      response.once('close', () => clearTimeout(timer));
    } else answer();
  });
  // Longer than the load balancer's idle keep-alive, so the LB never reuses a socket the app is closing.
  server.keepAliveTimeout = 65_000;
  const port = await listenLoopback(server, 0);
  return {
    port,
    healthChecksServed: () => healthChecks,
    inFlight: () => inFlight,
    stop: () => closeHttpServer(server),
  };
}
