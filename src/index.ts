/** Library API (`bluegreen`): the engine, without the CLI; the sandbox has its own (`bluegreen/sandbox`). */
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
export {
  publishArtifact,
  DEFAULT_PUBLISH_TUNING,
  type PublishRequest,
  type PublishResult,
  type PublishOptions,
  type PublishTuning,
} from './publish/publish-artifact';
