/**
 * The sandbox's API (`bluegreen/sandbox`): moto_server with the traffic layer
 * in front of it (real HTTP servers per instance, real health checks, a local
 * load balancer listener), and a traffic probe. Kept apart from the engine's
 * API (`bluegreen`, src/index.ts): a program that deploys never loads it.
 */
export { startSandbox, sandboxEnv, sandboxClients, type Sandbox, type SandboxOptions } from './sandbox';
export type { DemoInfra } from './demo-infra';
export type { FaultRule, StoredFaultRule } from './faults';
export type { CallStatsSnapshot } from './call-stats';
export { startProbe, type Probe, type ProbeOptions, type ProbeReport } from './probe';
export type { ListenerEndpoint } from './load-balancer';
