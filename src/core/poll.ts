import { setTimeout as sleep } from 'node:timers/promises';
import { runSignal } from './run-scope';

/**
 * Poll pacing: fast at first, then backing off, never past a deadline. The
 * bounds can be tightened for a sandbox whose clock runs fast
 * (`BLUEGREEN_POLL_MIN_MS`, `BLUEGREEN_POLL_MAX_MS`).
 *
 * Waits are interruptible: a schedule made while the run is live stops at
 * once when the run is interrupted (SIGTERM, SIGINT, whole-run deadline),
 * throwing the interruption. A schedule made after the interruption — the
 * clean-up that follows it, e.g. draining the new group — runs to its own
 * deadline, so an abort never leaves a half-done rollback behind.
 */
export interface PollSchedule {
  /** Waits before the next poll; resolves false when the deadline has passed. Throws the interruption of the run. */
  next(): Promise<boolean>;
  /** Milliseconds until the deadline (may be negative). */
  remainingMs(): number;
}

function envMs(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Options of {@link pollSchedule} beyond the pacing. */
export interface PollOptions {
  /** Interrupts the wait (default: the current run's signal, unless it has already fired). */
  signal?: AbortSignal;
}

/** A backoff schedule from `minMs` growing ×1.5 to `maxMs`, bounded by `deadline` (epoch ms). */
export function pollSchedule(
  deadline: number,
  minMs = envMs('BLUEGREEN_POLL_MIN_MS', 1_000),
  maxMs = envMs('BLUEGREEN_POLL_MAX_MS', 10_000),
  options: PollOptions = {},
): PollSchedule {
  let delay = minMs;
  const scoped = runSignal();
  const signal = options.signal ?? (scoped && !scoped.aborted ? scoped : undefined);
  return {
    async next() {
      if (signal?.aborted) throw signal.reason;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      try {
        await sleep(Math.min(delay, remaining), undefined, signal ? { signal } : undefined);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw error;
      }
      delay = Math.min(maxMs, Math.ceil(delay * 1.5));
      return true;
    },
    remainingMs: () => deadline - Date.now(),
  };
}

/** Sleeps `ms`, cut short by the current run's interruption (which it throws). */
export async function interruptibleSleep(ms: number): Promise<void> {
  const signal = runSignal();
  if (!signal || signal.aborted) return sleep(ms);
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  }
}
