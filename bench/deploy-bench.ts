/**
 * `npm run bench`: red/black deploy benchmark on the sandbox (issue 4).
 *
 * For each cluster size: a fresh sandbox (moto + traffic layer, demo infra,
 * scaled time), a first deploy (v1), then the measured red/black deploy (v2)
 * with the traffic probe running through the demo listener. Reports AWS calls
 * by action, calls per instance, cutover latency, total time against the
 * sandbox's intrinsic delays (the floor a perfect deploy could reach), and the
 * probe's totals. Table on stdout, JSON in bench/results/.
 *
 * Bounded: every size has a deadline; the sandbox is stopped at the end of
 * each size, on failure, at the deadline and on SIGINT/SIGTERM. Only 127.0.0.1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeError } from '../src/core/errors';
import { createLogger } from '../src/core/log';
import { DEMO_HEALTH_CHECK } from '../src/sandbox/demo-infra';
import { formatColdStartTable, measureColdStart, type ColdStartRow } from './cold-start';
import { renderAwsTimings, runAwsTimings, type AwsTimingsOptions, type AwsTimingsRow } from './scenarios/aws-timings';
import { stopActiveRow } from './rows';
import { findAwsCliV2 } from '../test/helpers/aws-cli';
import { type BenchOptions, PeerResult, SizeResult } from './results';
import { runSize } from './scenarios/scaled';
import { runPeer } from './scenarios/peer';
import { renderRegions, runRegions, type RegionsResult } from './scenarios/regions';
import { render } from './tables';

function parseArgs(argv: string[]): BenchOptions {
  const parsed = yargs(argv)
    .scriptName('npm run bench --')
    .usage('$0 [--sizes 2,20,200] [--time-scale 0.05]')
    .options({
      sizes: { type: 'string', default: '2,20,200', describe: 'Cluster sizes (instances), comma-separated' },
      repeats: { type: 'number', default: 3, describe: 'Measured deploys per size (medians over them)' },
      'broken-sizes': {
        type: 'string',
        default: '2,20',
        describe: 'Sizes that also deploy a broken build (health check fails)',
      },
      'peer-sizes': { type: 'string', default: '2,20', describe: 'Sizes that also run the AWS CLI peer script' },
      'fleet-sizes': {
        type: 'string',
        default: '2,200',
        describe:
          'Sizes measured again with the serving group a fleet (mixed instances policy, warm pool); "" for none',
      },
      'peer-wait-cap': {
        type: 'number',
        default: 30,
        describe: 'Real seconds the peer waits on a broken build before giving up',
      },
      'watch-sizes': {
        type: 'string',
        default: '2',
        describe: 'Sizes that also deploy a bad build (50 % of requests fail) caught by the watch; "" for none',
      },
      'canary-sizes': {
        type: 'string',
        default: '2',
        describe:
          'Sizes that also deploy one bad build (20 % of requests fail) under red/black + watch and under a canary [10, 100]; "" for none',
      },
      'cold-start-runs': {
        type: 'number',
        default: 10,
        describe: 'Runs per command of the cold-start and bundle-size table (0: skip it)',
      },
      'time-scale': { type: 'number', default: 0.05, describe: 'Sandbox time scale (1 = AWS-like delays)' },
      scaled: { type: 'boolean', default: true, describe: 'The rows at --time-scale (--no-scaled: skip them)' },
      'aws-timings': {
        type: 'boolean',
        default: false,
        describe: 'Also the rows at time scale 1 (bluegreen and the AWS CLI peer, ~3 min each; on in `npm run bench`)',
      },
      'aws-timings-instances': { type: 'number', default: 2, describe: 'Instances of the AWS-timings rows' },
      'two-regions': {
        type: 'boolean',
        default: true,
        describe: 'The two-region row: a rollout in two waves (and in one) against two single-region deploys',
      },
      'boot-seconds': { type: 'number', default: 10, describe: 'Instance boot time in AWS seconds (before scaling)' },
      'probe-concurrency': { type: 'number', default: 4, describe: 'Probe requests in flight' },
      deadline: { type: 'number', describe: 'Real seconds allowed per size (default: 120 + 3 × size)' },
      verbose: { type: 'boolean', default: false, describe: 'Show the deploy logs on stderr' },
      'out-dir': { type: 'string', default: join(__dirname, 'results'), describe: 'Where the JSON results go' },
    })
    .strict()
    .help()
    .parseSync();
  const list = (value: unknown): number[] =>
    String(value)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number);
  const sizes = list(parsed.sizes);
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
    throw new Error(`--sizes must be integers between 1 and 1000 (got ${parsed.sizes})`);
  }
  const timeScale = parsed['time-scale'];
  if (!(timeScale > 0 && timeScale <= 1)) throw new Error(`--time-scale must be in (0, 1] (got ${timeScale})`);
  return {
    sizes,
    repeats: Math.max(1, Math.floor(parsed.repeats)),
    brokenSizes: list(parsed['broken-sizes']).filter((n) => sizes.includes(n)),
    peerSizes: list(parsed['peer-sizes']).filter((n) => sizes.includes(n)),
    fleetSizes: list(parsed['fleet-sizes']).filter((n) => sizes.includes(n)),
    peerWaitCap: Math.max(1, parsed['peer-wait-cap']),
    coldStartRuns: Math.max(0, Math.floor(parsed['cold-start-runs'])),
    scaled: parsed.scaled,
    awsTimings: parsed['aws-timings'],
    awsTimingsInstances: Math.max(1, Math.floor(parsed['aws-timings-instances'])),
    twoRegions: parsed['two-regions'],
    watchSizes: String(parsed['watch-sizes'])
      .split(',')
      .map((x) => Number(x.trim()))
      .filter((n) => Number.isInteger(n) && n > 0),
    canarySizes: list(parsed['canary-sizes']).filter((n) => sizes.includes(n)),
    timeScale,
    bootSeconds: parsed['boot-seconds'],
    probeConcurrency: Math.max(1, Math.floor(parsed['probe-concurrency'])),
    deadlineSeconds: parsed.deadline,
    verbose: parsed.verbose,
    outDir: parsed['out-dir'],
  };
}

async function main(): Promise<number> {
  const options = parseArgs(hideBin(process.argv));
  const log = options.verbose
    ? createLogger('bench')
    : createLogger('bench', (line) => {
        // Without --verbose only the bench's own lines and errors: deploy logs at 200 instances are long.
        if (line.includes('[bench]') || / ERROR /.test(line)) process.stderr.write(`${line}\n`);
      });
  // Poll like on AWS, on the sandbox's clock: 1 s growing to 10 s, scaled.
  process.env.BLUEGREEN_POLL_MIN_MS = String(Math.max(10, Math.round(1000 * options.timeScale)));
  process.env.BLUEGREEN_POLL_MAX_MS = String(Math.max(20, Math.round(10_000 * options.timeScale)));
  // AWS-declared durations (health check interval, grace period) on the sandbox clock, as the sandbox's env() sets it.
  process.env.BLUEGREEN_TIME_SCALE = String(options.timeScale);
  // The SDK would print its Node-version warning per client: once is enough, on stderr.
  process.removeAllListeners('warning');
  process.on('warning', () => undefined);

  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the sandbox…\n`);
    void (async () => {
      await stopActiveRow();
      process.exit(130);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = new Date();
  const results: SizeResult[] = [];
  for (const size of options.scaled ? options.sizes : []) {
    log.info(`size ${size}: starting a sandbox (time scale ${options.timeScale})`);
    const t = Date.now();
    const result = await runSize(size, options, log);
    results.push(result);
    log.info(`size ${size}: ${result.ok ? 'done' : 'FAILED'} in ${((Date.now() - t) / 1000).toFixed(1)}s`);
    if (!options.fleetSizes.includes(size)) continue;
    log.info(
      `size ${size} fleet: the same on a fresh sandbox, the serving group a mixed instances fleet with a warm pool`,
    );
    const tf = Date.now();
    const fleet = await runSize(size, options, log, { fleet: true });
    results.push(fleet);
    log.info(`size ${size} fleet: ${fleet.ok ? 'done' : 'FAILED'} in ${((Date.now() - tf) / 1000).toFixed(1)}s`);
  }
  const peers: PeerResult[] = [];
  const awsCli = findAwsCliV2() !== undefined;
  if (!awsCli && options.peerSizes.length > 0)
    log.info('no AWS CLI v2 found (bash scripts/setup.sh installs it): the peer rows are skipped');
  for (const size of awsCli && options.scaled ? options.peerSizes : []) {
    log.info(`peer size ${size}: the AWS CLI script on a fresh sandbox`);
    const t = Date.now();
    const peer = await runPeer(size, options, log);
    peers.push(peer);
    log.info(`peer size ${size}: ${peer.ok ? 'done' : 'FAILED'} in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  }
  const awsTimingsOptions: AwsTimingsOptions = {
    instances: options.awsTimingsInstances,
    bootSeconds: options.bootSeconds,
    slowRequestMs: 2_000,
    longRequestMs: Math.round(DEMO_HEALTH_CHECK.deregistrationDelaySeconds * 1000 * 0.8),
    cutoverRepeats: 3,
    verbose: options.verbose,
  };
  let awsTimings: AwsTimingsRow[] = [];
  if (options.awsTimings) {
    log.info('at AWS timings (time scale 1): bluegreen, then the AWS CLI peer, each on a fresh sandbox');
    awsTimings = await runAwsTimings(awsTimingsOptions, log, awsCli);
  }
  let regions: RegionsResult | undefined;
  if (options.twoRegions) {
    log.info(
      `two regions: rollouts against single-region deploys on a fresh sandbox (time scale ${options.timeScale})`,
    );
    regions = await runRegions(options, log);
  }
  let coldStart: ColdStartRow[] = [];
  if (options.coldStartRuns > 0) {
    log.info(`cold start: every bundle alone in an empty folder, median of ${options.coldStartRuns} runs`);
    coldStart = await measureColdStart({ runs: options.coldStartRuns });
  }
  const text = [
    ...(options.scaled ? [render(results, peers, options, coldStart)] : []),
    ...(awsTimings.length > 0 ? [renderAwsTimings(awsTimings, awsTimingsOptions)] : []),
    ...(regions ? [renderRegions(regions, options.timeScale)] : []),
    ...(!options.scaled && coldStart.length > 0 ? [formatColdStartTable(coldStart)] : []),
  ].join('\n\n');
  process.stdout.write(`\n${text}\n`);
  mkdirSync(options.outDir, { recursive: true });
  const file = join(options.outDir, `deploy-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const document = {
    benchmark: 'deploy',
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version, platform: process.platform },
    options: {
      ...options,
      pollMinMs: Number(process.env.BLUEGREEN_POLL_MIN_MS),
      pollMaxMs: Number(process.env.BLUEGREEN_POLL_MAX_MS),
    },
    healthCheck: DEMO_HEALTH_CHECK,
    callCounting:
      "calls: the measured deploy's own SDK call counter (src/aws/call-counter.ts; one per logical call, retries excluded). " +
      "gatewayCalls: the sandbox gateway's counts for the same window (every HTTP attempt; only the deploy talks to the gateway then).",
    results,
    peers,
    awsTimings,
    regions,
  };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`\nresults: ${relative(process.cwd(), file)}\n`);
  return results.every((r) => r.ok) &&
    peers.every((p) => p.ok) &&
    awsTimings.every((r) => r.ok) &&
    (regions?.ok ?? true)
    ? 0
    : 1;
}

// Exit explicitly: a deploy cut off by a deadline may still hold timers (lock renewal, retries) against a stopped sandbox.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${describeError(error)}\n`);
    process.exit(2);
  },
);
