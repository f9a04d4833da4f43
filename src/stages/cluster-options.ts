import type { Options } from 'yargs';

/** Options that name a cluster, shared by every cluster stage. */
export const CLUSTER_OPTIONS: Record<string, Options> = {
  cluster: { type: 'string', describe: 'Cluster name app[-stack[-detail]] (or give app/stack/detail)' },
  app: { type: 'string', describe: 'Application name (letters, digits, . and _)' },
  stack: { type: 'string', describe: 'Stack, e.g. prod' },
  detail: { type: 'string', describe: 'Detail, e.g. canary' },
};
