import { redact, redactValue } from './redact';

/**
 * Errors that carry the stage exit code (docs/architecture.md, "Stage contract"), so every layer can throw
 * the right kind and one place (the stage runner) turns it into an exit code
 * and an `{"error": …}` output.
 */

/** Exit codes shared by every stage. */
export const ExitCode = {
  ok: 0,
  /** The operation failed; the cluster was left serving traffic. */
  failed: 1,
  /** Bad input; nothing in AWS was changed. */
  badInput: 2,
  /** Cluster locked by another run, or in a state that needs a human. */
  conflict: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: a failure with a machine-readable code and an exit code. */
export class BluegreenError extends Error {
  /** Short machine-readable code, e.g. `BadInput`, `LockHeld`, `RolledBack`. */
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  /** Extra structured facts written to the error output (never secrets). */
  readonly details: Record<string, unknown>;

  /** Message and details are redacted here, once: a rejected input value may hold a credential. */
  constructor(code: string, exitCode: ExitCodeValue, message: string, details: Record<string, unknown> = {}) {
    super(redact(message));
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.details = redactValue(details);
  }
}

/** Bad input: names the field and what is wrong with it. Exit 2. */
export class InputError extends BluegreenError {
  readonly field: string;
  constructor(field: string, problem: string, details: Record<string, unknown> = {}) {
    super('BadInput', ExitCode.badInput, `${field}: ${problem}`, { field, ...details });
    this.field = field;
  }
}

/** Conflict: a lock is held, or the cluster needs a human. Exit 3. */
export class ConflictError extends BluegreenError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, ExitCode.conflict, message, details);
  }
}

/** The operation failed but the cluster was left safe. Exit 1. */
export class OperationFailedError extends BluegreenError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, ExitCode.failed, message, details);
  }
}

/** Renders any thrown value as one line, without stack noise (redacted: SDK errors may quote a URL). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const name = (error as { name?: string }).name;
    return redact(
      name && name !== 'Error' && !(error instanceof BluegreenError) ? `${name}: ${error.message}` : error.message,
    );
  }
  return redact(String(error));
}
