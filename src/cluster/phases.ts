/** Deployment phases, written on the new group's `bluegreen:phase` tag so crash recovery and status can read them. */
export const Phase = {
  /** Launch template and ASG being made; the old group untouched. */
  creating: 'creating',
  /** A rollback bringing a disabled group back (resumed, scaling up, being registered); the serving group untouched. */
  reenabling: 'reenabling',
  /** Waiting for the new group to be healthy; the old group untouched. */
  waitingHealthy: 'waiting-healthy',
  /** Healthy outside production; the `beforeTraffic` command runs against it; the old group untouched. */
  testing: 'testing',
  /** New group healthy; old groups being disabled. */
  cutover: 'cutover',
  /** A canary: the new group in its own target groups, weighted in the listeners; the old group serves untouched. */
  canary: 'canary',
  /** Old groups disabled but at full capacity while the new one is watched (alarms, gates); a breach re-enables them. */
  watching: 'watching',
  /** Old groups disabled; scale-down and clean-up left. */
  finishing: 'finishing',
  done: 'done',
  /**
   * `hold`: healthy outside production (behind the test listener when one was given), waiting for a human:
   * `promote` finishes the deploy, `abort` removes the group. Settled, not unfinished: no run undoes or finishes
   * it on its own, and a deploy or rollback on its cluster stops (exit 3) until one of the two ran.
   */
  held: 'held',
} as const;

/** Phases of a deployment that has not finished (running now, or interrupted). */
export const UNFINISHED_PHASES: ReadonlySet<string> = new Set([
  Phase.creating,
  Phase.reenabling,
  Phase.waitingHealthy,
  Phase.testing,
  Phase.canary,
  Phase.cutover,
  Phase.watching,
  Phase.finishing,
]);

/** True when a group in this phase never took traffic (so an interrupted one is removed, not finished). */
export function isBeforeCutover(phase: string): boolean {
  return phase === Phase.creating || phase === Phase.waitingHealthy || phase === Phase.testing;
}

/**
 * What the next run does with a group left in an unfinished phase (running now, or interrupted):
 * - `remove`: it never took traffic;
 * - `disable-again`: a rollback re-enabling it had not cut over (the serving group still serves);
 * - `roll-back`: a deploy's watch did not end: the verdict is unknown, so not passed; the warm previous
 *   group is re-enabled (finished instead when none is warm any more);
 * - `end-canary`: a canary's verdict is unknown: the listeners go back to the production target groups alone,
 *   the group and its canary target groups are removed;
 * - `finish`: it had cut over (a rollback's interrupted watch too: the group it rolled away from is the suspect).
 */
export type NextAction = 'remove' | 'disable-again' | 'roll-back' | 'end-canary' | 'finish';

/**
 * Phase → next action, the one rule crash recovery acts on and status reports; undefined for a settled
 * group. `watchedBy` is the group's `bluegreen:watched-by` tag. Pure.
 */
export function nextAction(phase: string | undefined, watchedBy?: string): NextAction | undefined {
  if (phase === undefined || !UNFINISHED_PHASES.has(phase)) return undefined;
  if (phase === Phase.reenabling) return 'disable-again';
  if (phase === Phase.canary) return 'end-canary';
  if (phase === Phase.watching) return watchedBy === 'rollback' ? 'finish' : 'roll-back';
  return isBeforeCutover(phase) ? 'remove' : 'finish';
}
