import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../core/errors';
import type { Logger } from '../core/log';
import { classifyRequest, decompressedBody, type AwsCall } from './aws-request';
import { CallStats } from './call-stats';
import { awsErrorResponse, FaultInjector, parseFaultRule } from './faults';
import { closeHttpServer, listenLoopback } from './ports';
import type { OwnAnswer } from './metric-queries';
import type { MotoReadCache } from './read-cache';

/**
 * The gateway: one endpoint for every AWS service. It counts each call,
 * injects the faults asked for, forwards to moto, lets the traffic layer
 * rewrite the answers moto cannot give (target health, ASG instance health),
 * and serves the sandbox control API under `/_sandbox/`.
 */

/** Prefix of the control API; AWS never uses it. */
export const CONTROL_PREFIX = '/_sandbox/';

/** A control API answer. */
export interface ControlAnswer {
  status: number;
  body: unknown;
}

/** How the traffic layer plugs into the gateway. */
export interface GatewayHooks {
  /** Returns a new response body for a call, or undefined to pass moto's answer through. */
  rewriteResponse?(call: AwsCall, body: string): string | undefined;
  /** Returns a new request body for moto, or undefined to forward the client's as it is. */
  rewriteRequest?(call: AwsCall, headers: IncomingMessage['headers'], body: Buffer): Buffer | undefined;
  /** Calls whose answers `rewriteResponse` may change (their responses are buffered). */
  rewritesAction?(call: AwsCall): boolean;
  /** Runs after moto answered a mutating call (even with an error) and before the client gets the answer (read-your-writes for the traffic layer). */
  afterMutation?(call: AwsCall): Promise<void>;
  /** Told of every AWS call as it arrives (`fault` when the sandbox answers it with an injected error). */
  onCall?(call: AwsCall, receivedAt: number, fault?: 'throttle' | 'fail'): void;
  /** Where moto's answers to costly reads are kept between the calls that may change them. */
  readCache?: MotoReadCache;
  /** Answers a call itself (what moto cannot answer), or undefined to forward it; after counting and faults. */
  answerCall?(call: AwsCall, headers: IncomingMessage['headers'], body: Buffer): Promise<OwnAnswer | undefined>;
  /** Answers `/_sandbox/…` requests not handled by the gateway itself. */
  control?(method: string, path: string, body: unknown, query?: URLSearchParams): Promise<ControlAnswer | undefined>;
}

export interface GatewayOptions {
  motoEndpoint: string;
  port: number;
  log: Logger;
  hooks?: GatewayHooks;
  faultSeed?: number;
}

/** A running gateway. */
export interface Gateway {
  endpoint: string;
  port: number;
  stats: CallStats;
  faults: FaultInjector;
  stop(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function protocolOf(call: AwsCall, request: IncomingMessage): 'query' | 'json' | 'rest-xml' {
  if (request.headers['x-amz-target']) return 'json';
  return call.service === 's3' ? 'rest-xml' : 'query';
}

/** Starts the gateway on 127.0.0.1:`port` (0 = any free port). */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const stats = new CallStats();
  const faults = new FaultInjector(options.faultSeed ?? 1);
  const hooks = options.hooks ?? {};
  const moto = new URL(options.motoEndpoint);
  const log = options.log;

  async function handleControl(request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname.slice(CONTROL_PREFIX.length).replace(/\/+$/, '');
    const method = request.method ?? 'GET';
    let parsed: unknown;
    if (body.length > 0) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (error) {
        sendJson(response, 400, { error: `body is not JSON: ${describeError(error)}` });
        return;
      }
    }
    try {
      if (path === 'calls' && method === 'GET') return sendJson(response, 200, stats.snapshot());
      if ((path === 'calls' && method === 'DELETE') || (path === 'calls/reset' && method === 'POST')) {
        stats.reset();
        return sendJson(response, 200, stats.snapshot());
      }
      if (path === 'faults' && method === 'GET') return sendJson(response, 200, { rules: faults.list() });
      if (path === 'faults' && method === 'POST') {
        const rules = (Array.isArray(parsed) ? parsed : [parsed]).map((raw) => faults.add(parseFaultRule(raw)));
        return sendJson(response, 201, { rules });
      }
      if (path === 'faults' && method === 'DELETE') {
        faults.clear();
        return sendJson(response, 200, { rules: [] });
      }
      const one = /^faults\/([\w-]+)$/.exec(path);
      if (one && method === 'DELETE') {
        return faults.remove(one[1] as string)
          ? sendJson(response, 200, { removed: one[1] })
          : sendJson(response, 404, { error: `no fault rule ${one[1]}` });
      }
      const answer = await hooks.control?.(method, path, parsed, url.searchParams);
      if (answer) return sendJson(response, answer.status, answer.body);
      sendJson(response, 404, { error: `no control endpoint ${method} ${CONTROL_PREFIX}${path}` });
    } catch (error) {
      const status = (error as { exitCode?: number }).exitCode === 2 ? 400 : 500;
      sendJson(response, status, { error: describeError(error) });
    }
  }

  /** Forwards a call to moto; `decompressed`: `original` is the client's gzip body, decompressed. */
  async function forward(
    request: IncomingMessage,
    response: ServerResponse,
    original: Buffer,
    call: AwsCall,
    decompressed: boolean,
  ): Promise<void> {
    const cache = hooks.readCache;
    const cacheKey = cache?.keyOf(call, request.headers);
    if (call.mutating) cache?.forget(call);
    const kept = cacheKey ? cache?.get(cacheKey, call.service) : undefined;
    let answer: { statusCode?: number; headers: IncomingMessage['headers'] };
    let payload: Buffer;
    if (kept) {
      answer = { statusCode: kept.status, headers: kept.headers };
      payload = kept.body;
    } else {
      const generation = cacheKey ? cache?.generation(call.service) : undefined;
      const buffer = call.mutating || cacheKey !== undefined || (hooks.rewritesAction?.(call) ?? false);
      const replaced = hooks.rewriteRequest?.(call, request.headers, original);
      const body = replaced ?? original;
      const headers = { ...request.headers, host: request.headers.host ?? moto.host };
      if (replaced || decompressed) {
        delete headers['transfer-encoding'];
        if (decompressed) delete headers['content-encoding'];
        headers['content-length'] = String(body.length);
      }
      const upstream = httpRequest({
        host: moto.hostname,
        port: moto.port,
        method: request.method,
        path: request.url,
        headers,
      });
      const fromMoto = await new Promise<IncomingMessage>((resolve, reject) => {
        upstream.once('response', resolve);
        upstream.once('error', reject);
        upstream.end(body);
      });
      if (!buffer) {
        response.writeHead(fromMoto.statusCode ?? 502, fromMoto.headers);
        fromMoto.pipe(response);
        return;
      }
      answer = fromMoto;
      payload = await readBody(fromMoto);
      if (cacheKey && cache && generation !== undefined)
        cache.set(cacheKey, call.service, generation, {
          status: fromMoto.statusCode ?? 502,
          headers: fromMoto.headers,
          body: payload,
        });
      if (call.mutating) cache?.forget(call);
    }
    const status = answer.statusCode ?? 502;
    // Even when moto answered an error: it may have applied part of the call (e.g. launched some instances).
    if (call.mutating && hooks.afterMutation) {
      try {
        await hooks.afterMutation(call);
      } catch (error) {
        log.warn(`traffic layer refresh after ${call.action} failed: ${describeError(error)}`);
      }
    }
    if (status < 300) {
      const rewritten = hooks.rewriteResponse?.(call, payload.toString('utf8'));
      if (rewritten !== undefined) payload = Buffer.from(rewritten, 'utf8');
    }
    const outHeaders = { ...answer.headers, 'content-length': String(payload.length) };
    delete outHeaders['transfer-encoding'];
    response.writeHead(status, outHeaders);
    response.end(payload);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const received = await readBody(request);
    if ((request.url ?? '').startsWith(CONTROL_PREFIX)) return handleControl(request, response, received);
    const raw = { method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers, body: received };
    const decompressed = decompressedBody(raw);
    const body = decompressed ?? received;
    const call = classifyRequest({ ...raw, body });
    stats.recordCall(call.service, call.action, call.mutating);
    const decision = faults.decide(call.service, call.action);
    hooks.onCall?.(call, receivedAt, decision.error?.kind);
    if (decision.delayMs > 0) await sleep(decision.delayMs);
    if (decision.error) {
      stats.recordFault(call.service, call.action, decision.error.kind);
      const error = awsErrorResponse(call.service, protocolOf(call, request), decision.error);
      response.writeHead(error.status, {
        'content-type': error.contentType,
        'content-length': Buffer.byteLength(error.body),
        'x-amzn-requestid': 'sandbox-fault',
      });
      response.end(request.method === 'HEAD' ? undefined : error.body);
      return;
    }
    const own = await hooks.answerCall?.(call, request.headers, body);
    if (own) {
      response.writeHead(own.status, {
        'content-type': own.contentType,
        'content-length': Buffer.byteLength(own.body),
        'x-amzn-requestid': randomUUID(),
      });
      response.end(own.body);
      return;
    }
    await forward(request, response, body, call, decompressed !== undefined);
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.warn(`gateway: ${request.method} ${request.url}: ${describeError(error)}`);
      if (!response.headersSent)
        sendJson(response, 502, { error: `sandbox gateway could not reach moto: ${describeError(error)}` });
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  const port = await listenLoopback(server, options.port);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stats,
    faults,
    stop: () => closeHttpServer(server),
  };
}
