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
import { awsCliMajor, findAwsCliV2 } from './helpers/aws-cli';

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

/** A PATH folder holding only a fake `aws` that prints `versionLine` as `aws --version` does. */
function fakeAws(versionLine: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'aws'), `#!/bin/sh\necho '${versionLine}'\n`, { mode: 0o755 });
  return dir;
}

const AWS_V1 = 'aws-cli/1.45.11 Python/3.11.7 Linux/6.1.0 botocore/1.43.11';
const AWS_V2 = 'aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64.debian.12 prompt/off';

// A stranger's machine: pip's v1 first on PATH, no v2 anywhere (no aws elsewhere on PATH, none at the fixed locations).
test('the AWS CLI v1 first on PATH and no v2: awscli is missing, and the message says v1 does not count', (t) => {
  const path = `${fakeAws(AWS_V1)}:${pathWithout('aws')}`;
  const run = check(root, { ...process.env, PATH: path, BLUEGREEN_AWS_CLI_LOCATIONS: '' });
  t.is(run.status, 2);
  t.regex(run.stderr, /no AWS CLI v2 found \(aws on PATH: aws-cli\/1\.45\.11 .*\); v1 does not count$/m);
  t.regex(run.stderr, /missing system packages: awscli$/m);
  t.regex(run.stderr, /setup: run: sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends awscli'$/m);
});

test('the AWS CLI v1 first on PATH and a v2 later on PATH or at a fixed location: nothing is missing', (t) => {
  const later = check(root, {
    ...process.env,
    PATH: `${fakeAws(AWS_V1)}:${fakeAws(AWS_V2)}:${pathWithout('aws')}`,
    BLUEGREEN_AWS_CLI_LOCATIONS: '',
  });
  t.is(later.status, 0, later.stderr);
  const fixed = check(root, {
    ...process.env,
    PATH: `${fakeAws(AWS_V1)}:${pathWithout('aws')}`,
    BLUEGREEN_AWS_CLI_LOCATIONS: `/nonexistent/aws ${join(fakeAws(AWS_V2), 'aws')}`,
  });
  t.is(fixed.status, 0, fixed.stderr);
});

test('the tests find the AWS CLI as setup.sh does: v2 past a v1 first on PATH, or at a fixed location; none when only v1', (t) => {
  const v1 = fakeAws(AWS_V1);
  const v2 = fakeAws(AWS_V2);
  t.is(findAwsCliV2({ path: `${v1}:${v2}`, locations: [] }), join(v2, 'aws'));
  t.is(findAwsCliV2({ path: v1, locations: ['/nonexistent/aws', join(v2, 'aws')] }), join(v2, 'aws'));
  t.is(findAwsCliV2({ path: v1, locations: [] }), undefined);
  t.is(awsCliMajor(AWS_V1), 1);
  t.is(awsCliMajor(`${AWS_V2}\n`), 2);
  t.is(awsCliMajor('aws: command not found'), undefined);
});

test('no moto_server: exit 2 with the pip line', (t) => {
  const run = check(root, { ...process.env, PATH: pathWithout('moto_server') });
  t.is(run.status, 2);
  t.regex(run.stderr, /setup: run: pip install "moto\[server\]"$/m);
});
