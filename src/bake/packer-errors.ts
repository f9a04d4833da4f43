import { InputError, OperationFailedError, describeError } from '../core/errors';

/**
 * The core errors a Packer failure becomes: Packer missing or a template it
 * rejects means nothing was built (exit 2); a build that made no AMI failed (exit 1).
 */

/** Why a packer build produced no AMI. */
export type PackerFailureReason = 'failed' | 'timeout' | 'interrupted';

/** Error codes of a build that made no AMI, by reason. */
export const BakeFailureCode: Record<PackerFailureReason, string> = {
  failed: 'BakeFailed',
  timeout: 'BakeTimedOut',
  interrupted: 'BakeInterrupted',
};

/** The `packer` executable could not be found or run. */
export function packerNotFound(packerPath: string): InputError {
  return new InputError(
    'packer',
    `packer executable not found (${packerPath}): install Packer on the agent ` +
      '(https://developer.hashicorp.com/packer/install, or `apt-get install packer` on Debian) ' +
      'or pass packerPath / set PACKER_PATH',
  );
}

/** Packer could not be started for another reason than being missing (e.g. too many processes). */
export function packerNotStarted(packerPath: string, error: unknown): OperationFailedError {
  return new OperationFailedError(
    'BakeFailed',
    `cannot run packer (${packerPath}): ${describeError(error)}; nothing was built`,
    { errors: [] },
  );
}

/** A packer command (`version`, `init`, `validate`) failed before anything was built. */
export function packerCommandFailed(command: string, exitCode: number, output: string): InputError {
  return new InputError('template', `packer ${command} failed (exit ${exitCode}): ${output.trim() || 'no output'}`, {
    exitCode,
  });
}

/** `packer build` made no AMI; `errors` holds Packer's own messages (in the output's `errors`). */
export function packerBuildFailed(
  reason: PackerFailureReason,
  exitCode: number | null,
  errors: string[],
  detail?: string,
): OperationFailedError {
  const what =
    reason === 'timeout'
      ? `packer build timed out${detail ? ` ${detail}` : ''}`
      : reason === 'interrupted'
        ? `packer build was interrupted${detail ? ` (${detail})` : ''}`
        : `packer build failed (exit ${exitCode ?? 'signal'})`;
  const message = errors.length > 0 ? `${what}: ${errors.join('; ')}` : `${what}, no AMI was created`;
  return new OperationFailedError(BakeFailureCode[reason], message, { errors });
}
