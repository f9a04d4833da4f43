import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Handlebars from 'handlebars';
import { BakeInputError } from './errors.js';
import { escapeGoTemplate, hclString, packerString, packerStringList } from './escape.js';
import { builtinTemplateDir, redactUrl, resolveBakeOptions, type BakeOptions, type ResolvedBake } from './options.js';
import { defaultPackerPath, detectPackerVersion, parsePackerVersion, usesPluginBlock, type PackerVersion } from './packer-cli.js';

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

type VarValue = string | number | boolean | string[] | Record<string, string>;

/**
 * Every variable a template may use (`var.<name>`), with its HCL type. All
 * are declared with `default = null`, and Packer treats a null attribute as
 * unset, so templates can write `subnet_id = var.subnet_id` whether or not
 * it was given.
 */
export const PACKER_VARIABLES = {
  app: 'string',
  version: 'string',
  region: 'string',
  instance_type: 'string',
  ami_name: 'string',
  ami_description: 'string',
  ami_regions: 'list(string)',
  ami_tags: 'map(string)',
  run_tags: 'map(string)',
  source_ami_id: 'string',
  source_ami_filters: 'map(string)',
  source_ami_owners: 'list(string)',
  subnet_id: 'string',
  vpc_id: 'string',
  iam_instance_profile: 'string',
  volume_size: 'number',
  volume_type: 'string',
  volume_iops: 'number',
  volume_throughput: 'number',
  device_name: 'string',
  encrypt_boot: 'bool',
  kms_key_id: 'string',
  region_kms_key_ids: 'map(string)',
  allowed_cidrs: 'list(string)',
  ssh_username: 'string',
  winrm_username: 'string',
  artifact_url: 'string',
  endpoint: 'string',
} as const;

/** Name of a variable of {@link PACKER_VARIABLES}. */
export type PackerVariableName = keyof typeof PACKER_VARIABLES;

/** Packer variable values of a bake; unset ones are left out (they default to null). */
export function packerVariables(b: ResolvedBake): Partial<Record<PackerVariableName, VarValue>> {
  const gp3 = b.volume.type === 'gp3';
  const vars: Record<PackerVariableName, VarValue | undefined> = {
    app: b.app,
    version: b.version,
    region: b.region,
    instance_type: b.instanceType,
    ami_name: b.amiName,
    ami_description: b.amiDescription,
    ami_regions: b.copyRegions,
    ami_tags: b.tags,
    run_tags: b.runTags,
    source_ami_id: b.sourceAmi.id,
    source_ami_filters: b.sourceAmi.filters,
    source_ami_owners: b.sourceAmi.owners,
    subnet_id: b.subnetId,
    vpc_id: b.vpcId,
    iam_instance_profile: b.iamInstanceProfile,
    volume_size: b.volume.sizeGb,
    volume_type: b.volume.type,
    // gp3 baseline; Packer 1.6.6 refuses gp3 without them.
    volume_iops: gp3 ? 3000 : undefined,
    volume_throughput: gp3 ? 125 : undefined,
    device_name: b.volume.deviceName,
    encrypt_boot: b.encryption === undefined ? undefined : true,
    kms_key_id: b.encryption?.kmsKeyId,
    region_kms_key_ids:
      b.encryption?.regionKmsKeyIds === undefined || Object.keys(b.encryption.regionKmsKeyIds).length === 0
        ? undefined
        : b.encryption.regionKmsKeyIds,
    allowed_cidrs: b.allowedCidrs.length === 0 ? undefined : b.allowedCidrs,
    ssh_username: b.sshUsername,
    winrm_username: b.winrmUsername,
    artifact_url: b.artifactUrl,
    endpoint: b.endpoint,
  };
  const out: Partial<Record<PackerVariableName, VarValue>> = {};
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) out[k as PackerVariableName] = v;
  return out;
}

/**
 * Variables Packer must not print: the artifact URL when it is presigned
 * (it carries a signature). Packer then masks the value wherever it appears.
 */
export function sensitiveVariables(b: ResolvedBake): Set<PackerVariableName> {
  const s = new Set<PackerVariableName>();
  if (b.artifactUrl !== undefined && redactUrl(b.artifactUrl) !== b.artifactUrl) s.add('artifact_url');
  return s;
}

/** `variable` blocks declaring every variable of {@link PACKER_VARIABLES}, default null. */
export function variablesHcl(sensitive: ReadonlySet<string> = new Set()): string {
  return Object.entries(PACKER_VARIABLES)
    .map(([name, type]) => {
      const attrs: Array<[string, string]> = [['type', type], ['default', 'null']];
      if (sensitive.has(name)) attrs.push(['sensitive', 'true']);
      const width = Math.max(...attrs.map(([k]) => k.length));
      return `variable "${name}" {\n${attrs.map(([k, v]) => `  ${k.padEnd(width)} = ${v}\n`).join('')}}\n`;
    })
    .join('\n');
}

/** The var file's content: values Go-template-escaped, since Packer renders plugin fields once. */
export function varFileJson(vars: Partial<Record<string, VarValue>>): string {
  const escape = (v: VarValue): VarValue => {
    if (typeof v === 'string') return escapeGoTemplate(v);
    if (Array.isArray(v)) return v.map(escapeGoTemplate);
    if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [escapeGoTemplate(k), escapeGoTemplate(x)]));
    return v;
  };
  return JSON.stringify(Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, escape(v as VarValue)])), null, 2) + '\n';
}

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
    throw new BakeInputError('templatePath', `${templateName}: ${(err as Error).message}`);
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
    throw new BakeInputError(field, `cannot read ${from}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
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
 * Throws {@link BakeInputError} for invalid options.
 */
export async function renderBuild(options: BakeOptions, renderOptions: RenderOptions = {}): Promise<BuildDir> {
  const env = renderOptions.env ?? process.env;
  const bake = resolveBakeOptions(options, env);
  const packerVersion =
    typeof renderOptions.packerVersion === 'object'
      ? renderOptions.packerVersion
      : renderOptions.packerVersion !== undefined
        ? (parsePackerVersion(renderOptions.packerVersion) ??
          (() => {
            throw new BakeInputError('packerVersion', `"${String(renderOptions.packerVersion)}" is not a version`);
          })())
        : await detectPackerVersion(renderOptions.packerPath ?? defaultPackerPath(env));

  let source: string;
  try {
    source = await fs.readFile(bake.templatePath, 'utf8');
  } catch (err) {
    throw new BakeInputError('templatePath', `cannot read ${bake.templatePath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }

  const dir = options.outDir !== undefined ? path.resolve(options.outDir) : await fs.mkdtemp(path.join(os.tmpdir(), 'bluegreen-bake-'));
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
      scripts.push(await copyFile(script, dir, `files/steps/${i}-${j}-${path.basename(script)}`, files, `steps.${i}.scripts.${j}`));
    }
    steps.push({ ...step, scripts });
  }
  let chef: object | undefined;
  let chefEnvironment: Record<string, string> = {};
  if (bake.chef !== undefined) {
    const c = bake.chef;
    let policyArchive: string | undefined;
    if (c.policyArchive !== undefined) {
      policyArchive = await copyFile(c.policyArchive, dir, `files/chef/${path.basename(c.policyArchive)}`, files, 'chef.policyArchive');
    }
    if (c.cookbooksPath !== undefined) {
      const st = await fs.stat(c.cookbooksPath).catch(() => undefined);
      if (st?.isDirectory() !== true) throw new BakeInputError('chef.cookbooksPath', `${c.cookbooksPath} is not a directory`);
      await fs.cp(c.cookbooksPath, path.join(dir, 'files/chef/cookbooks'), { recursive: true });
      files.push('files/chef/cookbooks/');
    }
    const nodeJson = { ...c.attributes, ...(c.runList.length > 0 ? { run_list: c.runList } : {}) };
    await writeFile(dir, 'files/chef/node.json', JSON.stringify(nodeJson, null, 2) + '\n', files);
    const chefEnv: Record<string, string> = { CHEF_CLIENT: c.client, CHEF_DIR: '/tmp/bluegreen-chef' };
    if (c.version !== undefined) chefEnv['CHEF_VERSION'] = c.version;
    if (policyArchive !== undefined) chefEnv['CHEF_POLICY_ARCHIVE'] = `/tmp/bluegreen-chef/${path.basename(policyArchive)}`;
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
        : { SITE_NAME: bake.iis.siteName, SITE_PORT: String(bake.iis.port), APP_POOL_RUNTIME: bake.iis.managedRuntimeVersion },
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
