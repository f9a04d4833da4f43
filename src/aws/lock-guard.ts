import { currentRunScope } from '../core/run-scope';
import { redact } from '../core/redact';

/**
 * Middleware on the cluster's clients (Auto Scaling, EC2, ELB, CloudWatch):
 *
 * - the lock guard: a call that may change something is refused, naming the
 *   call, once the run cannot prove it still holds the cluster lock. One
 *   check in the one place every mutating step passes through — cutover,
 *   disable, scale-down, destroy, recovery, automatic rollback — so no step
 *   can forget it;
 * - tag redaction: every tag value written is redacted (a presigned artifact
 *   URL or a build URL with credentials becomes a tag without them).
 */

const READ_ONLY = /^(Describe|List|Get|Head)/;

/** True when an API action may change state (anything but Describe*, List*, Get*, Head*). */
export function isMutatingCall(action: string): boolean {
  return !READ_ONLY.test(action);
}

interface MiddlewareClient {
  middlewareStack: {
    add: (middleware: never, options: { step: 'initialize'; name: string; priority?: 'high' | 'low' }) => void;
  };
}

type Handler = (args: { input: unknown }) => Promise<unknown>;

/** `Tags: [{Key, Value}]` anywhere in a request (TagSpecifications, LaunchTemplateData…) with their values redacted. */
export function redactTagValues(input: unknown, depth = 0): unknown {
  if (depth > 6 || input === null || typeof input !== 'object') return input;
  // Only plain objects are copied: a Date (a scheduled action's StartTime) or bytes would become `{}` and be dropped.
  if (input instanceof Date || ArrayBuffer.isView(input)) return input;
  if (Array.isArray(input)) return input.map((item) => redactTagValues(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'Tags' && Array.isArray(value)) {
      copy[key] = value.map((tag: unknown) =>
        typeof tag === 'object' && tag !== null && typeof (tag as { Value?: unknown }).Value === 'string'
          ? { ...tag, Value: redact((tag as { Value: string }).Value) }
          : tag,
      );
    } else {
      copy[key] = redactTagValues(value, depth + 1);
    }
  }
  return copy;
}

/** Adds the lock guard and tag redaction to a cluster client. */
export function addClusterWriteGuard(service: string, client: MiddlewareClient): void {
  const middleware = (next: Handler, context: { commandName?: string }) => async (args: { input: unknown }) => {
    const action = context.commandName?.replace(/Command$/, '') ?? 'Unknown';
    if (!isMutatingCall(action)) return next(args);
    currentRunScope()?.lockGuard?.assertHeld(`${service} ${action}`);
    return next({ ...args, input: redactTagValues(args.input) });
  };
  client.middlewareStack.add(middleware as never, {
    step: 'initialize',
    name: 'bluegreenClusterWriteGuard',
    priority: 'high',
  });
}
