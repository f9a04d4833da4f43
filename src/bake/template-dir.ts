import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Directory of the built-in templates (`resources/bluegreen/packer`):
 * `BLUEGREEN_PACKER_TEMPLATES`, else next to the bundle
 * (`resources/bluegreen/bake.js`), else in the source tree.
 */
export function builtinTemplateDir(): string {
  if (process.env.BLUEGREEN_PACKER_TEMPLATES) return process.env.BLUEGREEN_PACKER_TEMPLATES;
  const besideBundle = path.join(__dirname, 'packer');
  if (existsSync(path.join(besideBundle, 'linux'))) return besideBundle;
  return path.resolve(__dirname, '..', '..', 'resources', 'bluegreen', 'packer');
}
