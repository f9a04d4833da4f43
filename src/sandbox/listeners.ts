import type { Action, Rule, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';

/**
 * What an ALB listener does with a request: its rules, checked by priority
 * (path, host, header, method and query string conditions, with AWS's `*` and
 * `?` wildcards), then its default action. Pure: the load balancer asks
 * {@link chooseAction} per request; moto-world.ts builds the rules from
 * DescribeListeners / DescribeRules.
 */

/** One target group of a forward action, with its weight (1 for a plain TargetGroupArn). */
export interface ForwardTarget {
  targetGroupArn: string;
  weight: number;
}

/** What a listener does with a matched request. */
export type RouteAction =
  | { kind: 'forward'; forward: ForwardTarget[] }
  | { kind: 'fixed-response'; status: number; contentType: string; body: string }
  | { kind: 'redirect'; status: number; location: RedirectParts }
  /** An action the sandbox does not route (e.g. authenticate-*): answered 501. */
  | { kind: 'unsupported'; type: string };

/** A redirect action's parts; `#{…}` placeholders are filled from the request. */
export interface RedirectParts {
  protocol: string;
  host: string;
  port: string;
  path: string;
  query: string;
}

/** One condition of a rule (every value list is OR; the conditions of a rule are AND). */
export type RuleMatch =
  | { field: 'path-pattern'; values: string[] }
  | { field: 'host-header'; values: string[] }
  | { field: 'http-header'; name: string; values: string[] }
  | { field: 'http-request-method'; values: string[] }
  | { field: 'query-string'; values: { key?: string; value: string }[] }
  /** Conditions the sandbox cannot judge (e.g. source-ip): the rule never matches. */
  | { field: 'unsupported'; name: string };

/** A listener rule other than the default one. */
export interface ListenerRule {
  arn: string;
  priority: number;
  conditions: RuleMatch[];
  action: RouteAction;
}

/** The parts of a request that rules look at. */
export interface RuleRequest {
  method: string;
  /** Path and query as received, e.g. `/api/x?a=1`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Forward targets of the first forward action (plain TargetGroupArn or ForwardConfig weights). */
export function forwardTargets(actions: Action[] | undefined): ForwardTarget[] {
  const forward = (actions ?? []).find((action) => action.Type === 'forward');
  if (!forward) return [];
  const weighted = forward.ForwardConfig?.TargetGroups ?? [];
  if (weighted.length > 0) {
    return weighted
      .filter((tg) => tg.TargetGroupArn)
      .map((tg) => ({ targetGroupArn: tg.TargetGroupArn as string, weight: tg.Weight ?? 1 }));
  }
  return forward.TargetGroupArn ? [{ targetGroupArn: forward.TargetGroupArn, weight: 1 }] : [];
}

/** The action a listener or rule takes: the one that ends its action list (authenticate-* come before it). */
export function routeActionOf(actions: Action[] | undefined): RouteAction {
  const sorted = [...(actions ?? [])].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0));
  const last = sorted[sorted.length - 1];
  if (!last || last.Type === 'forward') return { kind: 'forward', forward: forwardTargets(actions) };
  if (last.Type === 'fixed-response') {
    const config = last.FixedResponseConfig;
    return {
      kind: 'fixed-response',
      status: Number(config?.StatusCode ?? 200),
      contentType: config?.ContentType ?? 'text/plain',
      body: config?.MessageBody ?? '',
    };
  }
  if (last.Type === 'redirect') {
    const config = last.RedirectConfig;
    return {
      kind: 'redirect',
      status: config?.StatusCode === 'HTTP_302' ? 302 : 301,
      location: {
        protocol: config?.Protocol ?? '#{protocol}',
        host: config?.Host ?? '#{host}',
        port: config?.Port ?? '#{port}',
        path: config?.Path ?? '/#{path}',
        query: config?.Query ?? '#{query}',
      },
    };
  }
  return { kind: 'unsupported', type: String(last.Type) };
}

function conditionOf(condition: RuleCondition): RuleMatch {
  const field = condition.Field ?? '';
  const plain = condition.Values ?? [];
  switch (field) {
    case 'path-pattern':
      return { field, values: condition.PathPatternConfig?.Values ?? plain };
    case 'host-header':
      return { field, values: condition.HostHeaderConfig?.Values ?? plain };
    case 'http-header':
      return {
        field,
        name: condition.HttpHeaderConfig?.HttpHeaderName ?? '',
        values: condition.HttpHeaderConfig?.Values ?? [],
      };
    case 'http-request-method':
      return { field, values: condition.HttpRequestMethodConfig?.Values ?? plain };
    case 'query-string':
      return {
        field,
        values: (condition.QueryStringConfig?.Values ?? []).map((v) => ({
          ...(v.Key === undefined ? {} : { key: v.Key }),
          value: v.Value ?? '',
        })),
      };
    default:
      return { field: 'unsupported', name: field };
  }
}

/** A listener's rules as DescribeRules answers them: the default rule left out, sorted by priority. */
export function listenerRulesOf(rules: Rule[] | undefined): ListenerRule[] {
  return (rules ?? [])
    .filter((rule) => !rule.IsDefault && rule.Priority !== 'default' && rule.RuleArn)
    .map((rule) => ({
      arn: rule.RuleArn as string,
      priority: Number(rule.Priority),
      conditions: (rule.Conditions ?? []).map(conditionOf),
      action: routeActionOf(rule.Actions),
    }))
    .sort((a, b) => a.priority - b.priority);
}

/** AWS's wildcard match: `*` is any run of characters, `?` exactly one; the rest literal. */
export function wildcardMatch(pattern: string, text: string, ignoreCase = false): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(text);
}

function headerValue(request: RuleRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
}

function matches(condition: RuleMatch, request: RuleRequest, url: URL): boolean {
  switch (condition.field) {
    case 'path-pattern':
      return condition.values.some((p) => wildcardMatch(p, decodeURIComponent(url.pathname)));
    case 'host-header': {
      const host = (headerValue(request, 'host') ?? '').replace(/:\d+$/, '');
      return condition.values.some((p) => wildcardMatch(p, host, true));
    }
    case 'http-header': {
      const value = headerValue(request, condition.name);
      return value !== undefined && condition.values.some((p) => wildcardMatch(p, value, true));
    }
    case 'http-request-method':
      return condition.values.includes(request.method.toUpperCase());
    case 'query-string':
      return condition.values.some(({ key, value }) =>
        [...url.searchParams].some(
          ([k, v]) => (key === undefined || wildcardMatch(key, k, true)) && wildcardMatch(value, v, true),
        ),
      );
    default:
      return false;
  }
}

/** The action for a request: the first rule (by priority) whose conditions all match, else the default action. */
export function chooseAction(rules: ListenerRule[], defaultAction: RouteAction, request: RuleRequest): RouteAction {
  if (rules.length === 0) return defaultAction;
  const url = new URL(request.url, 'http://listener.invalid');
  const rule = rules.find((r) => r.conditions.every((c) => matches(c, request, url)));
  return rule ? rule.action : defaultAction;
}

/** A redirect's Location, with `#{protocol}`, `#{host}`, `#{port}`, `#{path}` and `#{query}` filled from the request. */
export function redirectLocation(parts: RedirectParts, request: RuleRequest, listenerPort: number): string {
  const url = new URL(request.url, 'http://listener.invalid');
  const values: Record<string, string> = {
    protocol: 'http',
    host: (headerValue(request, 'host') ?? '').replace(/:\d+$/, ''),
    port: String(listenerPort),
    path: url.pathname.replace(/^\//, ''),
    query: url.search.replace(/^\?/, ''),
  };
  const fill = (text: string): string => text.replace(/#\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
  const protocol = fill(parts.protocol).toLowerCase();
  const query = fill(parts.query);
  return `${protocol}://${fill(parts.host)}:${fill(parts.port)}${fill(parts.path)}${query ? `?${query}` : ''}`;
}

/** Every target group an action forwards to. */
export function forwardedGroups(action: RouteAction): ForwardTarget[] {
  return action.kind === 'forward' ? action.forward : [];
}
