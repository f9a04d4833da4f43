import { existsSync, readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { describeError, InputError } from '../core/errors';
import { resolveClusterName } from '../core/naming';
import { checkKnownKeys, checkObject, checkRegion, checkString } from '../core/validate';
import { listPaths, type InputDeclarations, type ParsedInputs } from './inputs/declare';
import { isInputOfAnyStage } from './inputs/index';
import { CLUSTER_INPUTS } from './inputs/shared';

/**
 * How a stage's input is put together from its layers, highest first:
 * flags > `--input` JSON > the `config` file > `.bluegreen.json`'s cluster
 * section > its `defaults` > the declared defaults (the region last falls
 * back to AWS_REGION / AWS_DEFAULT_REGION). Then every declared input is parsed.
 */

/** The project defaults file, looked up in the working directory (Jenkins runs steps in the workspace). */
export const PROJECT_DEFAULTS_FILE = '.bluegreen.json';

/** Where input files are found and the region comes from when not given. */
export interface InputEnvironment {
  /** Base of relative paths and where `.bluegreen.json` is looked up (default: the process's). */
  cwd?: string;
  /** For the region fallback (default: `process.env`). */
  env?: NodeJS.ProcessEnv;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Merges input layers, later ones winning: objects merge key by key at any
 * depth (`--capacity.min 2` over a file's capacity), anything else (lists
 * included) is replaced. `undefined` never overrides.
 */
export function mergeInputs(...layers: Array<Record<string, unknown>>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const base = merged[key];
      merged[key] = isPlainObject(base) && isPlainObject(value) ? mergeInputs(base, value) : value;
    }
  }
  return merged;
}

/** Reads a JSON file holding an object; a problem is an InputError on `field`, naming the file. */
export function readJsonObjectFile(path: string, field: string, shownPath = path): Record<string, unknown> {
  if (!existsSync(path)) throw new InputError(field, `file ${shownPath} does not exist`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(field, `cannot read ${shownPath}: ${describeError(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(field, `${shownPath} is not valid JSON: ${describeError(error)}`);
  }
  if (!isPlainObject(parsed)) throw new InputError(field, `${shownPath} must hold a JSON object of input keys`);
  return parsed;
}

/** Keys yargs adds that are not input. */
const YARGS_KEYS = new Set(['_', '$0', 'input', 'output', 'help']);

/**
 * The input keys of parsed argv (yargs adds kebab-case twins and its own keys),
 * with list-typed values at any depth made lists: repeated flags arrive as a
 * list, one flag as a string; a comma list is split unless items may hold commas.
 */
export function flagInputs(argv: Record<string, unknown>, inputs: InputDeclarations): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(argv)) {
    if (!YARGS_KEYS.has(key) && !key.includes('-') && value !== undefined) flags[key] = value;
  }
  for (const [name, spec] of Object.entries(inputs)) {
    for (const path of listPaths(name, spec))
      updateAt(flags, path.split('.'), (value) => asList(value, spec.commaInItems === true));
  }
  return flags;
}

function updateAt(target: Record<string, unknown>, path: string[], update: (value: unknown) => unknown): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (!Object.hasOwn(target, head)) return;
  if (rest.length === 0) {
    target[head] = update(target[head]);
    return;
  }
  const child = target[head];
  if (isPlainObject(child)) {
    const copy = { ...child };
    updateAt(copy, rest, update);
    target[head] = copy;
  }
}

function asList(value: unknown, commaInItems: boolean): unknown {
  const items = Array.isArray(value) ? value : [value];
  if (!items.every((item) => typeof item === 'string' || typeof item === 'number')) return value;
  const texts = items.map(String);
  return commaInItems
    ? texts
    : texts.flatMap((text) =>
        text
          .split(',')
          .map((part) => part.trim())
          .filter((part) => part !== ''),
      );
}

/** `.bluegreen.json`: defaults for every stage, and per-cluster sections over them. */
interface ProjectDefaults {
  /** The file read. */
  path: string;
  defaults: Record<string, unknown>;
  clusters: Record<string, Record<string, unknown>>;
}

/**
 * Reads `.bluegreen.json` from `cwd` when it exists. Shape:
 * `{"defaults": {input: value}, "clusters": {"web-prod": {input: value}}}`.
 * A key no stage declares is bad input naming the file and the key.
 */
export function readProjectDefaults(cwd: string): ProjectDefaults | undefined {
  const path = join(cwd, PROJECT_DEFAULTS_FILE);
  if (!existsSync(path)) return undefined;
  const document = readJsonObjectFile(path, PROJECT_DEFAULTS_FILE, path);
  const where = ` (in ${path})`;
  for (const key of Object.keys(document)) {
    if (key !== 'defaults' && key !== 'clusters') {
      throw new InputError(key, `is not a section of ${PROJECT_DEFAULTS_FILE}: use "defaults" and "clusters"${where}`);
    }
  }
  const checkSection = (field: string, value: unknown): Record<string, unknown> => {
    const section = checkObject(field, value ?? {});
    for (const key of Object.keys(section)) {
      if (key === 'config' || !isInputOfAnyStage(key))
        throw new InputError(`${field}.${key}`, `is not an input of any stage${where}`);
    }
    return section;
  };
  const clusters: Record<string, Record<string, unknown>> = {};
  for (const [name, section] of Object.entries(checkObject('clusters', document.clusters ?? {}))) {
    clusters[name] = checkSection(`clusters.${name}`, section);
  }
  return { path, defaults: checkSection('defaults', document.defaults), clusters };
}

/** Only the keys a stage declares; the cluster-naming keys never come from the project file for a cluster stage. */
function declaredPart(section: Record<string, unknown>, inputs: InputDeclarations): Record<string, unknown> {
  const namesCluster = Object.hasOwn(inputs, 'cluster');
  return Object.fromEntries(
    Object.entries(section).filter(
      ([key]) => Object.hasOwn(inputs, key) && !(namesCluster && Object.hasOwn(CLUSTER_INPUTS, key)),
    ),
  );
}

function clusterNameOf(layers: Record<string, unknown>): string | undefined {
  try {
    return resolveClusterName(layers).name;
  } catch {
    return undefined; // reported when the stage parses its input
  }
}

/** Runs a check; a bad input it finds gets `source` (the file the value came from) in its details. */
function withSource<T>(source: string | undefined, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InputError && source !== undefined) error.details.source = source;
    throw error;
  }
}

/** The stage's `config` file (its keys checked), when the stage takes one and it is given. */
function readConfigFile(
  inputs: InputDeclarations,
  given: Record<string, unknown>,
  cwd: string,
): { path: string; values: Record<string, unknown> } | undefined {
  if (!Object.hasOwn(inputs, 'config') || given.config === undefined || given.config === null) return undefined;
  const path = checkString('config', given.config);
  const values = readJsonObjectFile(resolvePath(cwd, path), 'config', path);
  checkKnownKeys(
    'config',
    values,
    Object.keys(inputs).filter((name) => name !== 'config'),
  );
  return { path, values };
}

/** What a stage was given (flags over the input file, merged) over its `config` file: no `.bluegreen.json`, nothing parsed. */
export function givenWithConfig(
  inputs: InputDeclarations,
  given: Record<string, unknown>,
  cwd: string,
): Record<string, unknown> {
  const config = readConfigFile(inputs, given, cwd);
  return config ? mergeInputs(config.values, given) : given;
}

/** A stage's input as declared: the merge of its layers, parsed. */
export interface ResolvedInput<D extends InputDeclarations> {
  inputs: ParsedInputs<D>;
  /** `''` when the stage needs no region and none was given. */
  region: string;
}

/**
 * Puts a stage's input together from what it was given (flags over the input
 * file, already merged) and the files under it, and parses every declared input.
 */
export function resolveStageInput<D extends InputDeclarations>(
  inputs: D,
  given: Record<string, unknown>,
  options: InputEnvironment & { needsRegion?: boolean } = {},
): ResolvedInput<D> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const names = Object.keys(inputs);
  checkKnownKeys('', given, names);
  let merged = given;
  // The file a key's value came from when the step was not given it: named when that value is bad.
  const sources: Record<string, string> = {};
  const addSource = (layer: Record<string, unknown>, file: string): void => {
    for (const key of Object.keys(layer)) if (merged[key] === undefined) sources[key] ??= file;
  };
  const config = readConfigFile(inputs, given, cwd);
  if (config) {
    addSource(config.values, config.path);
    merged = mergeInputs(config.values, given);
  }
  const project = readProjectDefaults(cwd);
  if (project) {
    const cluster = Object.hasOwn(inputs, 'cluster') ? clusterNameOf(merged) : undefined;
    const section = declaredPart(cluster !== undefined ? (project.clusters[cluster] ?? {}) : {}, inputs);
    const defaults = declaredPart(project.defaults, inputs);
    addSource({ ...section, ...defaults }, project.path);
    merged = mergeInputs(defaults, section, merged);
  }
  const regionValue = merged.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  let region = '';
  if (options.needsRegion !== false || regionValue !== undefined) {
    if (regionValue === undefined)
      throw new InputError('region', 'is required: pass --region, put "region" in the input, or set AWS_REGION');
    region = withSource(sources.region, () => checkRegion('region', regionValue));
  }
  const parsed: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(inputs)) {
    const value = name === 'region' ? region || undefined : merged[name];
    parsed[name] = withSource(sources[name], () => spec.parse(value === undefined ? spec.default : value, name));
  }
  return { inputs: parsed as ParsedInputs<D>, region };
}
