import { createAwsClients, type AwsClients } from '../aws/clients';
import { CallCounter } from '../aws/call-counter';
import { silentLogger, type Logger } from '../core/log';
import type { CallStatsSnapshot } from './call-stats';
import type { CostSnapshot } from './cost-meter';
import { createDemoInfra, type DemoInfra } from './demo-infra';
import type { FaultRule, StoredFaultRule } from './faults';
import { startGateway, type Gateway } from './gateway';
import type { ListenerEndpoint } from './load-balancer';
import { startMotoProcess, type MotoProcess } from './moto-process';
import type { TimelineSnapshot } from './timeline';
import { TrafficLayer } from './traffic-layer';

/**
 * The sandbox: moto + gateway + traffic layer, started and stopped as one.
 * Everything listens on 127.0.0.1 only.
 */

export interface SandboxOptions {
  /** Gateway port; 0 (default) picks a free one. The CLI defaults to 4566. */
  port?: number;
  region?: string;
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
  region: string;
  timeScale: number;
  /** The demo infrastructure, when `infra: 'demo'`. */
  infra?: DemoInfra;
  /** Local URL of the demo listener, when `infra: 'demo'`. */
  listenerUrl?: string;
  /** Environment for SDKs and the AWS CLI aimed at the sandbox. */
  env(): Record<string, string>;
  /** SDK clients aimed at the gateway (their calls are counted there). */
  clients(): AwsClients;
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

/** Starts moto, the traffic layer and the gateway (and the demo infra when asked). */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const region = options.region ?? 'us-east-1';
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new RangeError(`timeScale must be greater than 0 (got ${timeScale})`);
  const log = options.log ?? silentLogger;
  const moto: MotoProcess = await startMotoProcess(options.motoCommand);
  let traffic: TrafficLayer | undefined;
  let gateway: Gateway | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await gateway?.stop();
      await traffic?.stop();
      await moto.stop();
    })();
    return stopping;
  };
  try {
    traffic = new TrafficLayer({
      motoEndpoint: moto.endpoint,
      region,
      timeScale,
      bootSeconds: options.bootSeconds ?? 10,
      pollMs: options.pollMs ?? 150,
      log,
    });
    await traffic.start();
    const layer = traffic;
    let infra: DemoInfra | undefined;
    gateway = await startGateway({
      motoEndpoint: moto.endpoint,
      port: options.port ?? 0,
      log,
      faultSeed: options.faultSeed ?? 1,
      hooks: layer.gatewayHooks(async (method, path) =>
        method === 'GET' && path === 'info'
          ? { status: 200, body: { endpoint: gateway?.endpoint, region, timeScale, infra: infra ?? null } }
          : undefined,
      ),
    });
    const gw = gateway;
    const clients = sandboxClients(gw.endpoint, region);
    if (options.infra === 'demo') {
      infra = await createDemoInfra(
        clients,
        undefined,
        options.classicLoadBalancer ? { classicEndpoint: gw.endpoint } : {},
      );
      log.info(
        `demo infra ready: ALB ${infra.loadBalancerName}, target group ${infra.targetGroupName}, buckets ${infra.artifactBucket} and ${infra.ledgerBucket}`,
      );
    }
    // Counters, faults and the timeline start clean once the sandbox is ready.
    gw.stats.reset();
    layer.timeline.reset();
    for (const rule of options.faults ?? []) gw.faults.add(rule);
    const demoListener = infra ? layer.router.endpoints().find((l) => l.listenerArn === infra?.listenerArn) : undefined;
    return {
      endpoint: gw.endpoint,
      region,
      timeScale,
      ...(infra ? { infra } : {}),
      ...(demoListener ? { listenerUrl: demoListener.url } : {}),
      env: () => sandboxEnv(gw.endpoint, region, timeScale),
      clients: () => clients,
      calls: () => gw.stats.snapshot(),
      resetCalls: () => gw.stats.reset(),
      addFault: (rule) => gw.faults.add(rule),
      removeFault: (id) => gw.faults.remove(id),
      clearFaults: () => gw.faults.clear(),
      listeners: () => layer.endpoints(),
      refresh: () => layer.refresh(),
      state: () => layer.state(),
      timeline: (since) => layer.timeline.snapshot(since),
      costs: () => layer.costSnapshot(),
      resources: () => ({ motoPid: moto.pid, ports: [moto.port, gw.port, ...layer.ports()] }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
