import { randomBytes } from 'node:crypto';

/**
 * Deployment ids: `20261126T054012Z-3f9a1c` — UTC time to the second, then 6
 * random hex digits. They sort by time as plain strings, are unique in
 * practice (16.7 M values per second), and are safe in S3 keys and AWS tags.
 */
export const DEPLOYMENT_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

/** Ids the ledger accepts: ours, or any key-safe id a caller brings (1–64 of `A-Za-z0-9._-`). */
export const STORABLE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A new sortable, unique deployment id for time `now`. */
export function newDeploymentId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** True for an id made by {@link newDeploymentId}. */
export function isDeploymentId(value: string): boolean {
  return DEPLOYMENT_ID_PATTERN.test(value);
}

/** The time encoded in a deployment id, or undefined when it is not one of ours. */
export function deploymentIdTime(id: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(id);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
}
