/**
 * What the sandbox itself spends, by kind of work (the traffic layer's reads
 * of moto, world refreshes, CloudWatch windows): how often and how many real
 * milliseconds. The benchmark reads it to tell the emulator's cost from the
 * deploy's (bench/README.md "The sandbox at scale").
 */

/** Count and total real milliseconds of one kind of work. */
export interface CostEntry {
  count: number;
  ms: number;
}

/** Costs by kind, sorted by kind (e.g. `moto:DescribeInstances`, `refresh:full`). */
export type CostSnapshot = Record<string, CostEntry>;

/** Sums the count and time of each kind of work. */
export class CostMeter {
  private readonly entries = new Map<string, CostEntry>();

  /** Adds one piece of work of `kind` that took `ms`. */
  record(kind: string, ms: number): void {
    const entry = this.entries.get(kind);
    if (entry) {
      entry.count += 1;
      entry.ms += ms;
    } else this.entries.set(kind, { count: 1, ms });
  }

  /** Runs `work`, recording its duration under `kind` whether it succeeds or not. */
  async time<T>(kind: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.record(kind, performance.now() - started);
    }
  }

  snapshot(): CostSnapshot {
    return Object.fromEntries(
      [...this.entries.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, entry]) => [kind, { count: entry.count, ms: Math.round(entry.ms) }]),
    );
  }
}

/** What `after` adds to `before` (kinds only in `after` count whole). */
export function costDelta(before: CostSnapshot, after: CostSnapshot): CostSnapshot {
  const delta: CostSnapshot = {};
  for (const [kind, entry] of Object.entries(after)) {
    const was = before[kind] ?? { count: 0, ms: 0 };
    if (entry.count > was.count) delta[kind] = { count: entry.count - was.count, ms: entry.ms - was.ms };
  }
  return delta;
}
