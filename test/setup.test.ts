import test from 'ava';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// scripts/setup.sh in --check mode (it installs nothing): what it finds missing and the one command it prints.
const root = join(__dirname, '..');
const dirs: string[] = [];
test.after.always(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'setup-test-'));
  dirs.push(dir);
  return dir;
}

/** A PATH folder holding every program of the current PATH except `without`. */
function pathWithout(without: string): string {
  const dir = tempDir();
  for (const folder of (process.env.PATH ?? '').split(':').filter(Boolean).reverse()) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name === without) continue;
      rmSync(join(dir, name), { force: true });
      symlinkSync(join(folder, name), join(dir, name));
    }
  }
  return dir;
}

/** A copy of the repository's set-up inputs: the script, package-lock.json and an installed lock as given. */
function projectCopy(installed: Record<string, unknown> | undefined, installedOlder: boolean): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(root, 'scripts', 'setup.sh'), join(dir, 'scripts', 'setup.sh'));
  copyFileSync(join(root, 'package-lock.json'), join(dir, 'package-lock.json'));
  if (installed) {
    mkdirSync(join(dir, 'node_modules'));
    const file = join(dir, 'node_modules', '.package-lock.json');
    writeFileSync(file, JSON.stringify(installed));
    const when = new Date(Date.now() + (installedOlder ? -3_600_000 : 3_600_000));
    utimesSync(file, when, when);
  }
  return dir;
}

function check(project: string, env: NodeJS.ProcessEnv = process.env) {
  const run = spawnSync('bash', [join(project, 'scripts', 'setup.sh'), '--check'], {
    encoding: 'utf8',
    env,
    timeout: 60_000,
  });
  return { status: run.status, stderr: run.stderr };
}

const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};
/** node_modules/.package-lock.json as npm writes it after installing this lock file. */
const installedAsLocked = {
  name: 'bluegreen',
  lockfileVersion: 3,
  packages: Object.fromEntries(Object.entries(lock.packages).filter(([path]) => path !== '')),
};

test('in a set-up checkout nothing is missing', (t) => {
  const run = check(root);
  t.is(run.status, 0, run.stderr);
});

test('node_modules older than the lock file but installed from the same lock: no reinstall (a fresh checkout of the lock)', (t) => {
  const run = check(projectCopy(installedAsLocked, true));
  t.is(run.status, 0, run.stderr);
});

test('no node_modules, or one installed from another lock: npm ci', (t) => {
  const missing = check(projectCopy(undefined, false));
  t.is(missing.status, 2);
  t.regex(missing.stderr, /setup: run: npm ci$/m);
  const [path, entry] = Object.entries(installedAsLocked.packages)[0] as [string, { version?: string }];
  const changed = {
    ...installedAsLocked,
    packages: { ...installedAsLocked.packages, [path]: { ...entry, version: '0.0.0-other' } },
  };
  const stale = check(projectCopy(changed, true));
  t.is(stale.status, 2);
  t.regex(stale.stderr, /older than package-lock\.json/);
});

test('a missing system tool: exit 2 with the one apt-get line naming its package', (t) => {
  const run = check(root, { ...process.env, PATH: pathWithout('packer') });
  t.is(run.status, 2);
  t.regex(run.stderr, /missing system packages: packer$/m);
  t.regex(run.stderr, /setup: run: sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends packer'$/m);
});

test('no moto_server: exit 2 with the pip line', (t) => {
  const run = check(root, { ...process.env, PATH: pathWithout('moto_server') });
  t.is(run.status, 2);
  t.regex(run.stderr, /setup: run: pip install "moto\[server\]"$/m);
});
