import { Agent, request as httpRequest } from 'node:http';

/**
 * The traffic probe: steady requests to a URL (the sandbox load balancer)
 * while something happens, bounded in count and time, recording every
 * answer's status and version — "zero downtime" as a number.
 */

export interface ProbeOptions {
  url: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Stop after this many requests (default 100 000). */
  maxRequests?: number;
  /** Stop after this long (default 60 000 ms). */
  maxDurationMs?: number;
  /** Per-request timeout (default 10 000 ms); a timeout counts as failed. */
  requestTimeoutMs?: number;
  /** Pause between a worker's requests (default 0). */
  pauseMs?: number;
}

/** One recorded request. */
export interface ProbeSample {
  /** Start, ms since the probe started. */
  atMs: number;
  durationMs: number;
  /** HTTP status, 0 for a connection error or timeout. */
  status: number;
  version?: string;
  instanceId?: string;
  error?: string;
}

/** A change of the set of versions answering, over time. */
export interface VersionMixChange {
  /** Start of the window where the mix changed, ms since the probe started. */
  atMs: number;
  /** Versions that answered in that window, sorted. */
  versions: string[];
}

export interface ProbeReport {
  url: string;
  total: number;
  ok: number;
  /** Non-2xx answers and connection errors. */
  failed: number;
  /** Successful answers per version. */
  perVersion: Record<string, number>;
  /** Failures by kind: `status:502`, `error:ECONNREFUSED`, `timeout`. */
  failures: Record<string, number>;
  /** First and last time each version answered (ms since start). */
  versionSpans: Record<string, { firstMs: number; lastMs: number }>;
  /** When the version mix changed, in windows of `windowMs`. */
  timeline: VersionMixChange[];
  windowMs: number;
  durationMs: number;
  /** The failed samples themselves (at most 100), for diagnosis. */
  failedSamples: ProbeSample[];
  /** When each failed request started (ms since the probe started), all of them: to tell which window failures fell in. */
  failureTimesMs: number[];
}

/** A running probe. */
export interface Probe {
  /** Stops sending, waits for in-flight requests, reports. */
  stop(): Promise<ProbeReport>;
  /** Resolves when the probe stops on its own (count or time limit) or is stopped. */
  done: Promise<ProbeReport>;
  /** Requests completed so far. */
  completed(): number;
  /** Requests (completed so far) that started in [startMs, endMs], ms since the probe started: a window's denominator. */
  startedBetween(startMs: number, endMs: number): number;
  /** When the probe started (epoch ms): sample times are counted from here. */
  startedAt: number;
}

function sendOne(url: URL, agent: Agent, timeoutMs: number): Promise<{ status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const request = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        agent,
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', (error: NodeJS.ErrnoException) =>
          resolve({ status: 0, body: '', error: error.code ?? error.message }),
        );
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: 0, body: '', error: error.code ?? error.message }),
    );
    request.end();
  });
}

/** Builds the report from samples. */
export function summarize(url: string, samples: ProbeSample[], durationMs: number): ProbeReport {
  const perVersion: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const versionSpans: Record<string, { firstMs: number; lastMs: number }> = {};
  let ok = 0;
  const failedSamples: ProbeSample[] = [];
  const failureTimesMs: number[] = [];
  for (const sample of samples) {
    const success = sample.status >= 200 && sample.status < 300;
    if (success) {
      ok += 1;
      const version = sample.version ?? 'unknown';
      perVersion[version] = (perVersion[version] ?? 0) + 1;
      const end = sample.atMs + sample.durationMs;
      const span = versionSpans[version];
      if (!span) versionSpans[version] = { firstMs: end, lastMs: end };
      else {
        span.firstMs = Math.min(span.firstMs, end);
        span.lastMs = Math.max(span.lastMs, end);
      }
    } else {
      const kind =
        sample.status > 0
          ? `status:${sample.status}`
          : sample.error === 'timeout'
            ? 'timeout'
            : `error:${sample.error ?? 'unknown'}`;
      failures[kind] = (failures[kind] ?? 0) + 1;
      if (failedSamples.length < 100) failedSamples.push(sample);
      failureTimesMs.push(sample.atMs);
    }
  }
  // Windows of ~1/50 of the run (at least 50 ms): enough to see a switch, not every request.
  const windowMs = Math.max(50, Math.ceil(durationMs / 50));
  const windows = new Map<number, Set<string>>();
  for (const sample of samples) {
    if (!(sample.status >= 200 && sample.status < 300)) continue;
    const index = Math.floor((sample.atMs + sample.durationMs) / windowMs);
    const set = windows.get(index) ?? new Set<string>();
    set.add(sample.version ?? 'unknown');
    windows.set(index, set);
  }
  const timeline: VersionMixChange[] = [];
  let previous = '';
  for (const index of [...windows.keys()].sort((a, b) => a - b)) {
    const versions = [...(windows.get(index) as Set<string>)].sort();
    const key = versions.join(',');
    if (key !== previous) timeline.push({ atMs: index * windowMs, versions });
    previous = key;
  }
  return {
    url,
    total: samples.length,
    ok,
    failed: samples.length - ok,
    perVersion,
    failures,
    versionSpans,
    timeline,
    windowMs,
    durationMs,
    failedSamples,
    failureTimesMs,
  };
}

/** Starts probing `url`. Always `stop()` it (or await `done`). */
export function startProbe(options: ProbeOptions): Probe {
  const url = new URL(options.url);
  if (url.protocol !== 'http:') throw new RangeError(`probe url must be http:// (got ${options.url})`);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const maxRequests = Math.max(1, options.maxRequests ?? 100_000);
  const maxDurationMs = Math.max(1, options.maxDurationMs ?? 60_000);
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const pauseMs = options.pauseMs ?? 0;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const samples: ProbeSample[] = [];
  const started = Date.now();
  let issued = 0;
  let stopping = false;
  const deadline = setTimeout(() => {
    stopping = true;
  }, maxDurationMs);

  async function worker(): Promise<void> {
    while (!stopping && issued < maxRequests) {
      issued += 1;
      const atMs = Date.now() - started;
      const result = await sendOne(url, agent, timeoutMs);
      const sample: ProbeSample = { atMs, durationMs: Date.now() - started - atMs, status: result.status };
      if (result.error) sample.error = result.error;
      try {
        const body = JSON.parse(result.body) as { version?: unknown; instanceId?: unknown };
        if (typeof body.version === 'string') sample.version = body.version;
        if (typeof body.instanceId === 'string') sample.instanceId = body.instanceId;
      } catch {
        // Not JSON (an LB error page): status says enough.
      }
      samples.push(sample);
      if (pauseMs > 0 && !stopping) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  const done = Promise.all(Array.from({ length: concurrency }, () => worker())).then(() => {
    clearTimeout(deadline);
    agent.destroy();
    return summarize(options.url, samples, Date.now() - started);
  });
  return {
    done,
    completed: () => samples.length,
    startedBetween: (startMs, endMs) => samples.filter((s) => s.atMs >= startMs && s.atMs <= endMs).length,
    startedAt: started,
    stop: () => {
      stopping = true;
      return done;
    },
  };
}
