import { setTimeout as sleep } from 'node:timers/promises';
import { currentRunScope } from './run-scope';

/**
 * Poll pacing: fast at first, then backing off, never past a deadline. The
 * bounds can be tightened for a sandbox whose clock runs fast
 * (`BLUEGREEN_POLL_MIN_MS`, `BLUEGREEN_POLL_MAX_MS`).
 *
 * Waits are interruptible: when the run is interrupted (SIGTERM, SIGINT, its
 * whole-run deadline, a lost lock), the wait in progress — or the next one to
 * start — throws the interruption, once. The clean-up that follows (removing
 * the new group, draining it) then waits to its own deadlines, so an abort
 * never leaves a half-done rollback behind.
 *
 * Durations that AWS declares in seconds (a target group's health check
 * interval, an ASG's health check grace period) are real seconds on AWS; on
 * the sandbox they run × its time scale. `BLUEGREEN_TIME_SCALE` (set by the
 * sandbox's `env()`, never by a production path; default 1) tells the engine
 * that clock, and {@link awsSecondsToMs} is the one place it is applied.
 */
export interface PollSchedule {
  /**
   * Waits before the next poll; resolves false when the deadline has passed. Throws the run's interruption.
   * `shape` may change this wait (given the backoff's delay); the backoff grows either way.
   */
  next(shape?: (backoffMs: number) => number): Promise<boolean>;
  /** Milliseconds until the deadline (may be negative). */
  remainingMs(): number;
}

function envMs(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** The clock's factor: `BLUEGREEN_TIME_SCALE` in (0, 1], else 1 (AWS: real seconds). */
export function timeScale(): number {
  const value = Number(process.env.BLUEGREEN_TIME_SCALE);
  return Number.isFinite(value) && value > 0 && value <= 1 ? value : 1;
}

/** Real milliseconds of a duration AWS declares in seconds, on this clock ({@link timeScale}). */
export function awsSecondsToMs(seconds: number): number {
  return seconds * 1000 * timeScale();
}

/** The first poll delay of {@link pollSchedule} (`BLUEGREEN_POLL_MIN_MS`, default 1 s). */
export function pollMinMs(): number {
  return envMs('BLUEGREEN_POLL_MIN_MS', 1_000);
}

/** A backoff schedule from `minMs` growing ×1.5 to `maxMs`, bounded by `deadline` (epoch ms). */
export function pollSchedule(
  deadline: number,
  minMs = pollMinMs(),
  maxMs = envMs('BLUEGREEN_POLL_MAX_MS', 10_000),
): PollSchedule {
  let delay = minMs;
  const scope = currentRunScope();
  const interruption = (): void => {
    const reason = scope?.takeInterruption?.();
    if (reason !== undefined) throw reason;
  };
  return {
    async next(shape) {
      interruption();
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      // Watch the signal only while the interruption is still to be delivered.
      const signal = scope && !scope.signal.aborted ? scope.signal : undefined;
      try {
        await sleep(
          Math.max(0, Math.min(shape ? shape(delay) : delay, remaining)),
          undefined,
          signal ? { signal } : undefined,
        );
      } catch (error) {
        if (!signal?.aborted) throw error;
        interruption();
      }
      delay = Math.min(maxMs, Math.ceil(delay * 1.5));
      return true;
    },
    remainingMs: () => deadline - Date.now(),
  };
}

/**
 * How long to wait before the next health poll, in ms: the backoff delay
 * while nothing is registered; once targets are, until the moment a verdict
 * can first be due (registration + threshold × interval: no poll before it
 * can see one); from then on the fast period (never slower than the
 * backoff), so a target that turns healthy is seen within one fast period. Pure.
 */
export function healthPollDelayMs(input: {
  now: number;
  /** Earliest moment (epoch ms) a new target can be healthy; undefined while none is registered. */
  dueAt: number | undefined;
  /** The backoff schedule's delay for this poll. */
  backoffMs: number;
  /** The poll period once health can be due. */
  fastMs: number;
}): number {
  const { now, dueAt, backoffMs, fastMs } = input;
  if (dueAt === undefined) return backoffMs;
  if (now >= dueAt) return Math.min(fastMs, backoffMs);
  return dueAt - now;
}
