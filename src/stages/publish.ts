import type { Options } from 'yargs';
import { InputError } from '../core/errors';
import { checkBoolean, checkInteger, checkString, optionalString } from '../core/validate';
import { checkArtifactFile, guessContentType } from '../publish/artifact-file';
import { checkBuildInfo } from '../publish/build-metadata';
import { renderKeyTemplate } from '../publish/key-template';
import { MAX_PART_SIZE, MIN_PART_SIZE } from '../publish/multipart';
import { publishArtifact, type PublishRequest, type PublishResult, type PublishTuning } from '../publish/publish-artifact';
import { formatBytes } from '../publish/progress';
import { checkBucketName, checkObjectKey } from '../aws/s3-names';
import type { StageDefinition } from './framework';

interface PublishInput {
  request: PublishRequest;
  tuning: Partial<PublishTuning>;
}

const MIB = 1024 * 1024;

const PUBLISH_OPTIONS: Record<string, Options> = {
  file: { type: 'string', describe: 'The artifact to upload (a regular, non-empty file)' },
  bucket: { type: 'string', describe: 'S3 bucket name (no s3:// prefix)' },
  key: { type: 'string', describe: 'Object key (or give keyTemplate)' },
  keyTemplate: { type: 'string', describe: 'Key with placeholders, e.g. {app}/{version}/{buildNumber}/{fileName} (also {gitCommit})' },
  app: { type: 'string', describe: 'Application name ({app}; stored as metadata)' },
  version: { type: 'string', describe: 'Artifact version ({version}; stored as metadata)' },
  buildNumber: { type: 'string', describe: 'Jenkins $BUILD_NUMBER ({buildNumber}; stored as metadata)' },
  buildUrl: { type: 'string', describe: 'Jenkins $BUILD_URL, stored as metadata' },
  gitCommit: { type: 'string', describe: 'Git commit id ({gitCommit}; stored as metadata)' },
  overwrite: { type: 'boolean', describe: 'Replace different content already at the key (default false: refuse, exit 3)' },
  contentType: { type: 'string', describe: 'Content-Type (default: from the file name, else application/octet-stream)' },
  partSizeMiB: { type: 'number', describe: 'Multipart part size in MiB (default 8)' },
  concurrency: { type: 'number', describe: 'Parts uploaded at once (default 4); memory ≈ partSize × concurrency' },
};

/**
 * Raw JSON may hold a whole number where flags hold strings (`"buildNumber": 42`).
 * Other numbers are refused: JSON `1.10` arrives as 1.1, not the version meant.
 */
function optionalText(field: string, value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'number') throw new InputError(field, `must be a string: quote it in the JSON ("${value}" may not be what was written)`);
  return optionalString(field, value);
}

function resolveKey(raw: Record<string, unknown>, values: Record<string, string | undefined>): string {
  const key = optionalString('key', raw.key);
  const template = optionalString('keyTemplate', raw.keyTemplate);
  if (key && template) throw new InputError('key', 'give either key or keyTemplate, not both');
  if (key) return checkObjectKey('key', key);
  if (template) return checkObjectKey('keyTemplate', renderKeyTemplate(template, values));
  throw new InputError('key', 'is required: give key, or keyTemplate such as "{app}/{version}/{buildNumber}/{fileName}"');
}

function checkContentType(value: unknown): string | undefined {
  const type = optionalString('contentType', value);
  if (type !== undefined && !/^[\w.+-]+\/[\w.+-]+( *;[\x20-\x7e]*)?$/.test(type)) {
    throw new InputError('contentType', `must look like "type/subtype" such as "application/gzip" (got ${JSON.stringify(type)})`);
  }
  return type;
}

/** Validates every publish input before any AWS call. */
function validatePublishInput(raw: Record<string, unknown>, region: string): PublishInput {
  const file = checkArtifactFile('file', checkString('file', raw.file));
  const bucket = checkBucketName('bucket', checkString('bucket', raw.bucket));
  const build = checkBuildInfo({
    app: optionalText('app', raw.app),
    version: optionalText('version', raw.version),
    buildNumber: optionalText('buildNumber', raw.buildNumber),
    buildUrl: optionalString('buildUrl', raw.buildUrl),
    gitCommit: optionalString('gitCommit', raw.gitCommit),
  });
  const key = resolveKey(raw, { ...build, fileName: file.fileName });
  const tuning: Partial<PublishTuning> = {};
  if (raw.partSizeMiB !== undefined) tuning.partSize = checkInteger('partSizeMiB', raw.partSizeMiB, MIN_PART_SIZE / MIB, MAX_PART_SIZE / MIB) * MIB;
  if (raw.concurrency !== undefined) tuning.concurrency = checkInteger('concurrency', raw.concurrency, 1, 16);
  return {
    request: {
      file: file.path,
      bucket,
      key,
      region,
      overwrite: raw.overwrite === undefined ? false : checkBoolean('overwrite', raw.overwrite),
      contentType: checkContentType(raw.contentType) ?? guessContentType(file.fileName),
      build,
    },
    tuning,
  };
}

/**
 * Cancels `controller` on SIGTERM/SIGINT (a Jenkins abort), so a multipart
 * upload is aborted rather than left billed. Returns the uninstaller.
 */
function cancelOnSignals(controller: AbortController, onSignal: (signal: string) => void): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    onSignal(signal);
    controller.abort(new Error(`received ${signal}`));
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
  return () => {
    process.removeListener('SIGTERM', handler);
    process.removeListener('SIGINT', handler);
  };
}

/** `publish`: upload a build artifact to S3, immutably, with its SHA-256 and build metadata. */
export const publishStage: StageDefinition<PublishInput, PublishResult> = {
  name: 'publish',
  describe: 'Upload a build artifact to S3 with its SHA-256 and build metadata (same content again is a no-op)',
  options: PUBLISH_OPTIONS,
  validate: validatePublishInput,
  async run(input, { aws, log }) {
    const controller = new AbortController();
    const uninstall = cancelOnSignals(controller, (signal) => log.warn(`${signal}: cancelling the upload`));
    try {
      return await publishArtifact(aws(), input.request, { log, tuning: input.tuning, signal: controller.signal });
    } finally {
      uninstall();
      // Max resident set size of this process so far (kilobytes on Linux): the memory bound, measurable.
      log.debug(`peak memory: maxRSS ${formatBytes(process.resourceUsage().maxRSS * 1024)} (${process.resourceUsage().maxRSS} KiB)`);
    }
  },
};
