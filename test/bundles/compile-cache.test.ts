import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_FILE_MAX_AGE_MS } from '../../src/core/compile-cache';
import { sandboxClients } from '../../src/sandbox/sandbox';
import { createNetwork, createServerGroup, someAmi } from '../helpers/cluster-fixture';
import { emulatorEnv, startMoto, type MotoServer } from '../helpers/moto';
import { bundlePath } from '../helpers/run-stage';

// The committed status bundle's compile cache, as a Jenkins agent runs it: the bundle alone in a folder
// (the workspace), a real first call against moto (so the embedded AWS SDK is compiled too), and a temp
// dir of the test's own (TMPDIR) for the cache. NODE_DEBUG=bluegreen makes the loader say what it did.
const region = 'us-east-1';
const CLUSTER = 'cache-prod';
/** A cluster as bluegreen deploys leave it (our AMI tag): its status makes no EC2 call. */
const MADE_CLUSTER = 'cache-made';
let moto: MotoServer;
let env: Record<string, string>;

test.before(async () => {
  moto = await startMoto();
  const aws = sandboxClients(moto.endpoint, region);
  const network = await createNetwork(aws);
  const amiId = await someAmi(aws);
  await createServerGroup(aws, network, { name: `${CLUSTER}-v001`, cluster: CLUSTER, amiId, desired: 1 });
  await createServerGroup(aws, network, {
    name: `${MADE_CLUSTER}-v001`,
    cluster: MADE_CLUSTER,
    amiId,
    desired: 1,
    deploymentId: 'cache-test',
  });
  env = { ...emulatorEnv(moto.endpoint, region), NODE_DEBUG: 'bluegreen' };
});

test.after.always(async () => {
  await moto?.stop();
});

/** A workspace holding only the status bundle, and a temp dir of its own. */
function agent(): { workspace: string; temp: string; cacheDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'compile-cache-'));
  const workspace = join(root, 'workspace');
  const temp = join(root, 'tmp');
  mkdirSync(workspace);
  mkdirSync(temp);
  copyFileSync(bundlePath('status'), join(workspace, 'status.js'));
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return { workspace, temp, cacheDir: join(temp, `bluegreen-compile-cache-${uid}`) };
}

/** Runs the status bundle's first call in `workspace` with `temp` as the temp dir; checks it succeeded. */
function firstCall(
  t: ExecutionContext,
  where: { workspace: string; temp: string },
  extraEnv: Record<string, string> = {},
  cluster = CLUSTER,
): string {
  const run = spawnSync(process.execPath, ['status.js', '--cluster', cluster, '--output', 'status.json'], {
    cwd: where.workspace,
    env: { ...process.env, ...env, TMPDIR: where.temp, ...extraEnv },
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.is(run.status, 0, run.stderr);
  const output = JSON.parse(readFileSync(join(where.workspace, 'status.json'), 'utf8'));
  t.deepEqual(
    output.serverGroups.map((group: { name: string }) => group.name),
    [`${cluster}-v001`],
  );
  return run.stderr;
}

/** The loader's debug lines about the cache: `hit main`, `miss aws-sdk`, … */
function cacheEvents(stderr: string): string[] {
  return [...stderr.matchAll(/compile cache (hit|miss|rejected|written|off): \S*?(main|aws-sdk)-[0-9a-f]{16}/g)]
    .map((m) => `${m[1]} ${m[2]}`)
    .sort();
}

function cacheFiles(cacheDir: string): string[] {
  return existsSync(cacheDir) ? readdirSync(cacheDir).sort() : [];
}

test.serial('the first call writes the cache to the temp dir, never the workspace; the next call uses it', (t) => {
  const where = agent();
  const first = firstCall(t, where);
  t.deepEqual(cacheEvents(first), ['miss aws-sdk', 'miss main', 'written aws-sdk', 'written main']);
  t.is(statSync(where.cacheDir).mode & 0o777, 0o700, 'only its user may read or write the cache');
  const files = cacheFiles(where.cacheDir);
  t.is(files.length, 2, files.join(', '));
  for (const file of files) {
    t.true(file.endsWith(`-${process.version}-${process.arch}.v8cache`), file);
    t.is(statSync(join(where.cacheDir, file)).mode & 0o777, 0o600, file);
  }
  t.deepEqual(readdirSync(where.workspace).sort(), ['status.js', 'status.json'], 'nothing new in the workspace');

  const second = firstCall(t, where);
  t.deepEqual(cacheEvents(second), ['hit aws-sdk', 'hit main']);
  t.deepEqual(cacheFiles(where.cacheDir), files);
});

test.serial('a cache written by a --help run is widened once by the first real call, then only used', (t) => {
  const where = agent();
  const help = spawnSync(process.execPath, ['status.js', '--help'], {
    cwd: where.workspace,
    env: { ...process.env, NODE_DEBUG: 'bluegreen', TMPDIR: where.temp },
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.is(help.status, 0, help.stderr);
  t.deepEqual(cacheEvents(help.stderr), ['miss main', 'written main']);
  // The --help run's cache lacks the code of the run path: the first real call writes main's cache again, with it.
  t.deepEqual(cacheEvents(firstCall(t, where)), ['hit main', 'miss aws-sdk', 'written aws-sdk', 'written main']);
  t.deepEqual(cacheEvents(firstCall(t, where)), ['hit aws-sdk', 'hit main']);
});

test.serial('a call that runs SDK code the cache lacks (EC2, after a status with none) widens it once', (t) => {
  const where = agent();
  t.deepEqual(cacheEvents(firstCall(t, where, {}, MADE_CLUSTER)), [
    'miss aws-sdk',
    'miss main',
    'written aws-sdk',
    'written main',
  ]);
  // The groups without our AMI tag are read through EC2, whose client code the first call never ran.
  t.deepEqual(cacheEvents(firstCall(t, where)), ['hit aws-sdk', 'hit main', 'written aws-sdk', 'written main']);
  t.deepEqual(cacheEvents(firstCall(t, where)), ['hit aws-sdk', 'hit main']);
  t.deepEqual(cacheEvents(firstCall(t, where, {}, MADE_CLUSTER)), ['hit aws-sdk', 'hit main']);
});

test.serial('a corrupt or empty cache file is ignored and written again', (t) => {
  const where = agent();
  firstCall(t, where);
  const [sdk, main] = cacheFiles(where.cacheDir).map((file) => join(where.cacheDir, file)) as [string, string];
  // Same length, other bytes (V8 checks its own header and checksum), and an empty one.
  const garbage = Buffer.alloc(statSync(sdk).size, 0x5a);
  writeFileSync(sdk, garbage);
  writeFileSync(main, '');
  const run = firstCall(t, where);
  t.deepEqual(cacheEvents(run), ['rejected aws-sdk', 'rejected main', 'written aws-sdk', 'written main']);
  t.false(readFileSync(sdk).equals(garbage), 'the corrupt file was replaced');
  t.true(statSync(main).size > 0);
  t.deepEqual(cacheEvents(firstCall(t, where)), ['hit aws-sdk', 'hit main']);
});

test.serial('NODE_DISABLE_COMPILE_CACHE turns the cache off: nothing read, nothing written', (t) => {
  const where = agent();
  const run = firstCall(t, where, { NODE_DISABLE_COMPILE_CACHE: '1' });
  t.deepEqual(cacheEvents(run), ['off aws-sdk', 'off main']);
  t.false(existsSync(where.cacheDir));
});

test.serial('a cache dir others may write is not used; a cache file that is a symlink is not followed', (t) => {
  const shared = agent();
  mkdirSync(shared.cacheDir, { mode: 0o700 });
  chmodSync(shared.cacheDir, 0o777);
  t.deepEqual(cacheEvents(firstCall(t, shared)), ['off aws-sdk', 'off main']);
  t.deepEqual(cacheFiles(shared.cacheDir), []);

  const linked = agent();
  firstCall(t, linked);
  const main = join(
    linked.cacheDir,
    cacheFiles(linked.cacheDir).find((file) => file.startsWith('bluegreen_main-')) as string,
  );
  // A symlink to a good cache (of the same code): still not read, and replaced by a file of our own.
  const elsewhere = join(linked.temp, 'elsewhere.v8cache');
  copyFileSync(main, elsewhere);
  const planted = readFileSync(elsewhere);
  spawnSync('rm', [main]);
  symlinkSync(elsewhere, main);
  const events = cacheEvents(firstCall(t, linked));
  t.true(events.includes('miss main'), events.join(', '));
  t.true(events.includes('hit aws-sdk'), events.join(', '));
  t.false(lstatSync(main).isSymbolicLink(), 'the link was replaced, not written through');
  t.true(readFileSync(elsewhere).equals(planted), 'what the link pointed at is unchanged');
});

test.serial(
  'a temp dir that does not exist or cannot hold one (inside /proc) means no cache, and the run goes on',
  (t) => {
    const where = agent();
    for (const temp of [
      join(where.temp, 'missing'),
      ...(process.platform === 'linux' ? ['/proc/bluegreen-none'] : []),
    ]) {
      t.deepEqual(cacheEvents(firstCall(t, { workspace: where.workspace, temp })), ['off aws-sdk', 'off main'], temp);
      t.false(existsSync(temp), `${temp} was not created`);
    }
  },
);

test.serial('writing a cache file removes the cache files older than the max age, and nothing else', (t) => {
  const where = agent();
  firstCall(t, where);
  const current = cacheFiles(where.cacheDir);
  const past = (Date.now() - CACHE_FILE_MAX_AGE_MS - 24 * 3600 * 1000) / 1000;
  const plant = (name: string, old: boolean) => {
    writeFileSync(join(where.cacheDir, name), 'x');
    if (old) utimesSync(join(where.cacheDir, name), past, past);
  };
  plant('bluegreen_main-0000000000000000.js-v20.0.0-x64.v8cache', true);
  plant('.123-abc.tmp', true);
  plant('bluegreen_main-1111111111111111.js-v20.0.0-x64.v8cache', false);
  plant('notes.txt', true);
  // A cache file of this run that is damaged: the run writes it again, and prunes.
  writeFileSync(join(where.cacheDir, current.find((file) => file.startsWith('bluegreen_main-')) as string), '');
  const events = cacheEvents(firstCall(t, where));
  t.true(events.includes('written main'), events.join(', '));
  t.deepEqual(
    cacheFiles(where.cacheDir),
    [...current, 'bluegreen_main-1111111111111111.js-v20.0.0-x64.v8cache', 'notes.txt'].sort(),
  );
});
