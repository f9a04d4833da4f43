/**
 * Cold start and size of the stage bundles (issue 13): for each Node binary,
 * each committed bundle copied alone into an empty folder (so nothing from
 * node_modules helps), median wall time of `node <stage>.js --help`, of a real
 * first call (`status` of a two-group cluster as two bluegreen deploys leave
 * it, on a local moto_server), and of `aws --version` (AWS CLI v2) in the same
 * run, and their ratios. The guard: `--help` ≤ 0.4× `aws --version`, bundle
 * ≤ 1.5 MB (issue 21; the first call is shown against it, not judged). Also
 * the status of two groups bluegreen did not make (their AMIs read from their
 * launch templates: two calls more), and, on a Node with a module compile
 * cache (≥ 22.1), the first call with it on (`NODE_COMPILE_CACHE`, as an agent
 * may set it; the bundles turn nothing on themselves). Prints a table; asserts nothing.
 *
 * `NODE_EXTRA_CA_CERTS`, when set here, is left out of the measured commands:
 * Node 20 reads and parses that file before any script runs (Node 22 and 24
 * showed no start cost for it here), a cost of the agent's setting, the same
 * for any Node program; the table's notes give it, measured (`node -e 0` and
 * the status first call with it).
 *
 *   npm run bench:cold-start -- [--runs 10] [--node /path/to/node …]
 *
 * The commands run round-robin (one run of each, then again), so a load spike
 * on the shared machine hits all of them alike. Warm-up runs come first: they
 * also fill Node's compile cache for the `node cache` column.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createAwsClients } from '../src/aws/clients';
import { formatTable } from '../src/core/table';
import { startMotoProcess } from '../src/sandbox/moto-process';
import { createNetwork, createServerGroup, someAmi } from '../test/helpers/cluster-fixture';
import { findAwsCliV2 } from '../test/helpers/aws-cli';
import { emulatorEnv } from '../test/helpers/moto';

/** The guard of issue 21: `--help` against `aws --version`, and the bundle size of issue 13. */
export const COLD_START_TARGETS = { maxHelpRatioToAwsVersion: 0.4, maxBundleBytes: 1.5 * 1024 * 1024 } as const;

const BUNDLE_DIR = join(__dirname, '..', 'resources', 'bluegreen');
/** Bound per command run: a hung process must not hang the benchmark. */
const RUN_TIMEOUT_MS = 60_000;

/** One bundle's row for one Node binary. */
export interface ColdStartRow {
  node: string;
  bundle: string;
  bytes: number;
  helpMs: number;
  /** Only for `status`: a real call against moto. */
  firstCallMs?: number;
  /** The same first call with Node's compile cache on (`NODE_COMPILE_CACHE`); undefined on a Node without one. */
  firstCallNodeCacheMs?: number;
  /** `status` of two groups not made by bluegreen (no AMI tag: one launch template read each). */
  foreignCallMs?: number;
  /** Median of `aws --version` in the same run; undefined when the AWS CLI is not installed. */
  awsVersionMs: number | undefined;
  /** Median of `node -e 0` in the same run: the floor of any Node program. */
  bareNodeMs: number;
  /** Median of `node -e 0` with this machine's `NODE_EXTRA_CA_CERTS`; undefined when it is not set. */
  bareNodeWithCaMs?: number;
  /** Only for `status`: the first call with this machine's `NODE_EXTRA_CA_CERTS`; undefined when it is not set. */
  firstCallWithCaMs?: number;
}

/** The variable that the measured commands run without (see the file's comment). */
const EXTRA_CA_CERTS = 'NODE_EXTRA_CA_CERTS';

/** Options of {@link measureColdStart}. */
export interface ColdStartOptions {
  /** Node binaries to measure (default: the one running this). */
  nodes?: string[];
  /** Measured runs per command (≥ 10 for a median worth reading). */
  runs?: number;
  warmupRuns?: number;
  /** Where the bundles are (default: the committed ones, `resources/bluegreen`), e.g. an older build to compare. */
  bundleDir?: string;
  /** Bundles to measure (default: every `*.js` there). */
  bundles?: string[];
}

interface Command {
  key: string;
  file: string;
  args: string[];
  env?: Record<string, string>;
}

/** One run of a command: its wall ms, or an error naming what went wrong. */
function runOnce(command: Command): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    // Not spawnSync: this process must keep reading moto's log pipe meanwhile, or moto blocks writing to it.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env[EXTRA_CA_CERTS];
    const child = spawn(command.file, command.args, {
      env: { ...env, ...command.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else
        reject(
          new Error(
            `${command.key} (${command.args.join(' ')}) exited ${code ?? signal}: ${stderr.trim().slice(-500)}`,
          ),
        );
    });
  });
}

/** Median wall ms of each command, run round-robin; throws when a run fails. */
async function medians(commands: Command[], runs: number, warmupRuns: number): Promise<Map<string, number>> {
  const samples = new Map<string, number[]>(commands.map((c) => [c.key, []]));
  for (let round = 0; round < warmupRuns + runs; round += 1) {
    for (const command of commands) {
      const ms = await runOnce(command);
      if (round >= warmupRuns) samples.get(command.key)?.push(ms);
    }
  }
  return new Map([...samples].map(([key, values]) => [key, median(values)]));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function nodeVersion(node: string): string {
  return spawnSync(node, ['--version'], { timeout: RUN_TIMEOUT_MS }).stdout.toString().trim();
}

/** Whether `node` has a module compile cache (`module.enableCompileCache`, Node ≥ 22.1). */
function hasCompileCache(node: string): boolean {
  const probe = "process.stdout.write(typeof require('node:module').enableCompileCache)";
  return spawnSync(node, ['-e', probe], { timeout: RUN_TIMEOUT_MS }).stdout?.toString() === 'function';
}

/** Measures every bundle on every Node binary; starts (and stops) its own moto_server for the first call. */
export async function measureColdStart(options: ColdStartOptions = {}): Promise<ColdStartRow[]> {
  const nodes = options.nodes ?? [process.execPath];
  const runs = options.runs ?? 10;
  const warmupRuns = options.warmupRuns ?? 2;
  const bundleDir = options.bundleDir ?? BUNDLE_DIR;
  const bundles =
    options.bundles ??
    readdirSync(bundleDir)
      .filter((f) => f.endsWith('.js'))
      .map((f) => f.replace(/\.js$/, ''))
      .sort();
  const moto = await startMotoProcess();
  const dirs: string[] = [];
  try {
    const aws = createAwsClients('us-east-1', {
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const network = await createNetwork(aws);
    const amiId = await someAmi(aws);
    // As two deploys leave a cluster (tagged with their deployment and AMI), and two groups of another tool's.
    for (const [sequence, desired] of [
      ['001', 1],
      ['002', 2],
    ] as const) {
      const deploymentId = `cold-start-${sequence}`;
      await createServerGroup(aws, network, {
        name: `web-prod-v${sequence}`,
        cluster: 'web-prod',
        amiId,
        desired,
        deploymentId,
      });
      await createServerGroup(aws, network, { name: `legacy-v${sequence}`, cluster: 'legacy', amiId, desired });
    }

    // Each bundle alone in its own empty folder.
    const copies = new Map<string, string>();
    for (const bundle of bundles) {
      const dir = mkdtempSync(join(tmpdir(), `cold-start-${bundle}-`));
      dirs.push(dir);
      copies.set(bundle, join(dir, `${bundle}.js`));
      copyFileSync(join(bundleDir, `${bundle}.js`), join(dir, `${bundle}.js`));
    }
    const outputDir = mkdtempSync(join(tmpdir(), 'cold-start-out-'));
    dirs.push(outputDir);
    // Node's compile cache of the run's own, empty at first (the warm-up runs fill it).
    const compileCache = mkdtempSync(join(tmpdir(), 'cold-start-cache-'));
    dirs.push(compileCache);
    const env = emulatorEnv(moto.endpoint);
    const awsCli = findAwsCliV2();

    const rows: ColdStartRow[] = [];
    for (const node of nodes) {
      const commands: Command[] = [{ key: 'bare', file: node, args: ['-e', '0'] }];
      const extraCaCerts = process.env[EXTRA_CA_CERTS];
      if (extraCaCerts)
        commands.push({ key: 'bare-ca', file: node, args: ['-e', '0'], env: { [EXTRA_CA_CERTS]: extraCaCerts } });
      if (awsCli) commands.push({ key: 'aws', file: awsCli, args: ['--version'] });
      for (const [bundle, path] of copies) commands.push({ key: `help:${bundle}`, file: node, args: [path, '--help'] });
      const status = copies.get('status');
      if (status) {
        const args = (cluster: string) => [status, '--cluster', cluster, '--output', join(outputDir, 'status.json')];
        commands.push({ key: 'first', file: node, args: args('web-prod'), env });
        commands.push({ key: 'first-foreign', file: node, args: args('legacy'), env });
        if (extraCaCerts)
          commands.push({
            key: 'first-ca',
            file: node,
            args: args('web-prod'),
            env: { ...env, [EXTRA_CA_CERTS]: extraCaCerts },
          });
        if (hasCompileCache(node))
          commands.push({
            key: 'first-node-cache',
            file: node,
            args: args('web-prod'),
            env: { ...env, NODE_COMPILE_CACHE: compileCache },
          });
      }
      const times = await medians(commands, runs, warmupRuns);
      const version = nodeVersion(node);
      for (const [bundle, path] of copies) {
        rows.push({
          node: version,
          bundle,
          bytes: statSync(path).size,
          helpMs: times.get(`help:${bundle}`) as number,
          firstCallMs: bundle === 'status' ? times.get('first') : undefined,
          firstCallNodeCacheMs: bundle === 'status' ? times.get('first-node-cache') : undefined,
          foreignCallMs: bundle === 'status' ? times.get('first-foreign') : undefined,
          awsVersionMs: times.get('aws'),
          bareNodeMs: times.get('bare') as number,
          bareNodeWithCaMs: times.get('bare-ca'),
          firstCallWithCaMs: bundle === 'status' ? times.get('first-ca') : undefined,
        });
      }
    }
    return rows;
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await moto.stop();
  }
}

const ms = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(0)} ms`);
const ratio = (value: number | undefined, awsMs: number | undefined) =>
  value === undefined || awsMs === undefined ? '-' : `${(value / awsMs).toFixed(2)}×`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

/** The table: one row per Node binary and bundle, with the targets' verdict; then its notes. */
export function formatColdStartTable(rows: readonly ColdStartRow[]): string {
  return [coldStartTable(rows), ...coldStartNotes(rows)].join('\n');
}

/** What the table leaves out: the measured cost of this machine's `NODE_EXTRA_CA_CERTS` per Node. */
function coldStartNotes(rows: readonly ColdStartRow[]): string[] {
  // One row per Node: its status row when there is one (it has the first call).
  const perNode = new Map<string, ColdStartRow>();
  for (const row of rows) if (!perNode.has(row.node) || row.bundle === 'status') perNode.set(row.node, row);
  const withCa = [...perNode.values()].filter((row) => row.bareNodeWithCaMs !== undefined);
  if (withCa.length === 0) return [];
  const signed = (value: number) => `${value >= 0 ? '+' : '−'}${ms(Math.abs(value))}`;
  const costs = withCa.map((row) => {
    const bare = `node -e 0 ${ms(row.bareNodeMs)} → ${ms(row.bareNodeWithCaMs)} (${signed((row.bareNodeWithCaMs as number) - row.bareNodeMs)})`;
    const first =
      row.firstCallWithCaMs === undefined || row.firstCallMs === undefined
        ? ''
        : `, status first call ${ms(row.firstCallMs)} → ${ms(row.firstCallWithCaMs)} (${ratio(row.firstCallWithCaMs, row.awsVersionMs)})`;
    return `${row.node} ${bare}${first}`;
  });
  return [`${EXTRA_CA_CERTS} is set on this machine; the rows above run without it. With it: ${costs.join('; ')}.`];
}

function coldStartTable(rows: readonly ColdStartRow[]): string {
  const verdict = (row: ColdStartRow) => {
    const helpRatio = row.helpMs / (row.awsVersionMs ?? Number.NaN);
    const problems = [
      row.bytes > COLD_START_TARGETS.maxBundleBytes ? 'size' : '',
      helpRatio > COLD_START_TARGETS.maxHelpRatioToAwsVersion ? 'help ratio' : '',
    ].filter(Boolean);
    return row.awsVersionMs === undefined ? 'no aws cli' : problems.length ? `over: ${problems.join(', ')}` : 'ok';
  };
  return formatTable(
    [
      'node',
      'bundle',
      'size',
      '--help',
      'first call',
      'node cache',
      'foreign',
      'aws --version',
      'node -e 0',
      'help/aws',
      'first/aws',
      'target',
    ],
    rows.map((row) => [
      row.node,
      row.bundle,
      mb(row.bytes),
      ms(row.helpMs),
      ms(row.firstCallMs),
      ms(row.firstCallNodeCacheMs),
      ms(row.foreignCallMs),
      ms(row.awsVersionMs),
      ms(row.bareNodeMs),
      ratio(row.helpMs, row.awsVersionMs),
      ratio(row.firstCallMs, row.awsVersionMs),
      verdict(row),
    ]),
  );
}

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .option('runs', { type: 'number', default: 10, describe: 'measured runs per command' })
    .option('node', { type: 'string', array: true, describe: 'Node binaries to measure (default: this one)' })
    .option('bundle-dir', {
      type: 'string',
      describe: 'Measure the bundles in this folder instead of resources/bluegreen',
    })
    .strict()
    .parseAsync();
  const rows = await measureColdStart({
    runs: argv.runs,
    nodes: argv.node?.length ? argv.node : undefined,
    bundleDir: argv.bundleDir,
  });
  console.log(
    `cold start, median of ${argv.runs} runs each (bundle alone in an empty folder; guard: --help ≤ ${COLD_START_TARGETS.maxHelpRatioToAwsVersion}× aws --version, ≤ ${mb(COLD_START_TARGETS.maxBundleBytes)})`,
  );
  console.log(formatColdStartTable(rows));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
