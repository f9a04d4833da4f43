import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Poll pacing: fast at first, then backing off, never past a deadline. The
 * bounds can be tightened for a sandbox whose clock runs fast
 * (`BLUEGREEN_POLL_MIN_MS`, `BLUEGREEN_POLL_MAX_MS`).
 */
export interface PollSchedule {
  /** Waits before the next poll; resolves false when the deadline has passed. */
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
  return {
    async next() {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await sleep(Math.min(delay, remaining));
      delay = Math.min(maxMs, Math.ceil(delay * 1.5));
      return true;
    },
    remainingMs: () => deadline - Date.now(),
  };
}
