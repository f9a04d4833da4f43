import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What one stage run shares with every layer below it without threading it
 * through each call: the signal that interrupts it (SIGTERM/SIGINT, or its
 * whole-run deadline), and the proof that it still holds the cluster lock.
 * The stage framework opens a scope per run; the poll waits read its signal,
 * the AWS client guard its lock. Outside a scope (library use) both are absent.
 */

/** Proof of the cluster lock, checked before every call that changes the cluster. */
export interface LockGuard {
  /** Throws (naming `action`) unless the lock is provably still ours. */
  assertHeld(action: string): void;
}

/** The state of one run. */
export interface RunScope {
  /** Aborted when the run is interrupted; `reason` is the error to report. */
  readonly signal: AbortSignal;
  /** Interrupts the run (aborts `signal` with `reason`), e.g. when its lock is lost. */
  interrupt?: (reason: unknown) => void;
  /**
   * The interruption, once: the wait that takes it stops the run's main path;
   * the clean-up that follows (and its own waits) then runs undisturbed.
   * Undefined when not interrupted or already taken.
   */
  takeInterruption?: () => unknown;
  /** Set while the run holds a cluster lock. */
  lockGuard?: LockGuard;
}

const storage = new AsyncLocalStorage<RunScope>();

/** Runs `work` in a new scope interrupted through `controller` (first reason wins). */
export function withRunScope<T>(controller: AbortController, work: () => Promise<T>): Promise<T> {
  const interrupt = (reason: unknown): void => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  let taken = false;
  const takeInterruption = (): unknown => {
    if (taken || !controller.signal.aborted) return undefined;
    taken = true;
    return controller.signal.reason ?? new Error('interrupted');
  };
  return storage.run({ signal: controller.signal, interrupt, takeInterruption }, work);
}

/**
 * Runs `work` with a lock guard of its own, interrupted with the run: parts
 * of one run that hold different locks at the same time (the regions of a
 * rollout's wave, each under its region's lock) must not prove or clear each other's.
 */
export function withOwnLockGuard<T>(work: () => Promise<T>): Promise<T> {
  const parent = storage.getStore();
  if (!parent) return work();
  const { lockGuard: _parentGuard, ...shared } = parent;
  return storage.run({ ...shared }, work);
}

/** The scope of the run this code belongs to, if any. */
export function currentRunScope(): RunScope | undefined {
  return storage.getStore();
}

/** The interrupt signal of the current run, if any. */
export function runSignal(): AbortSignal | undefined {
  return storage.getStore()?.signal;
}

/** What a cluster run may wait for, in seconds (from its inputs). */
export interface RunWaits {
  lockWaitSeconds: number;
  healthTimeoutSeconds: number;
  drainTimeoutSeconds?: number;
  /** A deploy's `beforeTraffic` timeout: the command, then one more health wait (in production). */
  beforeTrafficSeconds?: number;
}

/** Drain wait when none is given: AWS's default deregistration delay (300 s) plus a minute. */
const DEFAULT_DRAIN_SECONDS = 360;
/** Everything that is not a wait (AWS calls, launches), generously. */
const RUN_MARGIN_SECONDS = 600;

/**
 * The whole-run deadline of a deploy, rollback or cleanup: the lock wait,
 * two health waits (recovery may finish an interrupted group first) and two
 * drains (old groups at cutover, the new one on an automatic rollback), plus
 * a margin; with `beforeTraffic` its timeout and the health wait in production after it. Past it the run is interrupted like on SIGTERM.
 */
export function clusterRunDeadlineSeconds(waits: RunWaits): number {
  const drain = waits.drainTimeoutSeconds ?? DEFAULT_DRAIN_SECONDS;
  const beforeTraffic =
    waits.beforeTrafficSeconds !== undefined ? waits.beforeTrafficSeconds + waits.healthTimeoutSeconds : 0;
  return waits.lockWaitSeconds + 2 * waits.healthTimeoutSeconds + 2 * drain + beforeTraffic + RUN_MARGIN_SECONDS;
}
