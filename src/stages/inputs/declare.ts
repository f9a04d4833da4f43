import type { Options } from 'yargs';
import { parseDuration } from '../../core/duration';
import { InputError } from '../../core/errors';
import { checkBoolean, checkInteger, checkPattern, checkStringList, optionalString } from '../../core/validate';

/**
 * One declaration per input (as wrangler's command definitions do): its kind,
 * description, default and parser. The stage framework derives from it the
 * yargs options, the known keys, the config-file and defaults-file merges and
 * the TypeScript type of the parsed input; `npm run docs:inputs` derives the
 * input tables of `vars/*.txt` and the README.
 */

/** What an input holds: decides its yargs type, its list handling and its docs type. */
export type InputKind = 'string' | 'number' | 'integer' | 'boolean' | 'duration' | 'list' | 'object' | 'ledger';

/** The declaration of one input. `T` is what `parse` returns: the parsed input's type. */
export interface InputSpec<T = unknown> {
  kind: InputKind;
  /** One sentence for `--help`, `vars/*.txt` and the README. */
  describe: string;
  /** Applied when the input is absent (and parsed like a given value); shown in the docs. */
  default?: string | number | boolean;
  /** A default the engine works out (e.g. "copied from the current server group"): docs only. */
  defaultText?: string;
  /** Required (`true`), or required only in a case the text names (e.g. "on the first deploy"). */
  required?: boolean | string;
  /** What the Jenkins step fills in when the caller does not (e.g. `env.BUILD_URL`): docs only. */
  stepDefault?: string;
  /** Never echo the value (messages name the field only). */
  secret?: boolean;
  /** Allowed values, checked by `parse`; shown in `--help`. */
  choices?: readonly string[];
  /**
   * Paths of list-typed values inside an object input (`filter.owners`), so repeated or
   * comma-separated flags at any depth become lists. A `list` input is a list itself.
   */
  lists?: readonly string[];
  /** The type as the docs name it, when the kind says too little (e.g. "List of Maps"). */
  docType?: string;
  /** List items may hold commas: only repeated flags make a list, a comma list stays one item. */
  commaInItems?: boolean;
  /** Turns the given (or default) value into the typed input; throws InputError naming `field`. */
  parse(value: unknown, field: string): T;
}

/** A stage's inputs by name (camelCase: the JSON key and, kebab-cased, the flag). */
export type InputDeclarations = Record<string, InputSpec>;

/** The parsed input of a stage, inferred from its declarations (as wrangler infers handler args). */
export type ParsedInputs<D extends InputDeclarations> = { [K in keyof D]: ReturnType<D[K]['parse']> };

/** Identity, for type inference of a declaration. */
export function input<T>(spec: InputSpec<T>): InputSpec<T> {
  return spec;
}

type Extra = Omit<InputSpec, 'kind' | 'describe' | 'parse' | 'default'>;

/** An optional string (empty refused); `pattern` with its `shape` for the message. */
export function stringInput(
  describe: string,
  extra: Extra & { pattern?: RegExp; shape?: string } = {},
): InputSpec<string | undefined> {
  const { pattern, shape, ...rest } = extra;
  return input({
    kind: 'string',
    describe,
    ...rest,
    parse: (value, field) => {
      const text = optionalString(field, value);
      if (text === undefined || pattern === undefined) return text;
      return checkPattern(field, text, pattern, shape ?? String(pattern));
    },
  });
}

/** A value checked later by a function that sees several inputs at once (e.g. the cluster keys). */
export function rawInput(
  kind: InputKind,
  describe: string,
  extra: Extra & Pick<InputSpec, 'default'> = {},
): InputSpec<unknown> {
  return input({ kind, describe, ...extra, parse: (value) => value });
}

/** An optional list of strings: JSON list, repeated flags or a comma list. */
export function listInput(
  describe: string,
  extra: Extra & { item?: (value: string, field: string) => string; whenEmpty?: string } = {},
): InputSpec<string[] | undefined> {
  const { item, whenEmpty, ...rest } = extra;
  return input({
    kind: 'list',
    describe,
    ...rest,
    parse: (value, field) => {
      if (value === undefined) return undefined;
      const list = checkStringList(field, value);
      if (whenEmpty !== undefined && list.length === 0) throw new InputError(field, whenEmpty);
      return item ? list.map((entry, index) => item(entry, `${field}[${index}]`)) : list;
    },
  });
}

/** A boolean with a default. */
export function booleanInput(describe: string, defaultValue: boolean, extra: Extra = {}): InputSpec<boolean> {
  return input({
    kind: 'boolean',
    describe,
    default: defaultValue,
    ...extra,
    parse: (value, field) => checkBoolean(field, value),
  });
}

/** A whole number within bounds, with a default. */
export function integerInput(
  describe: string,
  bounds: { min: number; max: number; default: number },
  extra: Extra & { kind?: 'number' | 'integer' } = {},
): InputSpec<number> {
  const { kind = 'integer', ...rest } = extra;
  return input({
    kind,
    describe,
    default: bounds.default,
    ...rest,
    parse: (value, field) => checkInteger(field, value, bounds.min, bounds.max),
  });
}

/** Bounds of a duration input: at least `min`, more than `above`, whole seconds only (`whole`). */
interface DurationBounds {
  min?: number;
  above?: number;
  whole?: boolean;
}

/** A duration in seconds (`600`, `"90s"`, `"15m"`, `"1h"`), with a default and optional bounds. */
export function durationInput(
  describe: string,
  options: DurationBounds & { default: string | number },
  extra?: Extra,
): InputSpec<number>;
/** An optional duration in seconds. */
export function durationInput(describe: string, options?: DurationBounds, extra?: Extra): InputSpec<number | undefined>;
export function durationInput(
  describe: string,
  options: DurationBounds & { default?: string | number } = {},
  extra: Extra = {},
): InputSpec<number | undefined> {
  return input({
    kind: 'duration',
    describe,
    ...(options.default !== undefined ? { default: options.default } : {}),
    ...extra,
    parse: (value, field) => {
      if (value === undefined) return undefined;
      const seconds = parseDuration(field, value);
      if (options.above !== undefined && seconds <= options.above)
        throw new InputError(field, `must be more than ${options.above} seconds`);
      if (options.min !== undefined && seconds < options.min)
        throw new InputError(field, `must be at least ${options.min} seconds (got ${seconds})`);
      if (options.whole && !Number.isInteger(seconds))
        throw new InputError(field, `must be a whole number of seconds (got ${seconds})`);
      return seconds;
    },
  });
}

/** The yargs option of an input: flags take the same names (kebab-cased too). */
export function yargsOption(spec: InputSpec): Options {
  const option: Options = { describe: helpText(spec) };
  switch (spec.kind) {
    case 'string':
    case 'duration':
      option.type = 'string';
      break;
    case 'boolean':
      option.type = 'boolean';
      break;
    case 'number':
      option.type = 'number';
      break;
    case 'list':
      option.type = 'array';
      option.string = true;
      break;
    default:
      // integer, object, ledger: no yargs type, so numbers, dotted flags and s3:// strings all arrive as given.
      break;
  }
  if (spec.choices) option.choices = [...spec.choices];
  return option;
}

/** The docs' default of an input (`--help`, tables): the declared value or text. */
export function defaultOf(spec: InputSpec): string | undefined {
  if (spec.default !== undefined) {
    return spec.kind === 'duration' && typeof spec.default === 'number' && spec.default > 0
      ? `${spec.default}s`
      : String(spec.default);
  }
  return spec.defaultText;
}

function helpText(spec: InputSpec): string {
  const notes: string[] = [];
  if (spec.required === true) notes.push('required');
  else if (typeof spec.required === 'string') notes.push(`required ${spec.required}`);
  const fallback = defaultOf(spec);
  if (fallback !== undefined) notes.push(`default ${fallback}`);
  return notes.length > 0 ? `${spec.describe} (${notes.join('; ')})` : spec.describe;
}

/** The paths (from the input's root, dotted) at which an input holds a list. */
export function listPaths(name: string, spec: InputSpec): string[] {
  const paths = spec.kind === 'list' ? [name] : [];
  for (const path of spec.lists ?? []) paths.push(`${name}.${path}`);
  return paths;
}

/** The object without its undefined entries (the engine tells "not given" by absence). */
export function definedOnly<T extends Record<string, unknown>>(
  object: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
