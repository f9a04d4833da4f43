import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A temp dir removed by the returned cleanup. */
export async function tempDir(prefix = 'bluegreen-bake-test-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

export const FIXTURES = path.join(__dirname, 'fixtures');
