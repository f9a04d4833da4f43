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
  /** The fast window ({@link healthPollWindow}): from its `dueAt` until `untilMs`, polls every `periodMs`. */
  window?: HealthPollWindow;
  /** When the last poll started (epoch ms): the window's period runs from poll start to poll start. */
  lastPollAt?: number;
}): number {
  const { now, dueAt, backoffMs, fastMs, window } = input;
  if (dueAt === undefined) return backoffMs;
  if (now < dueAt) return dueAt - now;
  if (window && now >= window.dueAt && now < window.untilMs)
    return Math.max(0, window.periodMs - (now - (input.lastPollAt ?? now)));
  const fast = Math.min(fastMs, backoffMs);
  // Before the window (a broken build's verdict can come sooner): wake at its start.
  return window && now < window.dueAt ? Math.min(fast, window.dueAt - now) : fast;
}

/**
 * DescribeTargetHealth calls a second the fast window may make, all target
 * groups together: 4, well inside the ELB API's documented budget for
 * `Describe*` calls (a bucket of 40 tokens refilled at 10 a second, per
 * account and region: https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html),
 * so other tools of the account keep most of it and the bucket never empties.
 */
export const WINDOW_CALLS_PER_SECOND = 4;

/** The fast window of health polls: see {@link healthPollWindow}. */
export interface HealthPollWindow {
  /** Earliest moment (epoch ms) a new target can be healthy. */
  dueAt: number;
  /** End of the window (epoch ms). */
  untilMs: number;
  /** Poll period inside it (ms). */
  periodMs: number;
}

/**
 * Where to poll fast for health. A target turns healthy only at a health
 * check, and the load balancer's checks run on their own clock: the first
 * verdict can come anywhere from threshold × interval after registration to
 * one interval later. Registration happened between the poll before the one
 * that first saw the target and that one. So the window runs from the
 * earliest due time to one interval after the latest, at
 * {@link WINDOW_CALLS_PER_SECOND} DescribeTargetHealth calls a second (AWS
 * seconds: the sandbox's clock shrinks it with the rest). Pure.
 */
export function healthPollWindow(input: {
  previousPollAt: number;
  polledAt: number;
  /** Registration → first possible verdict, real ms on this clock. */
  dueAfterMs: number;
  /** The shortest health check interval, real ms on this clock. */
  intervalMs: number;
  /** Target groups polled (one DescribeTargetHealth each per poll). */
  targetGroups: number;
}): HealthPollWindow {
  const perPollSeconds = Math.max(1, input.targetGroups) / WINDOW_CALLS_PER_SECOND;
  return {
    dueAt: input.previousPollAt + input.dueAfterMs,
    untilMs: input.polledAt + input.dueAfterMs + input.intervalMs,
    periodMs: Math.max(1, awsSecondsToMs(perPollSeconds)),
  };
}
