import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of a committed stage bundle. */
export function bundlePath(stage: string): string {
  return join(__dirname, '..', '..', 'resources', 'bluegreen', `${stage}.js`);
}

/** What a stage process did. */
export interface StageRun {
  exitCode: number;
  stderr: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the output document is checked by each test
  output: any;
}

/**
 * Runs a stage bundle as Jenkins would: input JSON file, output JSON file,
 * environment for credentials and endpoint. `input` may be an object or raw text.
 */
export async function runStageBundle(
  stage: string,
  input: Record<string, unknown> | string | undefined,
  env: Record<string, string>,
  extraArgs: string[] = [],
): Promise<StageRun> {
  const dir = mkdtempSync(join(tmpdir(), `${stage}-`));
  const outputPath = join(dir, 'out.json');
  const args = [bundlePath(stage), '--output', outputPath, ...extraArgs];
  if (input !== undefined) {
    const inputPath = join(dir, 'in.json');
    writeFileSync(inputPath, typeof input === 'string' ? input : JSON.stringify(input));
    args.push('--input', inputPath);
  }
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const output = existsSync(outputPath) ? JSON.parse(readFileSync(outputPath, 'utf8')) : undefined;
  return { exitCode, stderr, output };
}
