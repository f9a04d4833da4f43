import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { MOTO_INSTALL_HINT } from '../src/sandbox/moto-process';

/**
 * The two programs the demo needs besides Node: moto_server (the AWS API) and
 * packer (the bake). Checked before anything starts, so a newcomer gets one
 * message with the install lines instead of a stack trace halfway through.
 */

export interface Prerequisite {
  command: string;
  install: string;
}

export const PREREQUISITES: readonly Prerequisite[] = [
  { command: 'moto_server', install: MOTO_INSTALL_HINT },
  {
    command: 'packer',
    install: 'apt-get install packer (Debian/Ubuntu), or see https://developer.hashicorp.com/packer/install',
  },
];

/** Whether `command` is an executable file on PATH. */
export function onPath(command: string, path = process.env.PATH ?? ''): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** The prerequisites missing from PATH. */
export function missingPrerequisites(path = process.env.PATH ?? ''): Prerequisite[] {
  return PREREQUISITES.filter((p) => !onPath(p.command, path));
}

/** One message naming what is missing and how to install it. */
export function missingMessage(missing: readonly Prerequisite[]): string {
  const lines = missing.map((p) => `  ${p.command}: ${p.install}`);
  return `the demo needs ${missing.map((p) => p.command).join(' and ')} on PATH; install:\n${lines.join('\n')}`;
}
