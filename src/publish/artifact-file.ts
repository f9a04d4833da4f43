import { createHash } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InputError } from '../core/errors';

/**
 * The local artifact: checked before any AWS call, hashed by streaming (a
 * fixed 1 MiB read buffer, whatever the file size), read whole only when small.
 */

/** A file that exists, is a regular file, is readable and is not empty. */
export interface ArtifactFile {
  path: string;
  /** Base name, e.g. `web-1.4.2.tar.gz` (the `{fileName}` placeholder). */
  fileName: string;
  size: number;
  /** Modification time in ms, to notice a file rewritten while we publish it. */
  modifiedMs: number;
}

/** Reads the file's facts; throws {@link InputError} on `field` when it is not a publishable file. */
export function checkArtifactFile(field: string, path: string): ArtifactFile {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(field, `no such file: ${path}`);
    throw new InputError(field, `cannot read ${path}: ${code ?? String(error)}`);
  }
  if (stats.isDirectory())
    throw new InputError(field, `${path} is a directory; publish one file (archive the folder first)`);
  if (!stats.isFile()) throw new InputError(field, `${path} is not a regular file`);
  if (stats.size === 0)
    throw new InputError(field, `${path} is empty (0 bytes): refusing to publish an empty artifact`);
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new InputError(field, `${path} is not readable by this user`);
  }
  return { path, fileName: basename(path), size: stats.size, modifiedMs: stats.mtimeMs };
}

/** Bytes per read while hashing: the memory a hash pass needs, whatever the file size. */
const HASH_READ_BYTES = 1024 * 1024;

/**
 * SHA-256 of a file, hex, and the byte count read. One buffer is reused for
 * every read (a read stream would allocate a fresh chunk each time and leave
 * the garbage collector tens of MiB behind on a big file).
 */
export async function sha256OfFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(HASH_READ_BYTES);
  let bytes = 0;
  const file = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, bytes);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
    }
  } finally {
    await file.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Reads a small file whole, with its SHA-256 (one pass). */
export async function readSmallFile(path: string): Promise<{ body: Buffer; sha256: string; size: number }> {
  const body = await readFile(path);
  return { body, sha256: createHash('sha256').update(body).digest('hex'), size: body.length };
}

const CONTENT_TYPES: ReadonlyArray<[string, string]> = [
  ['.tar.gz', 'application/gzip'],
  ['.tgz', 'application/gzip'],
  ['.gz', 'application/gzip'],
  ['.zip', 'application/zip'],
  ['.jar', 'application/java-archive'],
  ['.war', 'application/java-archive'],
  ['.tar', 'application/x-tar'],
  ['.deb', 'application/vnd.debian.binary-package'],
  ['.rpm', 'application/x-rpm'],
  ['.json', 'application/json'],
  ['.txt', 'text/plain; charset=utf-8'],
];

/** A content type from the file name; `application/octet-stream` when unknown. */
export function guessContentType(fileName: string): string {
  const lower = fileName.toLowerCase();
  const match = CONTENT_TYPES.find(([suffix]) => lower.endsWith(suffix));
  return match ? match[1] : 'application/octet-stream';
}
