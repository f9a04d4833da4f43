/** The tables of the scaled rows: deploys by size, the peer beside bluegreen, bad builds, the sandbox's cost. */
import { DEMO_HEALTH_CHECK } from '../src/sandbox/demo-infra';
import { formatColdStartTable, type ColdStartRow } from './cold-start';
import { seconds, table } from './format';
import {
  type BenchOptions,
  type CanaryComparison,
  WatchedResult,
  BrokenResult,
  PeerResult,
  SizeResult,
  floorOf,
  rowLabel,
} from './results';

/** The table of the watched bad builds. */
export function renderWatched(results: SizeResult[]): string {
  const rows = results
    .filter((r) => r.watched)
    .map((r) => {
      const w = r.watched as WatchedResult;
      return [
        String(r.size),
        w.exitCode === 1 && w.code === 'VerificationFailed'
          ? 'rolled back by its watch'
          : `exit ${w.exitCode} ${w.code ?? ''}`.trim(),
        w.detectMs !== undefined ? seconds(w.detectMs) : '-',
        seconds(w.detectFloorMs),
        w.restoreMs !== undefined ? seconds(w.restoreMs) : '-',
        `${w.failed} of ${w.requests}`,
      ];
    });
  return [
    'a bad build (50 % of requests fail, /health passes) under a 5XX alarm and a watch: detection against its floor (alarm period × datapoints + one poll), restore',
    table(
      [
        'instances',
        'outcome',
        'detected after',
        'floor',
        'traffic back after breach',
        'failed requests (only while it served)',
      ],
      rows,
    ),
  ].join('\n');
}

/** A share as a percentage with one decimal. */
function percent(share: number): string {
  return `${(100 * share).toFixed(1)} %`;
}

/** The table of the canary comparison: the same bad build under red/black + watch and under a canary. */
export function renderComparison(results: SizeResult[], options: Pick<BenchOptions, 'timeScale'>): string {
  const compared = results.filter((r) => r.comparison);
  const first = compared[0]?.comparison as CanaryComparison;
  const rows = compared.flatMap((r) => {
    const c = r.comparison as CanaryComparison;
    return [c.redBlack, c.canary].map((d) => [
      String(r.size),
      d.strategy,
      d.exitCode === 1 && d.code === 'VerificationFailed' ? 'rolled back' : `exit ${d.exitCode} ${d.code ?? ''}`.trim(),
      `${d.failed} of ${d.requests}`,
      d.requests > 0 ? percent(d.failed / d.requests) : '-',
      percent(d.expectedShare),
      `${d.deployFailed} of ${d.deployRequests}`,
    ]);
  });
  return [
    `the same bad build (${percent(first.errorShare)} of requests fail, /health passes) under red/black + 5XX alarm + watch (${first.watchSeconds}s) and under a canary (steps of ${first.stepWatchSeconds}s), time scale ${options.timeScale}: failed while it served against traffic share × error share`,
    table(
      [
        'instances',
        'strategy',
        'outcome',
        'failed while it served',
        'failed share',
        'expected (share × errors)',
        'failed in the whole deploy',
      ],
      rows,
    ),
  ].join('\n');
}

/** One line: moto and bench CPU, refreshes by kind, the costliest moto reads, CloudWatch windows. */
export function formatSandboxCost(cost: NonNullable<SizeResult['sandboxCost']>): string {
  const entry = (kind: string): string => {
    const e = cost.costs[kind];
    return e ? `${e.count}/${seconds(e.ms)}s` : '0';
  };
  const reads = Object.entries(cost.costs)
    .filter(([kind]) => kind.startsWith('moto:'))
    .sort(([, a], [, b]) => b.ms - a.ms)
    .slice(0, 4)
    .map(([kind, e]) => `${kind.slice('moto:'.length)} ${e.count}/${seconds(e.ms)}s`);
  return [
    `moto CPU ${cost.motoCpuS ?? '?'}s`,
    `bench CPU ${cost.benchCpuS}s`,
    `full reads ${entry('refresh:full')}`,
    `partial reads ${entry('refresh:changes')}`,
    `reconcile ${entry('reconcile')}`,
    `cloudwatch windows ${entry('cloudwatch:window')}`,
    `gateway reads from cache ${cost.costs['read-cache:hit']?.count ?? 0} of ${(cost.costs['read-cache:hit']?.count ?? 0) + (cost.costs['read-cache:miss']?.count ?? 0)}`,
    `moto reads: ${reads.join(', ') || 'none'}`,
  ].join('; ');
}

export function render(
  results: SizeResult[],
  peers: PeerResult[],
  options: BenchOptions,
  coldStart: readonly ColdStartRow[],
): string {
  const out: string[] = [];
  const floor = floorOf(options);
  out.push(
    `red/black deploy benchmark — sandbox time scale ${options.timeScale}, boot ${options.bootSeconds}s, ` +
      `health check ${DEMO_HEALTH_CHECK.healthyThreshold}×${DEMO_HEALTH_CHECK.intervalSeconds}s, deregistration delay ${DEMO_HEALTH_CHECK.deregistrationDelaySeconds}s (AWS seconds)`,
  );
  out.push(
    `floor (scaled intrinsic delays): boot ${seconds(floor.bootMs)}s + healthy ${seconds(floor.healthyMs)}s = ${seconds(floor.totalMs)}s (the drain, ${seconds(floor.drainMs)}s, ends after the deploy returned)`,
  );
  out.push('');
  out.push(
    table(
      [
        'instances',
        'calls',
        'calls/inst',
        'gw calls',
        'healthy s',
        'true cutover ms',
        'self ms',
        'total s',
        'in API s',
        'floor s',
        'overhead s',
        'probe req',
        'failed',
        'loop p99/max ms',
        'status',
      ],
      results.map((r) => [
        rowLabel(r),
        r.totalCalls === undefined ? '-' : String(r.totalCalls),
        r.callsPerInstance === undefined ? '-' : r.callsPerInstance.toFixed(2),
        r.gatewayTotal === undefined ? '-' : String(r.gatewayTotal),
        seconds(r.timings?.healthyMs),
        r.trueCutoverMedianMs === undefined
          ? '-'
          : `${Math.round(r.trueCutoverMedianMs)} (${r.repeats.map((x) => (x.trueCutover ? String(x.trueCutover.ms) : '?')).join('/')})`,
        r.timings ? String(r.timings.cutoverLatencyMs) : '-',
        seconds(r.durationMs),
        seconds(r.callMsTotal),
        seconds(r.floor.totalMs),
        seconds(r.overheadMs),
        r.probe ? String(r.probe.total) : '-',
        r.probe ? String(r.probe.failed) : '-',
        r.eventLoopDelayMs ? `${r.eventLoopDelayMs.p99}/${r.eventLoopDelayMs.max}` : '-',
        r.ok ? 'ok' : `FAILED: ${r.error ?? '?'}`.slice(0, 80),
      ]),
    ),
  );
  out.push('');
  out.push(renderPeers(results, peers, options));
  const broken = results.filter((r) => r.broken);
  if (broken.length > 0 || peers.some((p) => p.broken)) {
    out.push('');
    out.push(renderBroken(results, peers, options));
  }
  out.push('');
  if (results.some((r) => r.watched)) {
    out.push(renderWatched(results));
    out.push('');
  }
  if (results.some((r) => r.comparison)) {
    out.push(renderComparison(results, options));
    out.push('');
  }
  out.push(
    coldStart.length > 0
      ? formatColdStartTable(coldStart)
      : 'cold start and bundle sizes: not measured (--cold-start-runs 0); npm run bench:cold-start',
  );
  const actions = [...new Set(results.flatMap((r) => Object.keys(r.calls ?? {})))].sort();
  if (actions.length > 0) {
    out.push('');
    out.push(
      'AWS calls of the measured deploy by action (deploy SDK counter; gateway attempts in brackets when they differ)',
    );
    const okResults = results.filter((r) => r.calls);
    const plain = okResults.filter((r) => !r.fleet);
    const smallest = plain[0];
    const largest = plain[plain.length - 1];
    out.push(
      table(
        ['action', ...okResults.map((r) => `n=${rowLabel(r)}`), 'growth'],
        actions.map((action) => {
          const gwKey = action.replace(/^elbv2:/, 'elasticloadbalancing:');
          const cells = okResults.map((r) => {
            const own = r.calls?.[action] ?? 0;
            const gw = r.gatewayCalls?.[gwKey];
            return gw !== undefined && gw !== own ? `${own} [${gw}]` : String(own);
          });
          const a = smallest?.calls?.[action] ?? 0;
          const b = largest?.calls?.[action] ?? 0;
          const growth = smallest && largest && smallest !== largest && a > 0 ? `×${(b / a).toFixed(1)}` : '';
          return [action, ...cells, growth];
        }),
      ),
    );
  }
  const timed = results.filter((r) => r.callMs);
  if (timed.length > 0) {
    out.push('');
    out.push('slowest actions (wall time inside the calls of the measured deploy)');
    for (const r of timed) {
      const top = Object.entries(r.callMs ?? {})
        .sort(([, a], [, b]) => b - a)
        .slice(0, 5)
        .map(([action, ms]) => `${action} ${seconds(ms)}s/${r.calls?.[action] ?? '?'}`);
      out.push(`  n=${rowLabel(r)}: ${top.join(', ')}`);
    }
  }
  const costed = results.filter((r) => r.sandboxCost);
  if (costed.length > 0) {
    out.push('');
    out.push(
      "the sandbox's own cost during the measured deploy (moto CPU, this process's CPU, world reads and the moto calls they made: count/seconds)",
    );
    for (const r of costed)
      out.push(`  n=${rowLabel(r)}: ${formatSandboxCost(r.sandboxCost as NonNullable<SizeResult['sandboxCost']>)}`);
  }
  const probes = results.filter((r) => r.probe);
  if (probes.length > 0) {
    out.push('');
    out.push('probe through the demo listener during the measured deploy');
    for (const r of probes) {
      const p = r.probe as NonNullable<SizeResult['probe']>;
      const versions = Object.entries(p.perVersion)
        .map(([v, n]) => `${v}:${n}`)
        .join(' ');
      const failures = Object.entries(p.failures)
        .map(([k, n]) => `${k}:${n}`)
        .join(' ');
      out.push(
        `  n=${rowLabel(r)}: ${p.total} requests, ${p.failed} failed${failures ? ` (${failures})` : ''}; answered by ${versions || 'nobody'}`,
      );
    }
  }
  return out.join('\n');
}

/** bluegreen beside the AWS CLI script, same sandbox settings, same probe. */
export function renderPeers(results: SizeResult[], peers: PeerResult[], options: BenchOptions): string {
  const rows: string[][] = [];
  for (const r of results.filter((x) => !x.fleet)) {
    rows.push([
      String(r.size),
      'bluegreen',
      seconds(r.durationMs),
      r.gatewayTotal === undefined ? '-' : String(r.gatewayTotal),
      r.probe ? String(r.probe.failed) : '-',
      r.trueCutoverMedianMs === undefined ? '-' : String(Math.round(r.trueCutoverMedianMs)),
      r.ok ? 'ok' : `FAILED: ${r.error ?? '?'}`.slice(0, 60),
    ]);
    const peer = peers.find((p) => p.size === r.size);
    if (peer) {
      rows.push([
        String(r.size),
        'aws-cli script',
        seconds(peer.durationMs),
        peer.gatewayTotal === undefined ? '-' : String(peer.gatewayTotal),
        peer.probe ? String(peer.probe.failed) : '-',
        '-',
        peer.ok ? 'ok' : `FAILED: ${peer.error ?? '?'}`.slice(0, 60),
      ]);
    }
  }
  return [
    `against peers: v1 → v2, a fresh sandbox per tool, the same probe (${options.probeConcurrency} in flight); bluegreen's time is the median of ${options.repeats}, the script's one run`,
    table(['instances', 'tool', 'wall s', 'AWS calls (gw)', 'failed req', 'true cutover ms', 'status'], rows),
  ].join('\n');
}

/** Time to give up on a broken build, against the load balancer's verdict, and what was left behind. */
export function renderBroken(results: SizeResult[], peers: PeerResult[], options: BenchOptions): string {
  const rows: string[][] = [];
  const row = (size: number, tool: string, b: BrokenResult): string[] => [
    String(size),
    tool,
    seconds(b.allUnhealthyMs),
    seconds(b.gaveUpMs),
    b.pastUnhealthyMs === undefined ? '-' : String(b.pastUnhealthyMs),
    b.deletedMs === undefined ? 'never' : seconds(b.deletedMs),
    String(b.exitCode),
    String(b.calls),
    String(b.probeFailed),
    b.leftInTargetGroup.map((name) => (name === b.group ? `${name} (broken)` : name)).join(' ') || '-',
  ];
  for (const r of results) {
    if (r.broken) rows.push(row(r.size, 'bluegreen', r.broken));
    const peer = peers.find((p) => p.size === r.size)?.broken;
    if (peer) rows.push(row(r.size, `aws-cli script (cap ${options.peerWaitCap}s)`, peer));
  }
  const floor = floorOf(options);
  // As src/deploy/health.ts polls once a verdict can be due: max(1 s, interval / 4), AWS seconds on the sandbox clock.
  const poll = Math.round(Math.max(1000, (DEMO_HEALTH_CHECK.intervalSeconds * 1000) / 4) * options.timeScale);
  return [
    `broken build (sandbox:health=fail), healthTimeout 10m; seconds from its CreateAutoScalingGroup. Floor: boot ${seconds(floor.bootMs)}s + unhealthy ` +
      `${DEMO_HEALTH_CHECK.unhealthyThreshold}×${DEMO_HEALTH_CHECK.intervalSeconds}s scaled = ` +
      `${seconds(floor.bootMs + DEMO_HEALTH_CHECK.unhealthyThreshold * DEMO_HEALTH_CHECK.intervalSeconds * options.timeScale * 1000)}s; a fast poll is ${poll} ms + its calls`,
    table(
      [
        'instances',
        'tool',
        'all unhealthy s',
        'gave up s',
        'past verdict ms',
        'deleted s',
        'exit',
        'AWS calls (gw)',
        'failed req',
        'left in target group',
      ],
      rows,
    ),
  ].join('\n');
}
