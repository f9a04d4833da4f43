import { InputError } from './errors';

/**
 * Cluster and server group names in Spinnaker's "Frigga" scheme, so teams
 * coming from Spinnaker keep their clusters: cluster `app[-stack[-detail]]`
 * (`app--detail` when there is no stack), server group `<cluster>-vNNN`.
 */

const APP_PATTERN = /^[A-Za-z0-9._]+$/;
const STACK_PATTERN = /^[A-Za-z0-9._]*$/;
const DETAIL_PATTERN = /^[A-Za-z0-9._-]*$/;
const SERVER_GROUP_PATTERN = /^(.+)-v(\d{3})$/;
/** Launch template names are at most 128 characters; we add `-vNNN`. */
const MAX_CLUSTER_LENGTH = 123;

/** The parts of a cluster name. */
export interface ClusterName {
  app: string;
  stack?: string;
  detail?: string;
  /** The full cluster name, e.g. `web-prod-canary`. */
  name: string;
}

/** Keys a stage input may use to name a cluster. */
export interface ClusterKeys {
  cluster?: unknown;
  app?: unknown;
  stack?: unknown;
  detail?: unknown;
}

function checkPart(field: string, value: unknown, pattern: RegExp, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new InputError(field, `must be a string (got ${typeof value})`);
  if (!pattern.test(value)) throw new InputError(field, `${what} (got ${JSON.stringify(value)})`);
  return value;
}

/** Joins app, stack and detail into a cluster name. */
export function formatClusterName(app: string, stack?: string, detail?: string): string {
  if (detail) return `${app}-${stack ?? ''}-${detail}`;
  if (stack) return `${app}-${stack}`;
  return app;
}

/**
 * Resolves and validates the cluster from `cluster` or `app`/`stack`/`detail`.
 * Throws {@link InputError} naming the offending field.
 */
export function resolveClusterName(keys: ClusterKeys): ClusterName {
  const hasParts = keys.app !== undefined || keys.stack !== undefined || keys.detail !== undefined;
  if (keys.cluster !== undefined && keys.cluster !== null && keys.cluster !== '') {
    if (hasParts) throw new InputError('cluster', 'give either cluster or app/stack/detail, not both');
    if (typeof keys.cluster !== 'string')
      throw new InputError('cluster', `must be a string (got ${typeof keys.cluster})`);
    return parseClusterName(keys.cluster);
  }
  if (keys.app === undefined || keys.app === null || keys.app === '') {
    throw new InputError('app', 'is required (or give cluster): the application name, e.g. "web"');
  }
  const app = checkPart('app', keys.app, APP_PATTERN, 'may hold only letters, digits, "." and "_"') as string;
  const stack = checkPart('stack', keys.stack, STACK_PATTERN, 'may hold only letters, digits, "." and "_"');
  const detail = checkPart('detail', keys.detail, DETAIL_PATTERN, 'may hold only letters, digits, ".", "_" and "-"');
  const name = formatClusterName(app, stack, detail);
  return finish({ app, ...(stack ? { stack } : {}), ...(detail ? { detail } : {}), name }, 'app');
}

/** Parses a full cluster name such as `web-prod-canary`. */
export function parseClusterName(cluster: string): ClusterName {
  if (!/^[A-Za-z0-9._-]+$/.test(cluster)) {
    throw new InputError('cluster', `may hold only letters, digits, ".", "_" and "-" (got ${JSON.stringify(cluster)})`);
  }
  const [app = '', stack = '', ...rest] = cluster.split('-');
  if (app === '')
    throw new InputError('cluster', `must start with the application name (got ${JSON.stringify(cluster)})`);
  const detail = rest.join('-');
  return finish({ app, ...(stack ? { stack } : {}), ...(detail ? { detail } : {}), name: cluster }, 'cluster');
}

function finish(parsed: ClusterName, field: string): ClusterName {
  if (parsed.name.length > MAX_CLUSTER_LENGTH) {
    throw new InputError(
      field,
      `cluster name is ${parsed.name.length} characters; at most ${MAX_CLUSTER_LENGTH} fit in a launch template name`,
    );
  }
  if (SERVER_GROUP_PATTERN.test(parsed.name)) {
    throw new InputError(
      field,
      `${JSON.stringify(parsed.name)} is a server group name, not a cluster name (drop the -vNNN)`,
    );
  }
  return parsed;
}

/** Server group name for a cluster and sequence number, e.g. `web-prod-v007`. */
export function serverGroupName(cluster: string, sequence: number): string {
  return `${cluster}-v${String(sequence % 1000).padStart(3, '0')}`;
}

/** Splits `web-prod-v007` into cluster and sequence, or undefined when it is not one. */
export function parseServerGroupName(name: string): { cluster: string; sequence: number } | undefined {
  const match = SERVER_GROUP_PATTERN.exec(name);
  if (!match) return undefined;
  return { cluster: match[1] as string, sequence: Number(match[2]) };
}

/**
 * The next server group name: newest + 1 (mod 1000), skipping names in use.
 * `newest` is the sequence of the most recently created group (by time, since
 * numbers wrap), `inUse` every name that exists now.
 */
export function nextServerGroupName(cluster: string, newest: number | undefined, inUse: ReadonlySet<string>): string {
  const start = newest === undefined ? 0 : (newest + 1) % 1000;
  for (let step = 0; step < 1000; step += 1) {
    const candidate = serverGroupName(cluster, start + step);
    if (!inUse.has(candidate)) return candidate;
  }
  throw new Error(`cluster ${cluster} has all 1000 server group names in use`);
}
