import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Directory of the built-in templates (`resources/bluegreen/packer`):
 * `BLUEGREEN_PACKER_TEMPLATES`, else found from where this code runs: next to
 * the stage bundle (`resources/bluegreen/bake.js`), from the npm CLI
 * (`dist/cli.js`) or from the source tree (`src/bake/`).
 */
export function builtinTemplateDir(): string {
  if (process.env.BLUEGREEN_PACKER_TEMPLATES) return process.env.BLUEGREEN_PACKER_TEMPLATES;
  const candidates = [
    path.join(__dirname, 'packer'),
    path.resolve(__dirname, '..', 'resources', 'bluegreen', 'packer'),
    path.resolve(__dirname, '..', '..', 'resources', 'bluegreen', 'packer'),
  ];
  return candidates.find((dir) => existsSync(path.join(dir, 'linux'))) ?? (candidates[2] as string);
}
