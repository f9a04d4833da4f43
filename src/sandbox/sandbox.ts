import { createAwsClients, type AwsClients } from '../aws/clients';
import { CallCounter } from '../aws/call-counter';
import { silentLogger, type Logger } from '../core/log';
import type { CallStatsSnapshot } from './call-stats';
import type { CostSnapshot } from './cost-meter';
import { createDemoInfra, type DemoInfra } from './demo-infra';
import type { FaultRule, StoredFaultRule } from './faults';
import { startGateway, type Gateway, type GatewayHooks } from './gateway';
import type { ListenerEndpoint } from './load-balancer';
import { startMotoProcess, type MotoProcess } from './moto-process';
import type { TimelineSnapshot } from './timeline';
import { mergedTimeline, multiRegionHooks } from './regions';
import { TrafficLayer } from './traffic-layer';

/**
 * The sandbox: moto + gateway + traffic layer, started and stopped as one.
 * Everything listens on 127.0.0.1 only.
 */

export interface SandboxOptions {
  /** Gateway port; 0 (default) picks a free one. The CLI defaults to 4566. */
  port?: number;
  region?: string;
  /** Several regions (`--regions`): each gets its own traffic layer (and demo infra); the first is `region`. */
  regions?: string[];
  /** Factor on every sandbox delay (boot, health interval, deregistration delay); default 1 (AWS-like). */
  timeScale?: number;
  /** Instance boot time in AWS seconds before scaling (default 10). */
  bootSeconds?: number;
  /** How often the traffic layer checks whether its safety-net full read of moto is due, in real milliseconds (default 150). */
  pollMs?: number;
  /** `demo` creates the demo infrastructure (see {@link DemoInfra}). */
  infra?: 'none' | 'demo';
  /** With `infra: 'demo'`: also a classic load balancer (default false). */
  classicLoadBalancer?: boolean;
  /** Fault rules in force from the start. */
  faults?: FaultRule[];
  /** Seed of the throttling dice (default 1: the same run every time). */
  faultSeed?: number;
  /** The moto command (default `moto_server`). */
  motoCommand?: string;
  log?: Logger;
}

/** What a running sandbox offers. */
export interface Sandbox {
  /** The one AWS endpoint (gateway), e.g. `http://127.0.0.1:4566`. */
  endpoint: string;
  /** The first (default) region. */
  region: string;
  /** Every region the sandbox serves with a traffic layer, the first one `region`. */
  regions: string[];
  timeScale: number;
  /** The demo infrastructure, when `infra: 'demo'` (of the first region). */
  infra?: DemoInfra;
  /** The demo infrastructure of every region, with its listener's local URL (`infra: 'demo'`). */
  infraByRegion?: Record<string, DemoInfra & { listenerUrl?: string }>;
  /** Local URL of the demo listener, when `infra: 'demo'`. */
  listenerUrl?: string;
  /** Environment for SDKs and the AWS CLI aimed at the sandbox. */
  env(): Record<string, string>;
  /** SDK clients aimed at the gateway (their calls are counted there), for `region` (default: the first). */
  clients(region?: string): AwsClients;
  calls(): CallStatsSnapshot;
  resetCalls(): void;
  addFault(rule: FaultRule): StoredFaultRule;
  removeFault(id: string): boolean;
  clearFaults(): void;
  /** Every listener's local URL (ALB and classic). */
  listeners(): ListenerEndpoint[];
  /** Re-reads moto now (the layer also polls on its own). */
  refresh(): Promise<void>;
  /** Instances, targets and listeners as the sandbox sees them. */
  state(): ReturnType<TrafficLayer['state']>;
  /** Target state changes and AWS calls at or after `since` (epoch ms), oldest first (also `GET /_sandbox/timeline`). */
  timeline(since?: number): TimelineSnapshot;
  /** What the sandbox itself spent so far, by kind of work (its reads of moto, world refreshes, CloudWatch windows). */
  costs(): CostSnapshot;
  /** The moto process id and every port the sandbox listens on (to prove nothing is left behind). */
  resources(): { motoPid: number; ports: number[] };
  /** Stops everything this sandbox started. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Environment pointing AWS SDKs and CLIs at `endpoint`, with dummy
 * credentials; with a `timeScale` below 1 also `BLUEGREEN_TIME_SCALE`, so the
 * engine reads the durations AWS declares (health check interval, grace
 * period) on the sandbox's clock (src/core/poll.ts `awsSecondsToMs`).
 */
export function sandboxEnv(endpoint: string, region: string, timeScale = 1): Record<string, string> {
  return {
    ...(timeScale < 1 ? { BLUEGREEN_TIME_SCALE: String(timeScale) } : {}),
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'sandbox',
    AWS_SECRET_ACCESS_KEY: 'sandbox',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Whether `endpoint` is an http(s) URL on this machine's loopback interface. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    (host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host))
  );
}

/**
 * SDK clients aimed at `endpoint` explicitly (not via the environment, which
 * may point elsewhere in-process), with fixed dummy credentials: the sandbox
 * never needs AWS credentials. Refuses any endpoint that is not loopback, so
 * sandbox code can never reach real AWS.
 */
export function sandboxClients(endpoint: string, region: string, counter = new CallCounter()): AwsClients {
  if (!isLoopbackEndpoint(endpoint))
    throw new RangeError(`sandbox clients only talk to a 127.0.0.1/localhost endpoint (got ${endpoint})`);
  return createAwsClients(region, {
    endpoint,
    counter,
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
  });
}

/** The demo infra without the listener URL kept beside it per region. */
function stripListenerUrl(infra: DemoInfra & { listenerUrl?: string }): DemoInfra {
  const { listenerUrl: _listenerUrl, ...rest } = infra;
  return rest;
}

/** Starts moto, the traffic layer and the gateway (and the demo infra when asked). */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const regions = options.regions?.length ? [...new Set(options.regions)] : [options.region ?? 'us-east-1'];
  const region = regions[0] as string;
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new RangeError(`timeScale must be greater than 0 (got ${timeScale})`);
  const log = options.log ?? silentLogger;
  const moto: MotoProcess = await startMotoProcess(options.motoCommand);
  let traffic: TrafficLayer | undefined;
  /** The layers of the other regions. */
  const others = new Map<string, TrafficLayer>();
  let gateway: Gateway | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await gateway?.stop();
      await traffic?.stop();
      await Promise.all([...others.values()].map((layer) => layer.stop()));
      await moto.stop();
    })();
    return stopping;
  };
  try {
    const layerOf = (layerRegion: string): TrafficLayer =>
      new TrafficLayer({
        motoEndpoint: moto.endpoint,
        region: layerRegion,
        timeScale,
        bootSeconds: options.bootSeconds ?? 10,
        pollMs: options.pollMs ?? 150,
        log: regions.length > 1 ? log.child(layerRegion) : log,
      });
    traffic = layerOf(region);
    for (const other of regions.slice(1)) others.set(other, layerOf(other));
    await Promise.all([traffic, ...others.values()].map((layer) => layer.start()));
    const layer = traffic;
    const layers = new Map([[region, layer], ...others]);
    const all = [...layers.values()];
    let infra: DemoInfra | undefined;
    const infraByRegion: Record<string, DemoInfra & { listenerUrl?: string }> = {};
    const info: GatewayHooks['control'] = async (method, path) =>
      method === 'GET' && path === 'info'
        ? {
            status: 200,
            body: { endpoint: gateway?.endpoint, region, regions, timeScale, infra: infra ?? null, infraByRegion },
          }
        : undefined;
    gateway = await startGateway({
      motoEndpoint: moto.endpoint,
      port: options.port ?? 0,
      log,
      faultSeed: options.faultSeed ?? 1,
      hooks: others.size === 0 ? layer.gatewayHooks(info) : multiRegionHooks(layers, info),
    });
    const gw = gateway;
    const clientsByRegion = new Map(regions.map((r) => [r, sandboxClients(gw.endpoint, r)]));
    if (options.infra === 'demo') {
      for (const [r, regionClients] of clientsByRegion) {
        const made = await createDemoInfra(regionClients, undefined, {
          ...(options.classicLoadBalancer ? { classicEndpoint: gw.endpoint } : {}),
          // S3 bucket names are global: the other regions' buckets carry the region.
          ...(r === region ? {} : { bucketSuffix: `-${r}` }),
        });
        const listenerUrl = layers
          .get(r)
          ?.endpoints()
          .find((l) => l.listenerArn === made.listenerArn)?.url;
        infraByRegion[r] = { ...made, ...(listenerUrl ? { listenerUrl } : {}) };
        log.info(
          `demo infra ready in ${r}: ALB ${made.loadBalancerName}, target group ${made.targetGroupName}, buckets ${made.artifactBucket} and ${made.ledgerBucket}`,
        );
      }
      infra = infraByRegion[region];
    }
    // Counters, faults and the timeline start clean once the sandbox is ready.
    gw.stats.reset();
    gw.credentials.reset();
    for (const l of all) l.timeline.reset();
    for (const rule of options.faults ?? []) gw.faults.add(rule);
    const demoListener = infra ? layer.router.endpoints().find((l) => l.listenerArn === infra?.listenerArn) : undefined;
    return {
      endpoint: gw.endpoint,
      region,
      regions,
      timeScale,
      ...(infra ? { infra: stripListenerUrl(infra), infraByRegion } : {}),
      ...(demoListener ? { listenerUrl: demoListener.url } : {}),
      env: () => sandboxEnv(gw.endpoint, region, timeScale),
      clients: (asked = region) => clientsByRegion.get(asked) ?? sandboxClients(gw.endpoint, asked),
      calls: () => gw.stats.snapshot(),
      resetCalls: () => gw.stats.reset(),
      addFault: (rule) => gw.faults.add(rule),
      removeFault: (id) => gw.faults.remove(id),
      clearFaults: () => gw.faults.clear(),
      listeners: () => all.flatMap((l) => l.endpoints()),
      refresh: async () => {
        await Promise.all(all.map((l) => l.refresh()));
      },
      state: () => {
        const states = all.map((l) => l.state());
        return {
          instances: states.flatMap((st) => st.instances),
          targets: states.flatMap((st) => st.targets),
          listeners: states.flatMap((st) => st.listeners),
        };
      },
      timeline: (since) =>
        others.size === 0 ? layer.timeline.snapshot(since) : mergedTimeline(all.map((l) => l.timeline.snapshot(since))),
      costs: () => layer.costSnapshot(),
      resources: () => ({ motoPid: moto.pid, ports: [moto.port, gw.port, ...all.flatMap((l) => l.ports())] }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
