import { createServer, type Server } from 'node:http';
import { closeHttpServer, listenLoopback } from './ports';

/**
 * The app an instance serves, as its AMI's tags describe it:
 * `sandbox:version` (default: the AMI id) and `sandbox:health` = `ok` |
 * `fail` | `flaky[:share]` | `partial:<share>` (that share of the AMI's instances,
 * by launch order, always fail: a build bad on some hosts) | `slow-boot:<seconds>`.
 */

/** Tag keys read on AMIs. */
export const AppTag = { version: 'sandbox:version', health: 'sandbox:health' } as const;

export type HealthBehaviour = { kind: 'ok' } | { kind: 'fail' } | { kind: 'flaky'; failShare: number };

/** How an instance of an AMI behaves. */
export interface AppBehaviour {
  version: string;
  health: HealthBehaviour;
  /** Boot time in AWS seconds when the AMI sets it (`slow-boot:<seconds>`), else undefined (sandbox default). */
  bootSeconds?: number;
}

/** Share of failing health checks for `flaky` without a number. */
const DEFAULT_FLAKY_SHARE = 0.3;

/**
 * Reads an AMI's tags into an app behaviour; unknown values serve as `ok`.
 * `ordinal` is the instance's launch number among this AMI's instances (0, 1, …).
 */
export function appBehaviourOf(amiId: string, tags: Record<string, string>, ordinal = 0): AppBehaviour {
  const version = tags[AppTag.version] || amiId;
  const health = (tags[AppTag.health] ?? 'ok').trim();
  if (health === 'fail') return { version, health: { kind: 'fail' } };
  const partial = /^partial:([\d.]+)$/.exec(health);
  if (partial) {
    // Spread evenly by launch order: with share 0.5 every second instance fails, deterministically.
    const share = Math.min(1, Math.max(0, Number(partial[1])));
    const fails = Math.floor((ordinal + 1) * share) > Math.floor(ordinal * share);
    return { version, health: fails ? { kind: 'fail' } : { kind: 'ok' } };
  }
  const flaky = /^flaky(?::([\d.]+))?$/.exec(health);
  if (flaky) {
    const share = flaky[1] === undefined ? DEFAULT_FLAKY_SHARE : Math.min(1, Math.max(0, Number(flaky[1])));
    return { version, health: { kind: 'flaky', failShare: share } };
  }
  const slowBoot = /^slow-boot:([\d.]+)$/.exec(health);
  if (slowBoot) return { version, health: { kind: 'ok' }, bootSeconds: Number(slowBoot[1]) };
  return { version, health: { kind: 'ok' } };
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
  const raw = url.pathname === '/slow' ? url.searchParams.get('ms') ?? url.searchParams.get('delay') : url.searchParams.get('delay');
  const ms = Number(raw ?? 0);
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 600_000) : 0;
}

/**
 * Serves an instance's app on 127.0.0.1: `GET /` (and any other path) →
 * `{version, instanceId, amiId}`; `GET /health` → 200 or 500 per behaviour.
 */
export async function startAppServer(instanceId: string, amiId: string, behaviour: AppBehaviour): Promise<AppServer> {
  let healthChecks = 0;
  let inFlight = 0;
  const server: Server = createServer((request, response) => {
    inFlight += 1;
    response.once('close', () => {
      inFlight -= 1;
    });
    const url = new URL(request.url ?? '/', 'http://instance.invalid');
    const delay = requestedDelayMs(url);
    const answer = (): void => {
      if (url.pathname === '/health') {
        healthChecks += 1;
        const failing = behaviour.health.kind === 'fail' || (behaviour.health.kind === 'flaky' && Math.random() < behaviour.health.failShare);
        const body = JSON.stringify({ status: failing ? 'failing' : 'ok', instanceId, version: behaviour.version });
        response.writeHead(failing ? 500 : 200, { 'content-type': 'application/json' });
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
  return { port, healthChecksServed: () => healthChecks, inFlight: () => inFlight, stop: () => closeHttpServer(server) };
}
