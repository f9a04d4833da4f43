import { InputError } from '../../core/errors';
import { checkString, optionalString } from '../../core/validate';
import { checkArtifactFile } from '../../publish/artifact-file';
import { MAX_PART_SIZE, MIN_PART_SIZE } from '../../publish/multipart';
import { DEFAULT_PUBLISH_TUNING } from '../../publish/publish-artifact';
import { checkBucketName } from '../../aws/s3-names';
import { booleanInput, input, integerInput, stringInput } from './declare';
import { REGION_INPUTS } from './shared';

const MIB = 1024 * 1024;

/**
 * Raw JSON may hold a whole number where flags hold strings (`"buildNumber": 42`).
 * Other numbers are refused: JSON `1.10` arrives as 1.1, not the version meant.
 */
function optionalText(field: string, value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'number')
    throw new InputError(field, `must be a string: quote it in the JSON ("${value}" may not be what was written)`);
  return optionalString(field, value);
}

const textInput = (describe: string, stepDefault?: string) =>
  input({
    kind: 'string',
    describe,
    ...(stepDefault ? { stepDefault } : {}),
    parse: (value, field) => optionalText(field, value),
  });

/** The inputs of `publish`, in the order they are checked. */
export const PUBLISH_INPUTS = {
  ...REGION_INPUTS,
  file: input({
    kind: 'string',
    describe: 'The artifact to upload (a regular, non-empty file), relative to the working directory',
    required: true,
    parse: (value, field) => checkArtifactFile(field, checkString(field, value)),
  }),
  bucket: input({
    kind: 'string',
    describe: 'S3 bucket name (no s3:// prefix)',
    required: true,
    parse: (value, field) => checkBucketName(field, checkString(field, value)),
  }),
  key: stringInput('Object key', { required: 'unless keyTemplate is given' }),
  keyTemplate: stringInput(
    'Key with placeholders {app}, {version}, {buildNumber}, {gitCommit}, {fileName} (each value one path segment), e.g. {app}/{version}/{buildNumber}/{fileName}',
  ),
  app: textInput('Application name ({app}; stored as metadata)'),
  version: textInput('Artifact version ({version}; stored as metadata)'),
  buildNumber: textInput('Jenkins build number ({buildNumber}; stored as metadata)', 'env.BUILD_NUMBER'),
  buildUrl: stringInput('Jenkins build URL, stored as metadata (a URL with user:password@ is refused)', {
    stepDefault: 'env.BUILD_URL',
  }),
  gitCommit: stringInput('Git commit id ({gitCommit}; stored as metadata)', { stepDefault: 'env.GIT_COMMIT' }),
  overwrite: booleanInput('Replace different content already at the key (false: refuse, exit 3)', false),
  contentType: stringInput('Content-Type, e.g. application/gzip', {
    defaultText: 'from the file name, else application/octet-stream',
    pattern: /^[\w.+-]+\/[\w.+-]+( *;[\x20-\x7e]*)?$/,
    shape: '"type/subtype" such as "application/gzip"',
  }),
  partSizeMiB: integerInput(
    'Multipart part size in MiB',
    { min: MIN_PART_SIZE / MIB, max: MAX_PART_SIZE / MIB, default: DEFAULT_PUBLISH_TUNING.partSize / MIB },
    { kind: 'number' },
  ),
  concurrency: integerInput(
    'Parts uploaded at once; memory ≈ partSize × concurrency',
    { min: 1, max: 16, default: DEFAULT_PUBLISH_TUNING.concurrency },
    { kind: 'number' },
  ),
};
