/**
 * Errors thrown by the bake engine. The stage maps them to exit codes:
 * {@link BakeInputError} and {@link PackerNotFoundError} mean nothing in AWS
 * was changed (exit 2); the others mean Packer ran and failed (exit 1).
 */

/** Base class of every bake error, so callers can tell ours from the rest. */
export class BakeError extends Error {
  override name = 'BakeError';
}

/** An input value is invalid; `field` names the option that caused it. */
export class BakeInputError extends BakeError {
  override name = 'BakeInputError';
  /** Dotted path of the offending option, e.g. `sourceAmi.owners` or `tags.Team`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** The `packer` executable could not be found or run. */
export class PackerNotFoundError extends BakeError {
  override name = 'PackerNotFoundError';
  readonly packerPath: string;
  constructor(packerPath: string, cause?: unknown) {
    super(
      `packer executable not found (${packerPath}): install Packer on the agent ` +
        '(https://developer.hashicorp.com/packer/install, or `apt-get install packer` on Debian) ' +
        'or pass packerPath / set PACKER_PATH',
      cause === undefined ? undefined : { cause },
    );
    this.packerPath = packerPath;
  }
}

/** A packer command (`init`, `validate`) failed before anything was built. */
export class PackerCommandError extends BakeError {
  override name = 'PackerCommandError';
  readonly command: string;
  readonly exitCode: number;
  readonly output: string;
  constructor(command: string, exitCode: number, output: string) {
    super(`packer ${command} failed (exit ${exitCode}): ${output.trim() || 'no output'}`);
    this.command = command;
    this.exitCode = exitCode;
    this.output = output;
  }
}

/** Why a packer build produced no AMI. */
export type PackerFailureReason = 'failed' | 'timeout' | 'interrupted';

/** `packer build` made no AMI. `errors` holds Packer's own messages. */
export class PackerBuildError extends BakeError {
  override name = 'PackerBuildError';
  readonly reason: PackerFailureReason;
  readonly exitCode: number | null;
  readonly errors: string[];
  constructor(reason: PackerFailureReason, exitCode: number | null, errors: string[], detail?: string) {
    const what =
      reason === 'timeout' ? `packer build timed out${detail ? ` ${detail}` : ''}` :
      reason === 'interrupted' ? `packer build was interrupted${detail ? ` (${detail})` : ''}` :
      `packer build failed (exit ${exitCode ?? 'signal'})`;
    super(errors.length > 0 ? `${what}: ${errors.join('; ')}` : `${what}, no AMI was created`);
    this.reason = reason;
    this.exitCode = exitCode;
    this.errors = errors;
  }
}
