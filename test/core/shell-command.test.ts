import test from 'ava';
import { runShellCommand } from '../../src/core/shell-command';

// Real processes: the runner is what stands between a user's command and the deploy's deadline.

test('exit 0: every line streamed redacted, the environment passed', async (t) => {
  const lines: string[] = [];
  const result = await runShellCommand({
    command: 'echo "url=$BLUEGREEN_TEST_URL"; echo "password=hunter2" >&2; printf tail',
    env: { BLUEGREEN_TEST_URL: 'http://lb:8080' },
    timeoutSeconds: 30,
    onLine: (line) => lines.push(line),
  });
  t.is(result.exitCode, 0);
  t.false(result.timedOut);
  t.true(lines.includes('url=http://lb:8080'));
  t.true(lines.includes('password=REDACTED'), lines.join('\n'));
  t.true(lines.includes('tail'), 'a last line without newline is kept');
  t.false(lines.join('\n').includes('hunter2'));
});

test('non-zero exit: the code and only the last lines kept', async (t) => {
  const result = await runShellCommand({
    command: 'for i in $(seq 1 50); do echo line $i; done; exit 7',
    env: {},
    timeoutSeconds: 30,
    keepLines: 5,
    onLine: () => undefined,
  });
  t.is(result.exitCode, 7);
  t.deepEqual(result.lastLines, ['line 46', 'line 47', 'line 48', 'line 49', 'line 50']);
});

test('timeout: the whole process group is killed, a child of the shell included', async (t) => {
  const marker = `bluegreen-sleep-${process.pid}-${Date.now()}`;
  const result = await runShellCommand({
    command: `echo started; sh -c 'sleep 300; echo ${marker}' & wait`,
    env: {},
    timeoutSeconds: 1,
    killGraceMs: 200,
    onLine: () => undefined,
  });
  t.true(result.timedOut);
  t.is(result.exitCode, null);
  t.deepEqual(result.lastLines, ['started']);
});
