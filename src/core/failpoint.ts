/**
 * Failpoints for crash-recovery tests: when `BLUEGREEN_FAILPOINTS` names a
 * point (comma-separated), the process kills itself with SIGKILL there — a
 * real `kill -9` at an exact step, which no timing-based test can hit
 * reliably. Unset in production: then this is one env lookup.
 */
export function failpoint(name: string): void {
  const points = process.env.BLUEGREEN_FAILPOINTS;
  if (!points) return;
  if (
    points
      .split(',')
      .map((p) => p.trim())
      .includes(name)
  ) {
    process.stderr.write(`failpoint ${name}: killing this process (SIGKILL)\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
