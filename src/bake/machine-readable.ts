/**
 * Packer's `-machine-readable` output: one record a line,
 * `timestamp,target,type,data...`. Commas inside a field are written
 * `%!(PACKER_COMMA)`, newlines inside a message are written `\n`.
 */

/** One line of machine-readable output. */
export interface MachineReadableRecord {
  timestamp: number;
  /** Build name (e.g. `amazon-ebs.app`), empty for global records. */
  target: string;
  type: string;
  data: string[];
}

const PACKER_COMMA = '%!(PACKER_COMMA)';

/** Undoes Packer's escaping of one field. */
export function unescapeField(field: string): string {
  return field.replaceAll(PACKER_COMMA, ',').replaceAll('\\n', '\n').replaceAll('\\r', '\r');
}

/** Parses one line; `undefined` when it is not a machine-readable record. */
export function parseMachineReadableLine(line: string): MachineReadableRecord | undefined {
  const fields = line.replace(/\r$/, '').split(',');
  if (fields.length < 3 || !/^\d+$/.test(fields[0] as string)) return undefined;
  const [ts, target, type, ...data] = fields as [string, string, string, ...string[]];
  return { timestamp: Number(ts), target, type, data: data.map(unescapeField) };
}

/** A human-readable line for a record (what Packer prints without -machine-readable), or undefined to skip it. */
export function readableLine(record: MachineReadableRecord): string | undefined {
  if (record.type === 'ui') {
    // data: [say|message|error, text]
    return record.data.slice(1).join(',').replace(/\n+$/, '');
  }
  return undefined;
}

/**
 * Parses an artifact id of the amazon builders: `region:ami-…` pairs,
 * comma-separated when the AMI was copied to other regions.
 */
export function parseAmiArtifactId(id: string): Record<string, string> {
  const amis: Record<string, string> = {};
  for (const pair of id.split(',')) {
    const m = /^\s*([a-z0-9-]+):(ami-[0-9a-zA-Z]+)\s*$/.exec(pair);
    if (m !== null) amis[m[1] as string] = m[2] as string;
  }
  return amis;
}

/** What a run's machine-readable output says was built and what failed. */
export interface MachineReadableSummary {
  /** AMIs per build target, from `artifact,N,id` records (deduplicated). */
  artifacts: Array<{ target: string; builderId?: string; amis: Record<string, string> }>;
  /** Region → AMI of every AMI seen, artifacts first, then `AMI: ami-…` messages. */
  amis: Record<string, string>;
  /** AMIs Packer announced while building (`AMI: ami-…`), even when a later step failed. */
  createdAmiIds: string[];
  /** Error messages (`error` records of a target, or `ui,error` when there are none). */
  errors: string[];
  /** The `error-count` record, if any. */
  errorCount?: number;
  /** True when a build was cancelled by a signal. */
  cancelled: boolean;
}

/**
 * Summarises machine-readable records. The manifest post-processor passes
 * the builder's artifact on, so the same AMIs appear as artifact 0 and 1:
 * they are counted once.
 */
export function summarizeMachineReadable(
  records: Iterable<MachineReadableRecord>,
  primaryRegion?: string,
): MachineReadableSummary {
  const artifacts: MachineReadableSummary['artifacts'] = [];
  const seen = new Set<string>();
  const builderIds = new Map<string, string>();
  const created: string[] = [];
  const targetErrors: string[] = [];
  const uiErrors: string[] = [];
  let errorCount: number | undefined;
  let cancelled = false;
  for (const r of records) {
    if (r.type === 'artifact' && r.data.length >= 3) {
      const [index, kind, value] = r.data as [string, string, string];
      if (kind === 'builder-id') builderIds.set(`${r.target}#${index}`, value);
      if (kind === 'id') {
        const amis = parseAmiArtifactId(r.data.slice(2).join(','));
        const key = `${r.target}|${JSON.stringify(Object.entries(amis).sort())}`;
        if (Object.keys(amis).length > 0 && !seen.has(key)) {
          seen.add(key);
          artifacts.push({ target: r.target, builderId: builderIds.get(`${r.target}#${index}`), amis });
        }
      }
    } else if (r.type === 'ui' && r.data[0] === 'message') {
      // "    amazon-ebs.app: AMI: ami-0123" is printed as soon as CreateImage returns.
      const m = /:\s+AMI:\s+(ami-[0-9a-zA-Z]+)\s*$/.exec(r.data[1] ?? '');
      if (m !== null && !created.includes(m[1] as string)) created.push(m[1] as string);
    } else if (r.type === 'ui' && r.data[0] === 'error') {
      uiErrors.push((r.data[1] ?? '').trim());
      if (/cancelled|interrupt/i.test(r.data[1] ?? '')) cancelled = true;
    } else if (r.type === 'error' && r.target !== '') {
      targetErrors.push(r.data.join(',').trim());
    } else if (r.type === 'error-count') {
      errorCount = Number(r.data[0]);
    }
  }
  const amis: Record<string, string> = {};
  for (const a of artifacts) Object.assign(amis, a.amis);
  if (Object.keys(amis).length === 0 && created.length > 0 && primaryRegion !== undefined) {
    amis[primaryRegion] = created[0] as string;
  }
  return {
    artifacts,
    amis,
    createdAmiIds: created,
    errors:
      targetErrors.length > 0
        ? targetErrors
        : uiErrors.filter((e) => e !== '' && !/^==> Some builds didn't complete/.test(e)),
    errorCount,
    cancelled,
  };
}

/** Splits a chunked stream into lines, calling `onLine` for each complete one. */
export class LineSplitter {
  private buffer = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string | Buffer): void {
    this.buffer += chunk.toString();
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      this.onLine(this.buffer.slice(0, nl).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(nl + 1);
    }
  }
  /** Emits what is left (a last line without newline). */
  end(): void {
    if (this.buffer !== '') this.onLine(this.buffer);
    this.buffer = '';
  }
}
