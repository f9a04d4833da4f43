/** Library API: the engine, without the CLI. */
export * from './core/errors';
export * from './core/naming';
export * from './core/duration';
export { createLogger, silentLogger, type Logger } from './core/log';
export { awsClients, type AwsClients } from './aws/clients';
export { CallCounter, globalCallCounter } from './aws/call-counter';
export { Tag } from './aws/tags';
export {
  getClusterStatus,
  formatClusterStatus,
  type ClusterStatus,
  type ServerGroupStatus,
} from './status/cluster-status';
export { executeStage, type StageDefinition, type StageContext } from './stages/framework';
export * from './ledger';
export { startSandbox, sandboxEnv, sandboxClients, type Sandbox, type SandboxOptions } from './sandbox/sandbox';
export type { DemoInfra } from './sandbox/demo-infra';
export type { FaultRule, StoredFaultRule } from './sandbox/faults';
export type { CallStatsSnapshot } from './sandbox/call-stats';
export { startProbe, type Probe, type ProbeOptions, type ProbeReport } from './sandbox/probe';
export type { ListenerEndpoint } from './sandbox/load-balancer';
export {
  publishArtifact,
  DEFAULT_PUBLISH_TUNING,
  type PublishRequest,
  type PublishResult,
  type PublishOptions,
  type PublishTuning,
} from './publish/publish-artifact';
