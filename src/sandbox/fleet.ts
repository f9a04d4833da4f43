import { describeError } from '../core/errors';
import type { Logger } from '../core/log';
import { appBehaviourOf, startAppServer, type AppBehaviour, type AppServer } from './app-server';
import type { WorldSnapshot } from './moto-world';

/**
 * Gives every running moto instance a real HTTP server after its boot delay,
 * and stops it when moto's instance stops or terminates.
 */

/** Public facts about one instance's app. */
export interface InstanceAppState {
  instanceId: string;
  amiId: string;
  version: string;
  /** `booting` until the boot delay has passed, then `serving`. */
  phase: 'booting' | 'serving';
  /** Port of the app on 127.0.0.1 once serving. */
  port?: number;
  launchedAt: number;
  /** Health check requests the app answered. */
  healthChecksServed: number;
  /** Requests the app is answering right now. */
  inFlight: number;
}

interface Tracked {
  instanceId: string;
  amiId: string;
  behaviour: AppBehaviour;
  launchedAt: number;
  bootTimer?: NodeJS.Timeout;
  server?: AppServer;
  stopped: boolean;
}

const SERVING_STATES = new Set(['pending', 'running']);

export class InstanceFleet {
  private readonly tracked = new Map<string, Tracked>();
  /** Instances launched so far per AMI (each instance's ordinal, for `partial:<share>`). */
  private readonly launchesPerAmi = new Map<string, number>();

  /**
   * @param bootMs default boot delay in real milliseconds (already scaled)
   * @param scale the time scale, applied to `slow-boot:<seconds>` AMIs
   */
  constructor(
    private readonly bootMs: number,
    private readonly scale: number,
    private readonly log: Logger,
  ) {}

  /** Starts apps for new running instances and stops those whose instance is gone. */
  async reconcile(world: WorldSnapshot): Promise<void> {
    for (const instance of world.instances.values()) {
      if (!SERVING_STATES.has(instance.state) || this.tracked.has(instance.id)) continue;
      const ordinal = this.launchesPerAmi.get(instance.amiId) ?? 0;
      this.launchesPerAmi.set(instance.amiId, ordinal + 1);
      const behaviour = appBehaviourOf(instance.amiId, world.imageTags.get(instance.amiId) ?? {}, ordinal);
      const tracked: Tracked = {
        instanceId: instance.id,
        amiId: instance.amiId,
        behaviour,
        launchedAt: Date.now(),
        stopped: false,
      };
      this.tracked.set(instance.id, tracked);
      const bootMs = behaviour.bootSeconds !== undefined ? behaviour.bootSeconds * 1000 * this.scale : this.bootMs;
      tracked.bootTimer = setTimeout(() => void this.boot(tracked), bootMs);
    }
    const stops: Promise<void>[] = [];
    for (const [id, tracked] of this.tracked) {
      const instance = world.instances.get(id);
      if (instance && SERVING_STATES.has(instance.state)) continue;
      this.tracked.delete(id);
      stops.push(this.halt(tracked, instance?.state ?? 'gone'));
    }
    await Promise.all(stops);
  }

  private async boot(tracked: Tracked): Promise<void> {
    tracked.bootTimer = undefined;
    if (tracked.stopped) return;
    try {
      const server = await startAppServer(tracked.instanceId, tracked.amiId, tracked.behaviour);
      if (tracked.stopped) {
        await server.stop();
        return;
      }
      tracked.server = server;
      this.log.debug(`${tracked.instanceId} (${tracked.behaviour.version}) serving on 127.0.0.1:${server.port}`);
    } catch (error) {
      this.log.warn(`${tracked.instanceId}: app could not start: ${describeError(error)}`);
    }
  }

  private async halt(tracked: Tracked, reason: string): Promise<void> {
    tracked.stopped = true;
    if (tracked.bootTimer) clearTimeout(tracked.bootTimer);
    if (tracked.server) {
      this.log.debug(`${tracked.instanceId} ${reason}: app stopped`);
      await tracked.server.stop();
      tracked.server = undefined;
    }
  }

  /** Port of an instance's app, when it is serving. */
  portOf(instanceId: string): number | undefined {
    return this.tracked.get(instanceId)?.server?.port;
  }

  /** True while a known running instance has not finished booting. */
  isBooting(instanceId: string): boolean {
    const tracked = this.tracked.get(instanceId);
    return Boolean(tracked && !tracked.server && !tracked.stopped);
  }

  /** When the sandbox first saw the instance running (ms since epoch). */
  launchedAt(instanceId: string): number | undefined {
    return this.tracked.get(instanceId)?.launchedAt;
  }

  list(): InstanceAppState[] {
    return [...this.tracked.values()].map((t) => ({
      instanceId: t.instanceId,
      amiId: t.amiId,
      version: t.behaviour.version,
      phase: t.server ? 'serving' : 'booting',
      ...(t.server ? { port: t.server.port } : {}),
      launchedAt: t.launchedAt,
      healthChecksServed: t.server?.healthChecksServed() ?? 0,
      inFlight: t.server?.inFlight() ?? 0,
    }));
  }

  /** Ports of all running apps (to check that nothing is left listening). */
  ports(): number[] {
    return [...this.tracked.values()].flatMap((t) => (t.server ? [t.server.port] : []));
  }

  async stopAll(): Promise<void> {
    const all = [...this.tracked.values()];
    this.tracked.clear();
    await Promise.all(all.map((t) => this.halt(t, 'sandbox stopping')));
  }
}
