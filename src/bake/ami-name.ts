import { InputError } from '../core/errors';

/** Characters EC2 allows in an AMI name (RegisterImage / CreateImage). */
const AMI_NAME_PATTERN = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
const AMI_NAME_FORBIDDEN = /[^A-Za-z0-9()[\] ./\-'@_]/g;

/** UTC timestamp `YYYYMMDDhhmmss`, the unique part of a generated AMI name. */
export function amiTimestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * A unique AMI name `<app>-<version>-<timestamp>`. Characters EC2 refuses
 * in an AMI name (e.g. `+` of a semver build) become `_`; the exact version
 * is kept in the AMI's tags. Packer's `force_deregister` is never used, so a
 * name must never repeat: the timestamp (to the second) makes it unique.
 */
export function makeAmiName(app: string, version: string, now: Date): string {
  const clean = (s: string) => s.replace(AMI_NAME_FORBIDDEN, '_');
  const name = `${clean(app)}-${clean(version)}-${amiTimestamp(now)}`;
  if (name.length > 128) {
    throw new InputError(
      'version',
      `AMI name "${name}" would be ${name.length} characters; EC2 allows 128 (shorten app or version, or pass amiName)`,
    );
  }
  return name;
}

/** Throws an {@link InputError} on `field` unless `name` is a valid AMI name. */
export function assertAmiName(name: string, field = 'amiName'): void {
  if (!AMI_NAME_PATTERN.test(name)) {
    throw new InputError(
      field,
      `"${name}" is not a valid AMI name: 3-128 characters of letters, digits, space and ( ) [ ] . / - ' @ _`,
    );
  }
}
