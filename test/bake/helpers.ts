import { renderBuild, type BuildDir, type RenderOptions } from '../../src/bake/render';
import { resolveBakeOptions } from '../../src/bake/resolve';
import type { BakeOptions } from '../../src/bake/types';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A temp dir removed by the returned cleanup. */
export async function tempDir(prefix = 'bluegreen-bake-test-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

export const FIXTURES = path.join(__dirname, 'fixtures');

/** Resolves then renders, as the stage does (a bad input rejects the promise). */
export async function renderFrom(options: BakeOptions, renderOptions: RenderOptions = {}): Promise<BuildDir> {
  return renderBuild(resolveBakeOptions(options, renderOptions.env ?? process.env), renderOptions);
}
