import { InputError } from '../core/errors';
import { guessContentType } from '../publish/artifact-file';
import { checkBuildInfo } from '../publish/build-metadata';
import { renderKeyTemplate } from '../publish/key-template';
import {
  publishArtifact,
  type PublishRequest,
  type PublishResult,
  type PublishTuning,
} from '../publish/publish-artifact';
import { formatBytes } from '../publish/progress';
import { checkObjectKey } from '../aws/s3-names';
import { defineStage } from './framework';
import type { ParsedInputs } from './inputs/declare';
import { PUBLISH_INPUTS } from './inputs/publish';
import { PUBLISH_STAGE } from './list';

interface PublishInput {
  request: PublishRequest;
  tuning: Partial<PublishTuning>;
}

const MIB = 1024 * 1024;

function resolveKey(inputs: ParsedInputs<typeof PUBLISH_INPUTS>, values: Record<string, string | undefined>): string {
  const { key, keyTemplate } = inputs;
  if (key && keyTemplate) throw new InputError('key', 'give either key or keyTemplate, not both');
  if (key) return checkObjectKey('key', key);
  if (keyTemplate) return checkObjectKey('keyTemplate', renderKeyTemplate(keyTemplate, values));
  throw new InputError(
    'key',
    'is required: give key, or keyTemplate such as "{app}/{version}/{buildNumber}/{fileName}"',
  );
}

/** Checks across publish inputs (key or template, build metadata) before any AWS call. */
function validatePublishInput(inputs: ParsedInputs<typeof PUBLISH_INPUTS>, region: string): PublishInput {
  const { file } = inputs;
  const build = checkBuildInfo({
    app: inputs.app,
    version: inputs.version,
    buildNumber: inputs.buildNumber,
    buildUrl: inputs.buildUrl,
    gitCommit: inputs.gitCommit,
  });
  const key = resolveKey(inputs, { ...build, fileName: file.fileName });
  return {
    request: {
      file: file.path,
      bucket: inputs.bucket,
      key,
      region,
      overwrite: inputs.overwrite,
      contentType: inputs.contentType ?? guessContentType(file.fileName),
      build,
    },
    tuning: { partSize: inputs.partSizeMiB * MIB, concurrency: inputs.concurrency },
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
export const publishStage = defineStage(PUBLISH_STAGE, {
  validate: validatePublishInput,
  async run(input, { aws, log }): Promise<PublishResult> {
    const controller = new AbortController();
    const uninstall = cancelOnSignals(controller, (signal) => log.warn(`${signal}: cancelling the upload`));
    try {
      return await publishArtifact(aws(), input.request, { log, tuning: input.tuning, signal: controller.signal });
    } finally {
      uninstall();
      // Max resident set size of this process so far (kilobytes on Linux): the memory bound, measurable.
      log.debug(
        `peak memory: maxRSS ${formatBytes(process.resourceUsage().maxRSS * 1024)} (${process.resourceUsage().maxRSS} KiB)`,
      );
    }
  },
});
