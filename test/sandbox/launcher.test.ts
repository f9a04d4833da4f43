import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuiltCli, repoRoot, startNpx } from '../helpers/npm-cli';
import { waitFor } from './fixtures';

// The sandbox stops with whoever started it: `npx bluegreen sandbox & kill $!` (npx does not pass SIGTERM on)
// leaves nothing behind, and moto never outlives the sandbox, even when the sandbox is SIGKILLed.
const dirs: string[] = [];
const pids: number[] = [];

test.before(() => {
  ensureBuiltCli();
});

test.after.always(() => {
  // Whatever a failed test left running: only the processes these tests started, by pid.
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface SandboxState {
  endpoint: string;
  processes: { sandbox: number; moto: number };
  ports: number[];
}

function stateFileIn(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-launcher-'));
  dirs.push(dir);
  return join(dir, 'state.json');
}

async function readyState(stateFile: string): Promise<SandboxState> {
  await waitFor('the sandbox state file', async () => (existsSync(stateFile) ? true : undefined), 90_000, 100);
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as SandboxState;
  pids.push(state.processes.sandbox, state.processes.moto);
  return state;
}

/** Gone, or a zombie waiting for its reaper. */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

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

async function assertNothingLeft(t: import('ava').ExecutionContext, state: SandboxState): Promise<void> {
  for (const [what, pid] of Object.entries(state.processes)) {
    await waitFor(
      `${what} process ${pid} to end`,
      async () => (processGone(pid) ? true : undefined),
      30_000,
      100,
    ).catch(() => undefined);
    t.true(processGone(pid), `${what} process ${pid} is gone`);
  }
  for (const port of state.ports) t.true(await portClosed(port), `port ${port} is closed`);
}

test.serial('npx bluegreen sandbox & then kill $! leaves no process and no port', async (t) => {
  const stateFile = stateFileIn();
  const run = startNpx(
    ['sandbox', '--port', '0', '--infra', 'demo', '--time-scale', '0.05', '--state-file', stateFile],
    process.env,
    180_000,
  );
  const state = await readyState(stateFile);
  t.not(state.processes.sandbox, run.child.pid, 'npx runs the sandbox as a child process');
  t.true(state.ports.length >= 3, `moto, gateway and listener ports: ${state.ports.join(',')}`);
  run.child.kill('SIGTERM'); // what `kill $!` sends to `npx … &`
  await run.exited;
  await assertNothingLeft(t, state);
  await waitFor(
    'the state file to be removed',
    async () => (existsSync(stateFile) ? undefined : true),
    10_000,
    100,
  ).catch(() => undefined);
  t.false(existsSync(stateFile), 'the sandbox stopped in order (it removes its state file)');
});

test.serial('a SIGKILLed sandbox leaves no moto behind', async (t) => {
  const stateFile = stateFileIn();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'cli.ts'), 'sandbox', '--port', '0', '--state-file', stateFile],
    {
      cwd: repoRoot,
      stdio: 'ignore',
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const state = await readyState(stateFile);
  t.is(state.processes.sandbox, child.pid as number);
  t.false(processGone(state.processes.moto), 'moto runs');
  child.kill('SIGKILL');
  await exited;
  await assertNothingLeft(t, state);
});
