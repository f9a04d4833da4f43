import { promises as fs } from 'node:fs';
import { OperationFailedError, describeError } from '../core/errors';
import { parseAmiArtifactId } from './machine-readable';

/** The manifest post-processor's file (`manifest.json`). */
export interface PackerManifest {
  builds: Array<{
    name: string;
    builder_type: string;
    build_time: number;
    artifact_id: string;
    packer_run_uuid: string;
    custom_data?: Record<string, string> | null;
  }>;
  last_run_uuid: string;
}

/** AMIs of the last run recorded in a manifest. */
export interface ManifestRun {
  packerRunUuid: string;
  /** Region → AMI, over the run's builds. */
  amis: Record<string, string>;
  /** Builds of the run, duplicates removed. */
  builds: Array<{ name: string; amis: Record<string, string> }>;
}

/**
 * The last run of a manifest: the manifest appends every run (and, with
 * several post-processor chains, the same artifact more than once), so only
 * builds whose `packer_run_uuid` is `last_run_uuid` count, each once.
 */
export function lastManifestRun(manifest: PackerManifest): ManifestRun | undefined {
  const uuid = manifest.last_run_uuid;
  if (typeof uuid !== 'string' || !Array.isArray(manifest.builds)) return undefined;
  const builds: ManifestRun['builds'] = [];
  const seen = new Set<string>();
  const amis: Record<string, string> = {};
  for (const b of manifest.builds) {
    if (b.packer_run_uuid !== uuid) continue;
    const key = `${b.name}|${b.artifact_id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const buildAmis = parseAmiArtifactId(b.artifact_id);
    builds.push({ name: b.name, amis: buildAmis });
    Object.assign(amis, buildAmis);
  }
  return { packerRunUuid: uuid, amis, builds };
}

/** Reads a manifest file; `undefined` when it does not exist (no build got that far). */
export async function readManifest(file: string): Promise<PackerManifest | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OperationFailedError('BakeFailed', `cannot read Packer's manifest ${file}: ${describeError(err)}`, {
      errors: [],
    });
  }
  try {
    return JSON.parse(text) as PackerManifest;
  } catch (err) {
    throw new OperationFailedError('BakeFailed', `Packer's manifest ${file} is not JSON: ${describeError(err)}`, {
      errors: [],
    });
  }
}
