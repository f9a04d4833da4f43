import * as path from 'node:path';
import { InputError } from '../core/errors';
import { checkBoolean, checkInteger, checkObject, checkStringList } from '../core/validate';
import { checkStringMap, optionalNonBlank } from '../core/validate';
import { hasGoTemplateOpen } from './escape';
import type { ResolvedBake } from './types';

/**
 * Packer renders provisioner environment values as Go templates until they
 * stop changing (`interpolate.Render`), so no escaping keeps a "{{" there.
 */
export const NO_GO_TEMPLATE =
  'must not contain "{{": Packer renders environment values as Go templates until they stop changing, so it cannot pass "{{" literally (use a script file for such text)';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RUN_LIST_ENTRY = /^(recipe|role)\[[^\]\s]+\]$/;

function list(field: string, value: unknown): string[] {
  return value === undefined || value === null ? [] : checkStringList(field, value);
}

/** `steps`: shell (Linux) or PowerShell (Windows) steps; script paths relative to `repoDir`. */
export function resolveSteps(value: unknown, repoDir: string): ResolvedBake['steps'] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InputError('steps', 'must be a list of steps');
  return value.map((raw: unknown, i) => {
    const s = checkObject(`steps.${i}`, raw);
    const inline = list(`steps.${i}.inline`, s['inline']);
    const scripts = list(`steps.${i}.scripts`, s['scripts']).map((p) => path.resolve(repoDir, p));
    if (inline.length === 0 && scripts.length === 0)
      throw new InputError(`steps.${i}`, 'needs inline commands or scripts');
    const env = checkStringMap(`steps.${i}.env`, s['env']);
    for (const [k, v] of Object.entries(env)) {
      if (!ENV_NAME.test(k)) throw new InputError(`steps.${i}.env.${k}`, 'is not an environment variable name');
      if (hasGoTemplateOpen(v)) throw new InputError(`steps.${i}.env.${k}`, NO_GO_TEMPLATE);
    }
    const elevated = s['elevated'] === undefined ? true : checkBoolean(`steps.${i}.elevated`, s['elevated']);
    return { inline, scripts, env, elevated };
  });
}

/** `chef`: Cinc/Chef local mode (Linux only), from cookbooks + run list or a policy archive. */
export function resolveChef(value: unknown, windows: boolean, repoDir: string): ResolvedBake['chef'] {
  if (value === undefined || value === null) return undefined;
  if (windows) throw new InputError('chef', 'is supported by the linux template only');
  const c = checkObject('chef', value);
  const client = c['client'] ?? 'cinc';
  if (client !== 'cinc' && client !== 'chef') throw new InputError('chef.client', 'must be "cinc" or "chef"');
  const cookbooksPath = optionalNonBlank('chef.cookbooksPath', c['cookbooksPath']);
  const policyArchive = optionalNonBlank('chef.policyArchive', c['policyArchive']);
  const runList = list('chef.runList', c['runList']);
  if ((cookbooksPath === undefined) === (policyArchive === undefined)) {
    throw new InputError('chef', 'give either cookbooksPath (with runList) or policyArchive');
  }
  if (cookbooksPath !== undefined && runList.length === 0)
    throw new InputError('chef.runList', 'required with cookbooksPath');
  runList.forEach((r, i) => {
    if (!RUN_LIST_ENTRY.test(r)) throw new InputError(`chef.runList.${i}`, `"${r}" is not recipe[…] or role[…]`);
  });
  const attributes =
    c['attributes'] === undefined || c['attributes'] === null ? {} : checkObject('chef.attributes', c['attributes']);
  return {
    client,
    version: optionalNonBlank('chef.version', c['version']),
    cookbooksPath: cookbooksPath === undefined ? undefined : path.resolve(repoDir, cookbooksPath),
    policyArchive: policyArchive === undefined ? undefined : path.resolve(repoDir, policyArchive),
    runList,
    attributes,
  };
}

/** `iis`: the Windows template's IIS example, on by default when an artifact is given. */
export function resolveIis(
  value: unknown,
  windows: boolean,
  app: string,
  artifactUrl: string | undefined,
): ResolvedBake['iis'] {
  if (!windows || value === false || (value === undefined && artifactUrl === undefined)) return undefined;
  const o = value === undefined || value === null ? {} : checkObject('iis', value);
  const port = o['port'] === undefined ? 80 : checkInteger('iis.port', o['port'], 1, 65535);
  const siteName = optionalNonBlank('iis.siteName', o['siteName']) ?? app;
  const managedRuntimeVersion =
    o['managedRuntimeVersion'] === undefined
      ? 'v4.0'
      : typeof o['managedRuntimeVersion'] === 'string'
        ? o['managedRuntimeVersion']
        : undefined;
  if (managedRuntimeVersion === undefined)
    throw new InputError('iis.managedRuntimeVersion', 'must be a string ("v4.0", or "" for No Managed Code)');
  if (artifactUrl === undefined)
    throw new InputError(
      'artifactUrl',
      'required by the IIS example (it installs the web application from the artifact)',
    );
  return { siteName, port, managedRuntimeVersion };
}
