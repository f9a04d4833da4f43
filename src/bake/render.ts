import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Handlebars from 'handlebars';
import { InputError } from '../core/errors';
import { hclString, packerString, packerStringList } from './escape';
import { packerVariables, sensitiveVariables, variablesHcl, varFileJson } from './packer-variables';
import { builtinTemplateDir } from './template-dir';
import type { ResolvedBake } from './types';
import {
  defaultPackerPath,
  detectPackerVersion,
  parsePackerVersion,
  usesPluginBlock,
  type PackerVersion,
} from './packer-cli';

/** Name of the generated var file Packer loads by itself from the build directory. */
export const VAR_FILE = 'bluegreen.auto.pkrvars.json';
/** Where our templates make the manifest post-processor write. */
export const MANIFEST_FILE = 'manifest.json';

/** A rendered build directory, ready for {@link runPacker}. */
export interface BuildDir {
  /** Absolute path of the directory (Packer runs with it as cwd: `packer build .`). */
  dir: string;
  /** Files written, relative to `dir`. */
  files: string[];
  /** Packer version the directory was rendered for. */
  packerVersion: PackerVersion;
  /** Whether `plugins.pkr.hcl` was written (Packer ≥ 1.7: run `packer init`). */
  needsInit: boolean;
  /** The options after defaults (AMI name, region, tags...). */
  bake: ResolvedBake;
  /** Manifest post-processor output, if the template writes one. */
  manifestPath: string;
}

/** Options of {@link renderBuild} beyond the bake itself. */
export interface RenderOptions {
  /** Render for this Packer version (e.g. `1.6.6`) instead of asking `packer version`. */
  packerVersion?: string | PackerVersion;
  /** The packer executable, to detect its version. */
  packerPath?: string;
  /** Environment (AWS_ENDPOINT_URL selects the sandbox); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The `required_plugins` block, kept in its own file so it can be left out
 * for Packer 1.6.x, which has the amazon builder built in and rejects it.
 */
export const PLUGINS_HCL = `packer {
  required_plugins {
    amazon = {
      version = ">= 1.2.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}
`;

/**
 * A handlebars instance with the helpers every template (built-in or the
 * user's) gets:
 * - `hcl value` — an HCL string literal Packer reads back as exactly `value`
 * - `hclList list` — an HCL list of such literals
 * - `hclEnv map` — `["K=v", …]` for `environment_vars`
 * - `json value` — JSON text (for a heredoc or a file)
 * - `eq a b` — equality, for `{{#if (eq template "windows")}}`
 * - `concat a b …` — joined strings, e.g. `{{hcl (concat "K=" value)}}`
 */
export function createHandlebars(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('hcl', (value: unknown) => packerString(String(value)));
  hb.registerHelper('hclRaw', (value: unknown) => hclString(String(value)));
  hb.registerHelper('hclList', (values: unknown) => packerStringList(Array.isArray(values) ? values.map(String) : []));
  hb.registerHelper('hclEnv', (env: unknown) =>
    packerStringList(Object.entries((env ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`)),
  );
  hb.registerHelper('json', (value: unknown) => JSON.stringify(value));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  // The last argument of a helper is handlebars' options object.
  hb.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map(String).join(''));
  return hb;
}

/** Renders a handlebars template source for Packer (`strict`, `noEscape`). */
export function renderTemplate(source: string, context: object, templateName = 'template'): string {
  const hb = createHandlebars();
  try {
    return hb.compile(source, { strict: true, noEscape: true })(context);
  } catch (err) {
    throw new InputError('templatePath', `${templateName}: ${(err as Error).message}`);
  }
}

/** Replaces `undefined` by `null`, so strict handlebars can test optional values with `#if`. */
function nullify(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(nullify);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, nullify(v)]));
  }
  return value;
}

async function copyFile(from: string, dir: string, rel: string, files: string[], field: string): Promise<string> {
  try {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.copyFile(from, path.join(dir, rel));
  } catch (err) {
    throw new InputError(
      field,
      `cannot read ${from}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  files.push(rel);
  return rel;
}

async function writeFile(dir: string, rel: string, content: string, files: string[], mode = 0o644): Promise<void> {
  await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await fs.writeFile(path.join(dir, rel), content, { mode });
  files.push(rel);
}

/**
 * Renders a bake into a build directory: the template (`build.pkr.hcl`),
 * `variables.pkr.hcl`, the values in `bluegreen.auto.pkrvars.json`, the
 * scripts it runs under `files/`, and `plugins.pkr.hcl` for Packer ≥ 1.7.
 * Takes the options as `resolveBakeOptions` returns them; throws
 * {@link InputError} for what only rendering finds (a template or a script
 * that cannot be read, a template using an unknown value).
 */
export async function renderBuild(bake: ResolvedBake, renderOptions: RenderOptions = {}): Promise<BuildDir> {
  const env = renderOptions.env ?? process.env;
  const packerVersion =
    typeof renderOptions.packerVersion === 'object'
      ? renderOptions.packerVersion
      : renderOptions.packerVersion !== undefined
        ? (parsePackerVersion(renderOptions.packerVersion) ??
          (() => {
            throw new InputError('packerVersion', `"${String(renderOptions.packerVersion)}" is not a version`);
          })())
        : await detectPackerVersion(renderOptions.packerPath ?? defaultPackerPath(env));

  let source: string;
  try {
    source = await fs.readFile(bake.templatePath, 'utf8');
  } catch (err) {
    throw new InputError(
      'templatePath',
      `cannot read ${bake.templatePath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }

  const dir = bake.outDir !== undefined ? bake.outDir : await fs.mkdtemp(path.join(os.tmpdir(), 'bluegreen-bake-'));
  await fs.mkdir(dir, { recursive: true });
  const files: string[] = [];

  // Scripts the templates run: ours, then the user's, copied so the directory is self-contained.
  const shared = path.join(builtinTemplateDir(), 'files');
  for (const name of (await fs.readdir(shared)).sort()) {
    await copyFile(path.join(shared, name), dir, `files/${name}`, files, 'templatePath');
  }
  const steps = [];
  for (const [i, step] of bake.steps.entries()) {
    const scripts = [];
    if (step.inline.length > 0) {
      // Inline lines go in a script file: Packer renders inline commands as Go
      // templates until they stop changing, so a line holding "{{" would not
      // survive; a script file's content is never rendered.
      const rel = bake.template === 'windows' ? `files/steps/${i}-inline.ps1` : `files/steps/${i}-inline.sh`;
      const header = bake.template === 'windows' ? "$ErrorActionPreference = 'Stop'\n" : '#!/bin/sh\nset -e\n';
      await writeFile(dir, rel, `${header}${step.inline.join('\n')}\n`, files, 0o755);
      scripts.push(rel);
    }
    for (const [j, script] of step.scripts.entries()) {
      scripts.push(
        await copyFile(script, dir, `files/steps/${i}-${j}-${path.basename(script)}`, files, `steps.${i}.scripts.${j}`),
      );
    }
    steps.push({ ...step, scripts });
  }
  let chef: object | undefined;
  let chefEnvironment: Record<string, string> = {};
  if (bake.chef !== undefined) {
    const c = bake.chef;
    let policyArchive: string | undefined;
    if (c.policyArchive !== undefined) {
      policyArchive = await copyFile(
        c.policyArchive,
        dir,
        `files/chef/${path.basename(c.policyArchive)}`,
        files,
        'chef.policyArchive',
      );
    }
    if (c.cookbooksPath !== undefined) {
      const st = await fs.stat(c.cookbooksPath).catch(() => undefined);
      if (st?.isDirectory() !== true)
        throw new InputError('chef.cookbooksPath', `${c.cookbooksPath} is not a directory`);
      await fs.cp(c.cookbooksPath, path.join(dir, 'files/chef/cookbooks'), { recursive: true });
      files.push('files/chef/cookbooks/');
    }
    const nodeJson = { ...c.attributes, ...(c.runList.length > 0 ? { run_list: c.runList } : {}) };
    await writeFile(dir, 'files/chef/node.json', JSON.stringify(nodeJson, null, 2) + '\n', files);
    const chefEnv: Record<string, string> = { CHEF_CLIENT: c.client, CHEF_DIR: '/tmp/bluegreen-chef' };
    if (c.version !== undefined) chefEnv['CHEF_VERSION'] = c.version;
    if (policyArchive !== undefined)
      chefEnv['CHEF_POLICY_ARCHIVE'] = `/tmp/bluegreen-chef/${path.basename(policyArchive)}`;
    chef = { ...c, policyArchive: policyArchive ?? null };
    chefEnvironment = chefEnv;
  }

  const needsInit = usesPluginBlock(packerVersion);
  const context = nullify({
    ...bake,
    templatePath: path.basename(bake.templatePath),
    steps,
    chef,
    chefEnv: chefEnvironment,
    iisEnv:
      bake.iis === undefined
        ? {}
        : {
            SITE_NAME: bake.iis.siteName,
            SITE_PORT: String(bake.iis.port),
            APP_POOL_RUNTIME: bake.iis.managedRuntimeVersion,
          },
    packerVersion: packerVersion.text,
    vars: packerVariables(bake),
  }) as object;
  const rendered = renderTemplate(source, context, path.basename(bake.templatePath));

  const vars = packerVariables(bake);
  if (needsInit) await writeFile(dir, 'plugins.pkr.hcl', PLUGINS_HCL, files);
  await writeFile(dir, 'variables.pkr.hcl', variablesHcl(sensitiveVariables(bake)), files);
  await writeFile(dir, VAR_FILE, varFileJson(vars), files);
  await writeFile(dir, 'build.pkr.hcl', rendered, files);

  return { dir, files: files.sort(), packerVersion, needsInit, bake, manifestPath: path.join(dir, MANIFEST_FILE) };
}
