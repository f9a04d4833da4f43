/**
 * Tag keys bluegreen writes on every ASG and launch template it creates. The
 * truth lives in AWS: status, rollback and crash recovery find things by these.
 */
export const Tag = {
  cluster: 'bluegreen:cluster',
  deploymentId: 'bluegreen:deployment-id',
  amiId: 'bluegreen:ami-id',
  artifactUrl: 'bluegreen:artifact-url',
  buildUrl: 'bluegreen:build-url',
  version: 'bluegreen:version',
  gitCommit: 'bluegreen:git-commit',
  /** On a baked AMI and its build's temporary resources: the application. */
  app: 'bluegreen:app',
  /** On a baked AMI: its name. */
  amiName: 'bluegreen:ami-name',
  /** Sandbox AMIs only: the version and behaviour the sandbox's app server plays. */
  sandboxVersion: 'sandbox:version',
  sandboxHealth: 'sandbox:health',
  /** Deployment phase of a server group while a deploy runs (crash recovery reads it). */
  phase: 'bluegreen:phase',
  /** The min size a group had before a deploy pinned it to desired (restored afterwards, or by recovery). */
  pinnedFrom: 'bluegreen:pinned-min',
  /** On a new server group: the group that served before it (crash recovery re-enables it if needed). */
  previousServerGroup: 'bluegreen:previous-server-group',
  /** When a disabled group may be scaled to 0 (ISO time), for the warm window. */
  scaleDownAfter: 'bluegreen:scale-down-after',
  /**
   * On a new server group: the settings its deploy finishes with (`keepPrevious`,
   * `scaleDownDelaySeconds`, `drainTimeoutSeconds`, as JSON), so that crash
   * recovery finishes an interrupted deploy the way it was asked, not the way the recovering run is.
   */
  runSettings: 'bluegreen:run-settings',
  /** On a new server group under watch after cutover: when the watch ends (ISO time); the previous group stays warm until then. */
  watchUntil: 'bluegreen:watch-until',
  /**
   * With `watchUntil`, on a group a rollback restored: `rollback`. A breach disables a re-enabled group
   * (an older release, kept) instead of deleting it, and an interrupted rollback watch is finished, not undone.
   */
  watchedBy: 'bluegreen:watched-by',
  /** On a canary target group: the new server group it was made for (deleted when its canary ends). */
  canaryOf: 'bluegreen:canary-of',
  /**
   * On a new server group deployed as a canary: its canary target groups' names (comma-separated),
   * so recovery puts the listeners back and deletes them after a crash.
   */
  canaryTargetGroups: 'bluegreen:canary-target-groups',
  /** Spinnaker's tag for the application, recognised but not required. */
  spinnakerApplication: 'spinnaker:application',
} as const;

/** Turns an AWS tag list into a map. */
export function tagMap(tags: ReadonlyArray<{ Key?: string; Value?: string }> | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) map[tag.Key] = tag.Value ?? '';
  return map;
}
