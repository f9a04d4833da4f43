import { setTimeout as sleep } from 'node:timers/promises';
import { CreateOrUpdateTagsCommand, DeleteTagsCommand } from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients';
import { Tag, tagMap } from '../aws/tags';
import { listClusterAsgs } from '../cluster/server-groups';
import { InputError, describeError } from '../core/errors';
import type { Logger } from '../core/log';
import { appendRecord, type LedgerAws } from './ledger';
import type { LedgerRef } from './ledger-ref';
import { RECORD_KINDS, RECORD_RESULTS, type NewDeploymentRecord, type RecordKind, type RecordResult } from './record';

/**
 * A run's ledger writes, never silently short. Each record is retried; one S3
 * still refuses is kept pending and tried again after the next record and at
 * the end of the run. What is still pending then is reported to the caller
 * (the stage output says `ledger.written: false`, exit 3) and left as a tag
 * on its server group (`bluegreen:ledger-pending`), from which the next run
 * that takes the cluster's lock writes the record.
 */

/** Tag on a server group whose run could not write its final ledger record. */
export const LEDGER_PENDING_TAG = 'bluegreen:ledger-pending';

/** What reached the ledger, for a stage's output. */
export interface LedgerStatus {
  /** False when some record of this run could not be written. */
  written: boolean;
  /** The records S3 refused (kind, result, deployment, server group). */
  pending: Array<Pick<NewDeploymentRecord, 'kind' | 'result' | 'deploymentId'> & { serverGroup?: string }>;
  /** What happens to them and what to do. */
  recovery?: string;
}

/** What a stage output carries about its ledger records; `failure` makes the Jenkins step show why it exits 3. */
export interface LedgerReport {
  ledger: LedgerStatus;
  failure?: { code: 'LedgerRecordPending'; message: string; recovery: string };
}

/** `output` with its ledger status (and a `failure` when a record is pending). */
export function withLedgerStatus<T extends object>(output: T, ledger: LedgerStatus): T & LedgerReport {
  if (ledger.written) return { ...output, ledger };
  const recovery = ledger.recovery ?? 'run cleanup once S3 works';
  const message = `the cluster change succeeded, but the ledger is short of ${ledger.pending.length} record(s): ${recovery}`;
  return { ...output, ledger, failure: { code: 'LedgerRecordPending', message, recovery } };
}

/** Exit code of a finished run: 3 (needs a human) when its ledger is short of a record, else 0. */
export function ledgerExitCode(output: Partial<LedgerReport>): number {
  return output.ledger?.written === false ? 3 : 0;
}

/** Attempts per record (each already retried by the SDK) before it is kept pending. */
const ATTEMPTS = 2;
/** An ASG tag value holds at most 256 characters. */
const MAX_TAG_VALUE = 256;

/** The short form of a record kept in the pending tag: what the server group's own tags do not say. */
interface PendingTag {
  k: RecordKind;
  r: RecordResult;
  d: string;
  f?: string;
  s?: string;
  m?: string;
}

function pendingTagValue(record: NewDeploymentRecord): string {
  const short: PendingTag = {
    k: record.kind,
    r: record.result,
    d: record.deploymentId,
    ...(record.finishedAt ? { f: record.finishedAt } : {}),
    s: record.startedAt,
  };
  const base = JSON.stringify(short);
  const room = MAX_TAG_VALUE - base.length - 8;
  const message = record.message ?? record.reason;
  return message && room > 20 ? JSON.stringify({ ...short, m: message.slice(0, room) }) : base;
}

function parsePendingTag(value: string): PendingTag | undefined {
  try {
    const parsed = JSON.parse(value) as Partial<PendingTag>;
    if (
      RECORD_KINDS.includes(parsed.k as RecordKind) &&
      RECORD_RESULTS.includes(parsed.r as RecordResult) &&
      typeof parsed.d === 'string'
    )
      return parsed as PendingTag;
  } catch {
    // not ours
  }
  return undefined;
}

/** Writes a run's records; see the module comment. */
export class LedgerWriter {
  private readonly pending: NewDeploymentRecord[] = [];

  constructor(
    private readonly s3: LedgerAws,
    private readonly clusterAws: AwsClients,
    private readonly ledger: LedgerRef,
    private readonly cluster: string,
    private readonly log: Logger,
  ) {}

  /** Appends a record, after any still pending (order kept); never throws. */
  async append(record: NewDeploymentRecord): Promise<void> {
    await this.flush();
    if (this.pending.length === 0 && (await this.tryWrite(record, ATTEMPTS))) return;
    this.pending.push(record);
  }

  /** Tries the pending records once more; reports and tags what is still pending. */
  async finish(): Promise<LedgerStatus> {
    await this.flush();
    if (this.pending.length === 0) return { written: true, pending: [] };
    const finals = new Map<string, NewDeploymentRecord>();
    for (const record of this.pending)
      if (record.result !== 'started' && record.serverGroup) finals.set(record.serverGroup, record);
    const tagged: string[] = [];
    for (const [group, record] of finals) {
      try {
        await this.clusterAws.autoScaling.send(
          new CreateOrUpdateTagsCommand({
            Tags: [
              {
                ResourceId: group,
                ResourceType: 'auto-scaling-group',
                Key: LEDGER_PENDING_TAG,
                Value: pendingTagValue(record),
                PropagateAtLaunch: false,
              },
            ],
          }),
        );
        tagged.push(group);
      } catch (error) {
        this.log.warn(
          `could not keep the pending ledger record on ${group} either (${describeError(error)}): it is in this run's output only`,
        );
      }
    }
    const recovery = tagged.length
      ? `the ledger (S3) refused ${this.pending.length} record(s) of this run; they are kept on ${tagged.join(', ')} (tag ${LEDGER_PENDING_TAG}) and the next deploy, rollback or cleanup of ${this.cluster} writes them. Run cleanup once S3 works to write them now`
      : `the ledger (S3) refused ${this.pending.length} record(s) of this run and they could not be kept on the server group; they are listed here (ledger.pending) only`;
    this.log.warn(recovery);
    return {
      written: false,
      pending: this.pending.map((r) => ({
        kind: r.kind,
        result: r.result,
        deploymentId: r.deploymentId,
        ...(r.serverGroup ? { serverGroup: r.serverGroup } : {}),
      })),
      recovery,
    };
  }

  /** Writes the records earlier runs left pending on the cluster's server groups (called once the lock is held). */
  async writeLeftPending(byDeploymentId: string): Promise<string[]> {
    const written: string[] = [];
    let asgs;
    try {
      asgs = await listClusterAsgs(this.clusterAws, this.cluster);
    } catch (error) {
      this.log.warn(`could not look for pending ledger records: ${describeError(error)}`);
      return written;
    }
    for (const asg of asgs) {
      const tags = tagMap(asg.Tags);
      const short = tags[LEDGER_PENDING_TAG] ? parsePendingTag(tags[LEDGER_PENDING_TAG]) : undefined;
      const name = asg.AutoScalingGroupName;
      if (!short || !name) continue;
      const record: NewDeploymentRecord = {
        kind: short.k,
        result: short.r,
        deploymentId: short.d,
        cluster: this.cluster,
        region: this.clusterAws.region,
        startedAt: short.s ?? (asg.CreatedTime ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...(short.f ? { finishedAt: short.f, recordedAt: new Date(Date.parse(short.f)).toISOString() } : {}),
        serverGroup: name,
        ...(tags[Tag.amiId] ? { amiId: tags[Tag.amiId] } : {}),
        ...(tags[Tag.version] ? { version: tags[Tag.version] } : {}),
        ...(tags[Tag.buildUrl] ? { buildUrl: tags[Tag.buildUrl] } : {}),
        ...(tags[Tag.artifactUrl] ? { artifactUrl: tags[Tag.artifactUrl] } : {}),
        ...(tags[Tag.gitCommit] ? { gitCommit: tags[Tag.gitCommit] } : {}),
        ...(tags[Tag.previousServerGroup]
          ? { previousServerGroup: tags[Tag.previousServerGroup], from: tags[Tag.previousServerGroup] }
          : {}),
        to: name,
        message: `${short.m ? `${short.m}; ` : ''}written late by deployment ${byDeploymentId} from ${name}'s tags (the run's own write to the ledger failed)`,
      };
      if (!(await this.tryWrite(record, 1))) continue;
      written.push(name);
      this.log.info(
        `wrote the ledger record ${record.kind} ${record.result} of ${record.deploymentId} that an earlier run left pending on ${name}`,
      );
      try {
        await this.clusterAws.autoScaling.send(
          new DeleteTagsCommand({
            Tags: [{ ResourceId: name, ResourceType: 'auto-scaling-group', Key: LEDGER_PENDING_TAG }],
          }),
        );
      } catch (error) {
        this.log.warn(`could not remove ${LEDGER_PENDING_TAG} from ${name}: ${describeError(error)}`);
      }
    }
    return written;
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      if (!(await this.tryWrite(this.pending[0] as NewDeploymentRecord, 1))) return;
      this.pending.shift();
    }
  }

  /** True when written (or malformed: dropped with a warning, retrying cannot help). */
  private async tryWrite(record: NewDeploymentRecord, attempts: number): Promise<boolean> {
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        await appendRecord(this.s3, this.ledger, record);
        return true;
      } catch (error) {
        if (error instanceof InputError && error.field.startsWith('record')) {
          this.log.warn(`dropped a malformed ledger record (${record.kind} ${record.result}): ${error.message}`);
          return true;
        }
        this.log.warn(
          `could not write the ledger record (${record.kind} ${record.result}, attempt ${attempt}/${attempts}): ${describeError(error)}`,
        );
        if (attempt < attempts) await sleep(1_000 * attempt);
      }
    }
    return false;
  }
}
