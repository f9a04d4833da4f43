import { formatTable } from '../core/table';
import type { LockStatus } from './lock';
import type { LedgerRecord } from './record';

/** `2026-11-26T05:40:12.345Z` → `2026-11-26 05:40:12Z` (a console needs no milliseconds). */
function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** One line about a cluster's lock, for humans. */
export function formatLockLine(cluster: string, lock: LockStatus | null): string {
  if (!lock) return `lock: cluster ${cluster} is not locked`;
  const state = lock.expired
    ? `EXPIRED at ${shortTime(lock.leaseEndsAt)} (can be taken over with breakExpiredLock)`
    : `lease until ${shortTime(lock.leaseEndsAt)}`;
  return `lock: held by ${lock.owner} (deployment ${lock.deploymentId}) since ${shortTime(lock.acquiredAt)}, ${state}`;
}

/** The history table: newest first, one line per record. */
export function formatHistory(cluster: string, records: readonly LedgerRecord[], lock: LockStatus | null): string {
  const header = formatLockLine(cluster, lock);
  if (records.length === 0) return `${header}\nno deployments recorded for cluster ${cluster}`;
  const rows = records.map((r) => {
    const from = r.from ?? r.previousServerGroup;
    const to = r.to ?? r.serverGroup;
    return [
      shortTime(r.recordedAt),
      r.kind,
      // The watch's verdict next to the result (`succeeded (watch passed)`, `rolled-back (watch failed)`).
      r.verdict ? `${r.result} (watch ${r.verdict})` : r.result,
      r.version ?? '-',
      r.amiId ?? '-',
      r.serverGroup ?? '-',
      from || to ? `${from ?? '-'} -> ${to ?? '-'}` : '-',
      r.who ?? r.buildUrl ?? '-',
    ];
  });
  const table = formatTable(['TIME', 'KIND', 'RESULT', 'VERSION', 'AMI', 'SERVER GROUP', 'FROM -> TO', 'WHO'], rows);
  return `${header}\nlast ${records.length} record(s) of cluster ${cluster}, newest first\n${table}`;
}
