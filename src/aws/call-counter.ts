/**
 * Counts AWS calls per service and action (one per logical call, retries not
 * included), so a stage can report what it cost and a benchmark can compare.
 */

interface MiddlewareClient {
  middlewareStack: {
    add: (middleware: never, options: { step: 'initialize'; name: string }) => void;
  };
}

export class CallCounter {
  private readonly counts = new Map<string, number>();

  /** Adds the counting middleware to a client. */
  attach(service: string, client: MiddlewareClient): void {
    const middleware =
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        this.record(service, context.commandName?.replace(/Command$/, '') ?? 'Unknown');
        return next(args);
      };
    client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'bluegreenCallCounter' });
  }

  /** Counts one call of `service:action`. */
  record(service: string, action: string): void {
    const key = `${service}:${action}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Counts so far, keyed `service:Action`, sorted by key. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Total calls so far. */
  total(): number {
    let sum = 0;
    for (const value of this.counts.values()) sum += value;
    return sum;
  }

  reset(): void {
    this.counts.clear();
  }
}

/** The process-wide counter used unless a caller brings its own. */
export const globalCallCounter = new CallCounter();
