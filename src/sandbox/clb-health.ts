import { connect } from 'node:net';
import type { Logger } from '../core/log';
import { parseHealthTarget, type ClassicLoadBalancerFacts } from './classic-elb';
import type { InstanceFleet } from './fleet';
import { HEALTH_CHECK_TIMEOUT_FLOOR_MS, httpCheck } from './target-health';
import type { InstanceHealthEvent } from './timeline';

/**
 * Real health checks of classic load balancer instances, from each CLB's
 * HealthCheck (target `HTTP:80/health` or `TCP:80`, interval, timeout,
 * thresholds; time-scaled), with the states and reasons DescribeInstanceHealth
 * gives: `OutOfService` while registration is in progress, `InService` after
 * HealthyThreshold passing checks, `OutOfService` (ReasonCode `Instance`) after
 * UnhealthyThreshold failing ones. A deregistered instance drains for the
 * CLB's connection draining timeout (no new requests, in-flight ones finish),
 * then `onDrained` cuts what is still in flight.
 */

export type ClassicInstanceState = 'InService' | 'OutOfService' | 'Unknown';

/** An instance's health as DescribeInstanceHealth reports it. */
export interface ClassicInstanceHealth {
  state: ClassicInstanceState;
  reasonCode: 'ELB' | 'Instance' | 'N/A';
  description: string;
}

const REGISTERING: ClassicInstanceHealth = {
  state: 'OutOfService',
  reasonCode: 'ELB',
  description: 'Instance registration is still in progress.',
};
const IN_SERVICE: ClassicInstanceHealth = { state: 'InService', reasonCode: 'N/A', description: 'N/A' };
const FAILED: ClassicInstanceHealth = {
  state: 'OutOfService',
  reasonCode: 'Instance',
  description: 'Instance has failed at least the UnhealthyThreshold number of health checks consecutively.',
};
const DEREGISTERING: ClassicInstanceHealth = {
  state: 'OutOfService',
  reasonCode: 'ELB',
  description: 'Instance deregistration currently in progress.',
};

interface InstanceRecord {
  instanceId: string;
  health: ClassicInstanceHealth;
  successes: number;
  failures: number;
  checking: boolean;
  /** When its connection draining ends (epoch ms), once deregistered. */
  drainingUntil?: number;
}

interface BalancerRecord {
  facts: ClassicLoadBalancerFacts;
  intervalMs: number;
  timer: NodeJS.Timeout;
  instances: Map<string, InstanceRecord>;
}

function tcpCheck(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: timeoutMs }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
  });
}

export class ClassicHealthMonitor {
  private readonly balancers = new Map<string, BalancerRecord>();
  private stopped = false;

  constructor(
    private readonly fleet: InstanceFleet,
    private readonly scale: number,
    private readonly log: Logger,
    /** Told when an instance's draining ends (or at once without draining): cut its in-flight requests. */
    private readonly onDrained: (loadBalancerName: string, instanceId: string) => void = () => undefined,
    /** Told of every change of an instance's health (for the timeline). */
    private readonly onChange: (event: Omit<InstanceHealthEvent, 'kind'>) => void = () => undefined,
  ) {}

  /** Sets an instance's health, telling {@link onChange} when its state or reason changed. */
  private setHealth(loadBalancerName: string, instance: InstanceRecord, health: ClassicInstanceHealth): void {
    const before = instance.health;
    instance.health = health;
    if (before === health) return;
    this.onChange({
      at: Date.now(),
      loadBalancerName,
      instanceId: instance.instanceId,
      state: health === DEREGISTERING ? 'Draining' : health.state === 'InService' ? 'InService' : 'OutOfService',
      ...(health.reasonCode === 'N/A' ? {} : { reasonCode: health.reasonCode }),
    });
  }

  private removed(loadBalancerName: string, instanceId: string): void {
    this.onChange({ at: Date.now(), loadBalancerName, instanceId, state: 'Removed' });
    this.onDrained(loadBalancerName, instanceId);
  }

  private scaledMs(seconds: number, floorMs: number): number {
    return Math.max(floorMs, seconds * 1000 * this.scale);
  }

  /** Follows moto's CLBs and registrations: new instances start registering, removed ones drain. */
  reconcile(balancers: Map<string, ClassicLoadBalancerFacts> | undefined): void {
    if (this.stopped) return;
    const now = Date.now();
    for (const [name, facts] of balancers ?? new Map<string, ClassicLoadBalancerFacts>()) {
      const intervalMs = this.scaledMs(facts.healthCheck.intervalSeconds, 20);
      let record = this.balancers.get(name);
      if (!record || record.intervalMs !== intervalMs) {
        if (record) clearInterval(record.timer);
        const instances = record?.instances ?? new Map<string, InstanceRecord>();
        record = { facts, intervalMs, instances, timer: setInterval(() => this.checkAll(name), intervalMs) };
        this.balancers.set(name, record);
        setImmediate(() => this.checkAll(name));
      }
      record.facts = facts;
      const registered = new Set(facts.instances);
      for (const id of registered) {
        const known = record.instances.get(id);
        if (known && known.drainingUntil === undefined) continue;
        const instance: InstanceRecord = {
          instanceId: id,
          health: REGISTERING,
          successes: 0,
          failures: 0,
          checking: false,
        };
        record.instances.set(id, instance);
        this.onChange({ at: now, loadBalancerName: name, instanceId: id, state: 'OutOfService', reasonCode: 'ELB' });
      }
      for (const [id, instance] of record.instances) {
        if (registered.has(id) || instance.drainingUntil !== undefined) continue;
        this.setHealth(name, instance, DEREGISTERING);
        instance.drainingUntil = now + (facts.drainingTimeoutSeconds ?? 0) * 1000 * this.scale;
      }
    }
    for (const [name, record] of this.balancers) {
      if (balancers?.has(name)) continue;
      clearInterval(record.timer);
      this.balancers.delete(name);
      for (const id of record.instances.keys()) this.removed(name, id);
    }
    this.endDraining(now);
  }

  /** Drops instances whose draining ended, cutting what they still serve. */
  private endDraining(now: number): void {
    for (const [name, record] of this.balancers)
      for (const [id, instance] of record.instances)
        if (instance.drainingUntil !== undefined && instance.drainingUntil <= now) {
          record.instances.delete(id);
          this.removed(name, id);
        }
  }

  private checkAll(name: string): void {
    const record = this.balancers.get(name);
    if (!record || this.stopped) return;
    this.endDraining(Date.now());
    for (const instance of record.instances.values())
      if (instance.drainingUntil === undefined && !instance.checking) void this.check(record, instance);
  }

  private async check(record: BalancerRecord, instance: InstanceRecord): Promise<void> {
    if (this.fleet.isBooting(instance.instanceId)) return;
    const settings = record.facts.healthCheck;
    const port = this.fleet.portOf(instance.instanceId);
    const timeoutMs = this.scaledMs(settings.timeoutSeconds, HEALTH_CHECK_TIMEOUT_FLOOR_MS);
    const target = parseHealthTarget(settings.target);
    instance.checking = true;
    let ok = false;
    if (port !== undefined)
      ok =
        target.kind === 'tcp'
          ? await tcpCheck(port, timeoutMs)
          : (await httpCheck(port, { path: target.path, matcher: '200' }, timeoutMs)).ok;
    instance.checking = false;
    if (this.stopped || instance.drainingUntil !== undefined) return;
    if (ok) {
      instance.successes += 1;
      instance.failures = 0;
      if (instance.health.state !== 'InService' && instance.successes >= settings.healthyThreshold) {
        this.setHealth(record.facts.name, instance, IN_SERVICE);
        this.log.debug(`${instance.instanceId} InService in ${record.facts.name}`);
      }
    } else {
      instance.failures += 1;
      instance.successes = 0;
      if (instance.health !== FAILED && instance.failures >= settings.unhealthyThreshold) {
        this.setHealth(record.facts.name, instance, FAILED);
        this.log.debug(`${instance.instanceId} OutOfService in ${record.facts.name}`);
      }
    }
  }

  /** An instance's health in a CLB; undefined when it is not registered (nor draining). */
  healthOf(loadBalancerName: string, instanceId: string): ClassicInstanceHealth | undefined {
    return this.balancers.get(loadBalancerName)?.instances.get(instanceId)?.health;
  }

  /** Instances deregistered whose connection draining has not ended: DescribeInstanceHealth still lists them, as AWS does. */
  draining(loadBalancerName: string): string[] {
    const record = this.balancers.get(loadBalancerName);
    if (!record) return [];
    return [...record.instances.values()].filter((i) => i.drainingUntil !== undefined).map((i) => i.instanceId);
  }

  /** Instances that get new requests: registered and InService. */
  inService(loadBalancerName: string): string[] {
    const record = this.balancers.get(loadBalancerName);
    if (!record) return [];
    return [...record.instances.values()]
      .filter((i) => i.drainingUntil === undefined && i.health.state === 'InService')
      .map((i) => i.instanceId);
  }

  /** How many registered instances are InService and OutOfService (HealthyHostCount, UnHealthyHostCount). */
  hostCounts(loadBalancerName: string): { healthy: number; unhealthy: number } {
    const registered = [...(this.balancers.get(loadBalancerName)?.instances.values() ?? [])].filter(
      (i) => i.drainingUntil === undefined,
    );
    const healthy = registered.filter((i) => i.health.state === 'InService').length;
    return { healthy, unhealthy: registered.length - healthy };
  }

  /** Names of the CLBs followed. */
  names(): string[] {
    return [...this.balancers.keys()];
  }

  stop(): void {
    this.stopped = true;
    for (const record of this.balancers.values()) clearInterval(record.timer);
    this.balancers.clear();
  }
}

/**
 * Moto's DescribeInstanceHealth answer (it says InService for every
 * registered instance) with each instance's State, ReasonCode and
 * Description from the sandbox's checks; an instance not followed yet is
 * still registering. `draining`: instances deregistered while connection
 * draining runs, which moto no longer lists but AWS does ("Instance
 * deregistration currently in progress.") until the draining ends; given
 * only for an answer about every instance (no `Instances` asked).
 */
export function rewriteInstanceHealth(
  xml: string,
  loadBalancerName: string,
  healthOf: (loadBalancerName: string, instanceId: string) => ClassicInstanceHealth | undefined,
  draining: readonly string[] = [],
): string {
  const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const stillDraining = new Set(draining);
  const listed = new Set([...xml.matchAll(/<InstanceId>([^<]*)<\/InstanceId>/g)].map((m) => m[1]));
  const added = draining
    .filter((id) => !listed.has(id))
    .map(
      (id) =>
        `<member><InstanceId>${escape(id)}</InstanceId><State>${DEREGISTERING.state}</State>` +
        `<ReasonCode>${DEREGISTERING.reasonCode}</ReasonCode><Description>${DEREGISTERING.description}</Description></member>`,
    )
    .join('');
  const withDraining =
    added === ''
      ? xml
      : xml.includes('</InstanceStates>')
        ? xml.replace('</InstanceStates>', `${added}</InstanceStates>`)
        : xml.replace(/<InstanceStates\s*\/>/, `<InstanceStates>${added}</InstanceStates>`);
  return withDraining.replace(/<member>([\s\S]*?)<\/member>/g, (whole, inner: string) => {
    const id = /<InstanceId>([^<]*)<\/InstanceId>/.exec(inner)?.[1];
    if (!id) return whole;
    const health = stillDraining.has(id) ? DEREGISTERING : (healthOf(loadBalancerName, id) ?? REGISTERING);
    const fields: Record<string, string> = {
      State: health.state,
      ReasonCode: health.reasonCode,
      Description: health.description,
    };
    let out = inner;
    for (const [tag, value] of Object.entries(fields)) {
      const element = new RegExp(`<${tag}>[^<]*</${tag}>|<${tag}/>`);
      out = element.test(out)
        ? out.replace(element, `<${tag}>${escape(value)}</${tag}>`)
        : `${out}<${tag}>${escape(value)}</${tag}>`;
    }
    return `<member>${out}</member>`;
  });
}
