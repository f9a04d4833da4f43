import { get as httpGet } from 'node:http';
import type { Logger } from '../core/log';
import type { InstanceFleet } from './fleet';
import type { HealthCheckSettings, TargetGroupFacts, WorldSnapshot } from './moto-world';

/**
 * Real HTTP health checks per target group, with AWS's target states and
 * reason codes. Moto's registrations decide membership; this decides health,
 * and remembers deregistered targets as `draining` for the deregistration delay.
 */

export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'draining' | 'unused';

/** A target's health as DescribeTargetHealth reports it. */
export interface TargetHealthView {
  state: TargetState;
  reason?: string;
  description?: string;
}

/** A target the load balancer may send to. */
export interface TargetRef {
  targetGroupArn: string;
  instanceId: string;
  port: number;
}

interface TargetRecord extends TargetRef {
  state: TargetState;
  reason?: string;
  description?: string;
  successes: number;
  failures: number;
  drainingUntil?: number;
  checking: boolean;
}

interface GroupRecord {
  facts: TargetGroupFacts;
  timer?: NodeJS.Timeout;
  intervalMs: number;
}

/** Told of every change of a target's state (`unused` when the sandbox stops tracking it), with when it happened. */
export type TargetStateListener = (change: {
  at: number;
  targetGroupArn: string;
  targetId: string;
  state: TargetState;
  reason?: string;
}) => void;

const INITIAL: Pick<TargetRecord, 'state' | 'reason' | 'description'> = {
  state: 'initial',
  reason: 'Elb.InitialHealthChecking',
  description: 'Initial health checks in progress',
};

/** True when an HTTP status matches a Matcher.HttpCode like `200`, `200-299` or `200,302`. */
export function matchesHttpCode(matcher: string, status: number): boolean {
  return matcher.split(',').some((part) => {
    const [low, high] = part.trim().split('-').map(Number);
    if (low === undefined || Number.isNaN(low)) return false;
    return high === undefined ? status === low : status >= low && status <= high;
  });
}

type CheckOutcome = { ok: true } | { ok: false; reason: string; description: string };

/** One HTTP health check of 127.0.0.1:`port` (GET `settings.path`, status against `settings.matcher`). */
export function httpCheck(
  port: number,
  settings: Pick<HealthCheckSettings, 'path' | 'matcher'>,
  timeoutMs: number,
): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    const request = httpGet(
      { host: '127.0.0.1', port, path: settings.path, agent: false, timeout: timeoutMs },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        resolve(
          matchesHttpCode(settings.matcher, status)
            ? { ok: true }
            : {
                ok: false,
                reason: 'Target.ResponseCodeMismatch',
                description: `Health checks failed with these codes: [${status}]`,
              },
        );
      },
    );
    request.on('timeout', () => {
      request.destroy();
      resolve({ ok: false, reason: 'Target.Timeout', description: 'Request timed out' });
    });
    request.on('error', () =>
      resolve({ ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' }),
    );
  });
}

/**
 * Least real time a health check may take before it counts as timed out. The
 * apps, the load balancer and the checks share one event loop; with a few
 * hundred instances it stalls for 0.4-0.6 s at times (measured by
 * `npm run bench`), and a scaled 5 s timeout (250 ms at scale 0.05) turned
 * such stalls into `Target.Timeout` flaps of healthy targets. Still below
 * any AWS timeout (2 s minimum).
 */
export const HEALTH_CHECK_TIMEOUT_FLOOR_MS = 1_000;

export class TargetHealthMonitor {
  private readonly groups = new Map<string, GroupRecord>();
  private readonly targets = new Map<string, TargetRecord>();
  /** {@link routable}'s answer per target group, until a target's state or port changes (it runs per routed request). */
  private readonly routableCache = new Map<string, { registered: TargetRef[]; healthy: TargetRef[] }>();
  /** Earliest end of a draining target's delay (epoch ms): nothing to drop before it. */
  private nextDrainEnd = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly fleet: InstanceFleet,
    private readonly scale: number,
    private readonly log: Logger,
    private readonly onStateChange: TargetStateListener = () => undefined,
  ) {}

  /** Sets a record's state and reason, telling the listener when the state really changed. */
  private transition(
    record: TargetRecord,
    view: Pick<TargetRecord, 'state' | 'reason' | 'description'>,
    at = Date.now(),
  ): void {
    const changed = record.state !== view.state;
    Object.assign(record, { state: view.state, reason: view.reason, description: view.description });
    if (changed) this.tellState(record, view.state, at);
  }

  private tellState(record: TargetRecord, state: TargetState, at: number): void {
    this.routableCache.delete(record.targetGroupArn);
    this.onStateChange({
      at,
      targetGroupArn: record.targetGroupArn,
      targetId: record.instanceId,
      state,
      ...(record.reason && state !== 'unused' ? { reason: record.reason } : {}),
    });
  }

  private key(targetGroupArn: string, instanceId: string): string {
    return `${targetGroupArn}|${instanceId}`;
  }

  private scaledMs(seconds: number, floorMs: number): number {
    return Math.max(floorMs, seconds * 1000 * this.scale);
  }

  /** Follows moto's registrations: new targets start `initial`, removed ones drain. */
  reconcile(world: WorldSnapshot): void {
    if (this.stopped) return;
    const now = Date.now();
    for (const [arn, facts] of world.targetGroups) {
      const intervalMs = this.scaledMs(facts.healthCheck.intervalSeconds, 20);
      let group = this.groups.get(arn);
      if (!group || group.intervalMs !== intervalMs) {
        if (group?.timer) clearInterval(group.timer);
        group = { facts, intervalMs };
        group.timer = setInterval(() => this.checkGroup(arn), intervalMs);
        this.groups.set(arn, group);
        // First check right away, as an ALB does when a target is registered.
        setImmediate(() => this.checkGroup(arn));
      }
      group.facts = facts;
      const registered = new Set<string>();
      for (const target of facts.targets) {
        registered.add(target.id);
        const key = this.key(arn, target.id);
        const existing = this.targets.get(key);
        if (existing && existing.state !== 'draining') {
          if (existing.port !== target.port) this.routableCache.delete(arn);
          existing.port = target.port;
          continue;
        }
        const record: TargetRecord = {
          targetGroupArn: arn,
          instanceId: target.id,
          port: target.port,
          ...INITIAL,
          successes: 0,
          failures: 0,
          checking: false,
        };
        this.targets.set(key, record);
        this.tellState(record, 'initial', now);
      }
      for (const record of this.targets.values()) {
        if (record.targetGroupArn !== arn || registered.has(record.instanceId) || record.state === 'draining') continue;
        const delayMs = facts.deregistrationDelaySeconds * 1000 * this.scale;
        record.drainingUntil = now + delayMs;
        this.nextDrainEnd = Math.min(this.nextDrainEnd, record.drainingUntil);
        this.transition(
          record,
          {
            state: 'draining',
            reason: 'Target.DeregistrationInProgress',
            description: 'Target deregistration is in progress',
          },
          now,
        );
      }
    }
    for (const [arn, group] of this.groups) {
      if (world.targetGroups.has(arn)) continue;
      if (group.timer) clearInterval(group.timer);
      this.groups.delete(arn);
      for (const [key, record] of this.targets) {
        if (record.targetGroupArn !== arn) continue;
        this.targets.delete(key);
        this.tellState(record, 'unused', now);
      }
    }
    this.dropExpiredDraining(now);
  }

  private dropExpiredDraining(now: number): void {
    if (now < this.nextDrainEnd) return;
    this.nextDrainEnd = Number.POSITIVE_INFINITY;
    for (const [key, record] of this.targets) {
      if (record.state !== 'draining') continue;
      if ((record.drainingUntil ?? 0) > now) {
        this.nextDrainEnd = Math.min(this.nextDrainEnd, record.drainingUntil ?? 0);
        continue;
      }
      this.targets.delete(key);
      // Noticed lazily; it left when its delay ended.
      this.tellState(record, 'unused', record.drainingUntil ?? now);
    }
  }

  private checkGroup(arn: string): void {
    const group = this.groups.get(arn);
    if (!group || this.stopped) return;
    this.dropExpiredDraining(Date.now());
    for (const record of this.targets.values()) {
      if (record.targetGroupArn !== arn || record.state === 'draining' || record.checking) continue;
      void this.checkTarget(record, group.facts.healthCheck);
    }
  }

  private async checkTarget(record: TargetRecord, settings: HealthCheckSettings): Promise<void> {
    if (!settings.enabled) {
      this.transition(record, { state: 'healthy', reason: undefined, description: undefined });
      return;
    }
    // A booting instance stays `initial`: the sandbox knows it is coming up.
    if (this.fleet.isBooting(record.instanceId)) return;
    const port = this.fleet.portOf(record.instanceId);
    record.checking = true;
    const outcome: CheckOutcome =
      port === undefined
        ? { ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' }
        : await httpCheck(port, settings, this.scaledMs(settings.timeoutSeconds, HEALTH_CHECK_TIMEOUT_FLOOR_MS));
    record.checking = false;
    if (record.state === 'draining' || this.stopped) return;
    if (outcome.ok) {
      record.successes += 1;
      record.failures = 0;
      if (record.state !== 'healthy' && record.successes >= settings.healthyThreshold) {
        this.transition(record, { state: 'healthy', reason: undefined, description: undefined });
        this.log.debug(`${record.instanceId} healthy in ${record.targetGroupArn}`);
      }
    } else {
      record.failures += 1;
      record.successes = 0;
      if (record.state === 'unhealthy')
        Object.assign(record, { reason: outcome.reason, description: outcome.description });
      else if (record.failures >= settings.unhealthyThreshold) {
        this.transition(record, { state: 'unhealthy', reason: outcome.reason, description: outcome.description });
        this.log.debug(`${record.instanceId} unhealthy in ${record.targetGroupArn}: ${outcome.reason}`);
      }
    }
  }

  /** A target's health; `undefined` when the sandbox does not track it (e.g. never registered). */
  healthOf(targetGroupArn: string, instanceId: string): TargetHealthView | undefined {
    this.dropExpiredDraining(Date.now());
    const record = this.targets.get(this.key(targetGroupArn, instanceId));
    if (!record) return undefined;
    return {
      state: record.state,
      ...(record.reason ? { reason: record.reason, description: record.description } : {}),
    };
  }

  /** Targets of a group that are draining now (not in moto any more). */
  drainingTargets(targetGroupArn: string): TargetRef[] {
    this.dropExpiredDraining(Date.now());
    return [...this.targets.values()]
      .filter((r) => r.targetGroupArn === targetGroupArn && r.state === 'draining')
      .map((r) => ({ targetGroupArn: r.targetGroupArn, instanceId: r.instanceId, port: r.port }));
  }

  /** Registered (not draining) targets of a group, and which of them are healthy. */
  routable(targetGroupArn: string): { registered: TargetRef[]; healthy: TargetRef[] } {
    const cached = this.routableCache.get(targetGroupArn);
    if (cached) return cached;
    const registered: TargetRef[] = [];
    const healthy: TargetRef[] = [];
    for (const r of this.targets.values()) {
      if (r.targetGroupArn !== targetGroupArn || r.state === 'draining') continue;
      const ref = { targetGroupArn: r.targetGroupArn, instanceId: r.instanceId, port: r.port };
      registered.push(ref);
      if (r.state === 'healthy') healthy.push(ref);
    }
    const answer = { registered, healthy };
    this.routableCache.set(targetGroupArn, answer);
    return answer;
  }

  /** How many registered targets of a group are `healthy` and `unhealthy` now (HealthyHostCount, UnHealthyHostCount). */
  hostCounts(targetGroupArn: string): { healthy: number; unhealthy: number } {
    let healthy = 0;
    let unhealthy = 0;
    for (const r of this.targets.values()) {
      if (r.targetGroupArn !== targetGroupArn) continue;
      if (r.state === 'healthy') healthy += 1;
      else if (r.state === 'unhealthy') unhealthy += 1;
    }
    return { healthy, unhealthy };
  }

  /** Every tracked target with its state (for the control API). */
  list(): (TargetRef & TargetHealthView)[] {
    this.dropExpiredDraining(Date.now());
    return [...this.targets.values()].map((r) => ({
      targetGroupArn: r.targetGroupArn,
      instanceId: r.instanceId,
      port: r.port,
      state: r.state,
      ...(r.reason ? { reason: r.reason, description: r.description } : {}),
    }));
  }

  stop(): void {
    this.stopped = true;
    for (const group of this.groups.values()) if (group.timer) clearInterval(group.timer);
    this.groups.clear();
    this.targets.clear();
    this.routableCache.clear();
  }
}
