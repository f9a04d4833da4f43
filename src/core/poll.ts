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
 */
export interface PollSchedule {
  /** Waits before the next poll; resolves false when the deadline has passed. Throws the run's interruption. */
  next(): Promise<boolean>;
  /** Milliseconds until the deadline (may be negative). */
  remainingMs(): number;
}

function envMs(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** A backoff schedule from `minMs` growing ×1.5 to `maxMs`, bounded by `deadline` (epoch ms). */
export function pollSchedule(deadline: number, minMs = envMs('BLUEGREEN_POLL_MIN_MS', 1_000), maxMs = envMs('BLUEGREEN_POLL_MAX_MS', 10_000)): PollSchedule {
  let delay = minMs;
  const scope = currentRunScope();
  const interruption = (): void => {
    const reason = scope?.takeInterruption?.();
    if (reason !== undefined) throw reason;
  };
  return {
    async next() {
      interruption();
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      // Watch the signal only while the interruption is still to be delivered.
      const signal = scope && !scope.signal.aborted ? scope.signal : undefined;
      try {
        await sleep(Math.min(delay, remaining), undefined, signal ? { signal } : undefined);
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
