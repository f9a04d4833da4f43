/**
 * What the gateway saw: calls per `service:Action` (every attempt, faulted
 * ones included), which of them the sandbox faulted, and a `mutating` total
 * so a test can assert that nothing was changed.
 */

/** A snapshot of the gateway's counters (the body of `GET /_sandbox/calls`). */
export interface CallStatsSnapshot {
  /** Attempts per `service:Action`, sorted by key. */
  calls: Record<string, number>;
  /** Attempts answered with an injected throttling error, per `service:Action`. */
  throttled: Record<string, number>;
  /** Attempts answered with an injected failure (fail-next rules), per `service:Action`. */
  failed: Record<string, number>;
  /** All attempts. */
  total: number;
  /** Attempts of actions that may change state (not Describe/List/Get/Head), faulted ones included. */
  mutating: number;
}

function sorted(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Counters of the gateway. */
export class CallStats {
  private readonly calls = new Map<string, number>();
  private readonly throttled = new Map<string, number>();
  private readonly failed = new Map<string, number>();
  private total = 0;
  private mutating = 0;

  /** Counts one attempt. */
  recordCall(service: string, action: string, mutating: boolean): void {
    bump(this.calls, `${service}:${action}`);
    this.total += 1;
    if (mutating) this.mutating += 1;
  }

  /** Notes that an attempt was answered with an injected fault. */
  recordFault(service: string, action: string, kind: 'throttle' | 'fail'): void {
    bump(kind === 'throttle' ? this.throttled : this.failed, `${service}:${action}`);
  }

  snapshot(): CallStatsSnapshot {
    return {
      calls: sorted(this.calls),
      throttled: sorted(this.throttled),
      failed: sorted(this.failed),
      total: this.total,
      mutating: this.mutating,
    };
  }

  reset(): void {
    this.calls.clear();
    this.throttled.clear();
    this.failed.clear();
    this.total = 0;
    this.mutating = 0;
  }
}
