import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox';
import { createAppAsg, makeAppAmi, waitFor } from './fixtures';

const cli = join(__dirname, '..', '..', 'src', 'cli.ts');
const started: Sandbox[] = [];

test.after.always(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

/** True when nothing accepts connections on 127.0.0.1:port. */
function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

// One test per round: each start pays moto's start-up, and ava's timeout is per test.
for (let round = 1; round <= 5; round += 1) {
  test.serial(`start and stop ${round} of 5 leaves no process and no listening port behind`, async (t) => {
    const sandbox = await startSandbox({ infra: 'demo', timeScale: 0.02 });
    started.push(sandbox);
    if (round === 1) {
      // One round with a serving instance, so instance ports are part of the check.
      const amiId = await makeAppAmi(sandbox.clients(), 'v1');
      await createAppAsg(sandbox.clients(), sandbox.infra!, 'life-v001', amiId, 1);
      await waitFor('the instance to serve', async () =>
        sandbox.state().instances.some((i) => i.phase === 'serving') ? true : undefined,
      );
    }
    const { motoPid, ports } = sandbox.resources();
    t.true(
      ports.length >= (round === 1 ? 4 : 3),
      `round ${round}: moto, gateway, listener (+ instance) ports: ${ports.join(',')}`,
    );
    await sandbox.stop();
    await sandbox.stop(); // idempotent
    t.true(processGone(motoPid), `round ${round}: moto_server ${motoPid} is gone`);
    for (const port of ports) t.true(await portClosed(port), `round ${round}: port ${port} is closed`);
  });
}

function runCli(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    env,
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

test.serial(
  'bluegreen sandbox runs in the foreground, writes its state file (every region), and stops everything on SIGTERM',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
    const stateFile = join(dir, 'state.json');
    const run = runCli(
      [
        'sandbox',
        '--port',
        '0',
        '--infra',
        'demo',
        '--regions',
        'us-east-1,eu-west-1',
        '--time-scale',
        '0.05',
        '--state-file',
        stateFile,
      ],
      process.env,
    );
    try {
      await waitFor('the state file', async () => (existsSync(stateFile) ? true : undefined), 60_000, 100);
      const state = JSON.parse(readFileSync(stateFile, 'utf8'));
      t.regex(state.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
      t.regex(state.infra.listenerUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      t.regex(state.infra.targetGroupArn, /^arn:aws:elasticloadbalancing:/);
      t.truthy(state.infra.artifactBucket);
      t.deepEqual(state.regions, ['us-east-1', 'eu-west-1']);
      t.regex(state.infraByRegion['eu-west-1'].targetGroupArn, /^arn:aws:elasticloadbalancing:eu-west-1:/);
      t.regex(state.infraByRegion['eu-west-1'].listenerUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      await waitFor(
        'the endpoint on stdout',
        async () => (run.out().includes(state.endpoint) ? true : undefined),
        10_000,
      );
      const calls = (await (await fetch(`${state.endpoint}/_sandbox/calls`)).json()) as { mutating: number };
      t.is(calls.mutating, 0);
      const ports = [state.endpoint, state.infra.listenerUrl, state.infraByRegion['eu-west-1'].listenerUrl].map(
        (url: string) => Number(new URL(url).port),
      );
      run.child.kill('SIGTERM');
      t.is(await run.exited, 0, run.err());
      for (const port of ports) t.true(await portClosed(port), `port ${port} is closed`);
      t.false(existsSync(stateFile), 'the state file is removed on stop');
    } finally {
      if (run.child.exitCode === null) {
        run.child.kill('SIGKILL');
        await sleep(100);
      }
    }
  },
);

test.serial('a --regions value that is not region names is named, exit 2, before anything starts', async (t) => {
  const run = runCli(['sandbox', '--port', '0', '--regions', 'us-east-1,europe'], process.env);
  t.is(await run.exited, 2);
  t.regex(run.err(), /regions.*europe/);
});

test.serial('without moto_server the sandbox says how to install it and exits 2', async (t) => {
  const run = runCli(['sandbox', '--port', '0'], { ...process.env, PATH: join(tmpdir(), 'no-such-bin') });
  t.is(await run.exited, 2);
  t.regex(run.err(), /moto_server was not found on PATH/);
  t.regex(run.err(), /pip install "moto\[server\]"/);
});
