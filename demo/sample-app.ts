import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The sample web artifact the demo publishes: a tiny static app (index.html
 * and a health file) in a tarball, one per version, made in the demo's temp
 * dir. The sandbox serves each AMI's version from its tags, not from this
 * file; the artifact is what a real pipeline would publish and bake.
 */

const run = promisify(execFile);

/** Writes `web-<version>.tar.gz` under `dir` and returns its path. */
export async function makeSampleArtifact(dir: string, version: string): Promise<string> {
  const appDir = join(dir, `web-${version}`);
  await mkdir(appDir, { recursive: true });
  await writeFile(
    join(appDir, 'index.html'),
    `<!doctype html>\n<title>bluegreen demo</title>\n<h1>Hello from web ${version}</h1>\n`,
  );
  await writeFile(join(appDir, 'health'), 'ok\n');
  const tarball = join(dir, `web-${version}.tar.gz`);
  await run('tar', ['-czf', tarball, '-C', appDir, '.']);
  return tarball;
}
