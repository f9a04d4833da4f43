import { randomUUID } from 'node:crypto';
import { InputError } from '../core/errors';

/**
 * Fault injection: throttle a share of an action's calls, fail its next N
 * calls with a given error code, or delay it. Errors have the shapes real AWS
 * sends, so SDK retry logic treats them as it would in production.
 */

/** Which calls a rule applies to: `action` is an API action name or `*`; `service` optional (signing name). */
export interface FaultMatch {
  action: string;
  service?: string;
}

/** Answer a share (0..1) of matching calls with the service's throttling error. */
export interface ThrottleRule extends FaultMatch {
  kind: 'throttle';
  share: number;
}

/** Answer the next `count` matching calls with error `code` (HTTP `status`, default from the code). */
export interface FailRule extends FaultMatch {
  kind: 'fail';
  count: number;
  code: string;
  status?: number;
  message?: string;
}

/** Hold matching calls `ms` milliseconds before forwarding them. */
export interface LatencyRule extends FaultMatch {
  kind: 'latency';
  ms: number;
}

export type FaultRule = ThrottleRule | FailRule | LatencyRule;

/** A rule as stored, with its id. */
export type StoredFaultRule = FaultRule & { id: string };

/** What to do with one call. */
export interface FaultDecision {
  delayMs: number;
  error?: { code: string; status: number; message: string; kind: 'throttle' | 'fail' };
}

/** `*` matches every action, `Describe*` every action starting with Describe, else the exact name. */
export function actionMatches(pattern: string, action: string): boolean {
  if (pattern.endsWith('*')) return action.startsWith(pattern.slice(0, -1));
  return pattern === action;
}

/** Small seeded PRNG (mulberry32): throttling is random-looking yet the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The throttling error code and HTTP status each service really uses. */
export function throttlingErrorOf(service: string): { code: string; status: number; message: string } {
  if (service === 'ec2') return { code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' };
  if (service === 's3') return { code: 'SlowDown', status: 503, message: 'Please reduce your request rate.' };
  return { code: 'Throttling', status: 400, message: 'Rate exceeded' };
}

const SERVER_ERROR_CODES = new Set([
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'Unavailable',
  'SlowDown',
  'RequestLimitExceeded',
]);

function defaultStatus(code: string): number {
  if (code === 'ServiceUnavailable' || code === 'SlowDown' || code === 'RequestLimitExceeded' || code === 'Unavailable')
    return 503;
  return SERVER_ERROR_CODES.has(code) ? 500 : 400;
}

/** Validates a rule from JSON (control API body or CLI flag); throws InputError naming the field. */
export function parseFaultRule(raw: unknown): FaultRule {
  if (typeof raw !== 'object' || raw === null)
    throw new InputError('fault', 'must be an object with "kind" and "action"');
  const r = raw as Record<string, unknown>;
  const action = r.action;
  if (typeof action !== 'string' || action === '')
    throw new InputError('fault.action', 'must be an API action name or "*"');
  const service = r.service === undefined ? undefined : String(r.service);
  const base = service === undefined ? { action } : { action, service };
  switch (r.kind) {
    case 'throttle': {
      const share = Number(r.share);
      if (!(share >= 0 && share <= 1))
        throw new InputError('fault.share', `must be a number from 0 to 1 (got ${JSON.stringify(r.share)})`);
      return { kind: 'throttle', ...base, share };
    }
    case 'fail': {
      const count = Number(r.count ?? 1);
      if (!Number.isInteger(count) || count < 1)
        throw new InputError('fault.count', `must be a whole number of 1 or more (got ${JSON.stringify(r.count)})`);
      if (typeof r.code !== 'string' || r.code === '')
        throw new InputError('fault.code', 'must be an AWS error code, e.g. "InternalFailure"');
      const rule: FailRule = { kind: 'fail', ...base, count, code: r.code };
      if (r.status !== undefined) {
        const status = Number(r.status);
        if (!Number.isInteger(status) || status < 400 || status > 599)
          throw new InputError(
            'fault.status',
            `must be an HTTP error status 400-599 (got ${JSON.stringify(r.status)})`,
          );
        rule.status = status;
      }
      if (typeof r.message === 'string') rule.message = r.message;
      return rule;
    }
    case 'latency': {
      const ms = Number(r.ms);
      if (!(ms >= 0 && ms <= 600_000))
        throw new InputError('fault.ms', `must be milliseconds from 0 to 600000 (got ${JSON.stringify(r.ms)})`);
      return { kind: 'latency', ...base, ms };
    }
    default:
      throw new InputError('fault.kind', `must be "throttle", "fail" or "latency" (got ${JSON.stringify(r.kind)})`);
  }
}

/** The rules in force and the decisions they make. */
export class FaultInjector {
  private rules: StoredFaultRule[] = [];
  private readonly random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  add(rule: FaultRule): StoredFaultRule {
    const stored = { ...rule, id: randomUUID() } as StoredFaultRule;
    this.rules.push(stored);
    return stored;
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((rule) => rule.id !== id);
    return this.rules.length < before;
  }

  clear(): void {
    this.rules = [];
  }

  list(): StoredFaultRule[] {
    return this.rules.map((rule) => ({ ...rule }));
  }

  /** Decides latency and/or an error for one call; consumes fail-next counts. */
  decide(service: string, action: string): FaultDecision {
    const decision: FaultDecision = { delayMs: 0 };
    for (const rule of this.rules) {
      if (!actionMatches(rule.action, action)) continue;
      if (rule.service !== undefined && rule.service !== service) continue;
      if (rule.kind === 'latency') decision.delayMs += rule.ms;
      else if (decision.error) continue;
      else if (rule.kind === 'fail' && rule.count > 0) {
        rule.count -= 1;
        decision.error = {
          code: rule.code,
          status: rule.status ?? defaultStatus(rule.code),
          message: rule.message ?? `Injected by the sandbox: ${rule.code}`,
          kind: 'fail',
        };
      } else if (rule.kind === 'throttle' && this.random() < rule.share) {
        decision.error = { ...throttlingErrorOf(service), kind: 'throttle' };
      }
    }
    this.rules = this.rules.filter((rule) => rule.kind !== 'fail' || rule.count > 0);
    return decision;
  }
}

/** Namespaces of the Query APIs' error documents. */
const QUERY_NAMESPACES: Record<string, string> = {
  autoscaling: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
  elasticloadbalancing: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An AWS error response body in the shape of the service's protocol. */
export function awsErrorResponse(
  service: string,
  protocol: 'query' | 'json' | 'rest-xml',
  error: { code: string; status: number; message: string },
): { status: number; contentType: string; body: string } {
  const requestId = randomUUID();
  const code = escapeXml(error.code);
  const message = escapeXml(error.message);
  if (protocol === 'json') {
    return {
      status: error.status,
      contentType: 'application/x-amz-json-1.1',
      body: JSON.stringify({ __type: error.code, message: error.message }),
    };
  }
  if (service === 'ec2') {
    return {
      status: error.status,
      contentType: 'text/xml;charset=UTF-8',
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
    };
  }
  if (service === 's3') {
    return {
      status: error.status,
      contentType: 'application/xml',
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`,
    };
  }
  const namespace = QUERY_NAMESPACES[service];
  const xmlns = namespace ? ` xmlns="${namespace}"` : '';
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  return {
    status: error.status,
    contentType: 'text/xml',
    body: `<ErrorResponse${xmlns}><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}
