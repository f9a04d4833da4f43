/**
 * Upload throughput of `publish` against a local moto_server, per part size
 * and concurrency, in-process. Prints a table; asserts nothing.
 *
 *   npx tsx bench/publish-bench.ts [sizeMiB=128]
 *
 * Numbers against moto measure our client side (read, hash, sign, send) and
 * moto's Python server, not S3: use them to compare settings, not to predict
 * AWS throughput (S3 scales with parts in flight; moto mostly does not).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { awsClients } from '../src/aws/clients';
import { silentLogger } from '../src/core/log';
import { sha256OfFile } from '../src/publish/artifact-file';
import { publishArtifact } from '../src/publish/publish-artifact';
import { startMoto, useEmulator } from '../test/helpers/moto';

const MIB = 1024 * 1024;

function writeRandomFile(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < bytes; written += MIB) writeSync(fd, randomBytes(Math.min(MIB, bytes - written)));
  } finally {
    closeSync(fd);
  }
}

async function main(): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? 128);
  const moto = await startMoto();
  const dir = mkdtempSync(join(tmpdir(), 'publish-bench-'));
  try {
    useEmulator(moto.endpoint);
    const aws = awsClients('us-east-1');
    await aws.s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const file = join(dir, 'artifact.bin');
    writeRandomFile(file, sizeMiB * MIB);

    const hashStarted = Date.now();
    await sha256OfFile(file);
    const hashSeconds = (Date.now() - hashStarted) / 1000;
    console.log(`file ${sizeMiB} MiB; SHA-256 pass alone: ${(sizeMiB / hashSeconds).toFixed(0)} MiB/s`);
    console.log('partMiB  concurrency  seconds  MiB/s   maxRSS(MiB, process so far)');
    let run = 0;
    for (const partMiB of [8, 16]) {
      for (const concurrency of [1, 4, 8]) {
        run += 1;
        const started = Date.now();
        await publishArtifact(
          aws,
          {
            file,
            bucket: 'bench',
            key: `run-${run}/artifact.bin`,
            region: 'us-east-1',
            overwrite: false,
            contentType: 'application/octet-stream',
            build: {},
          },
          { log: silentLogger, tuning: { partSize: partMiB * MIB, concurrency } },
        );
        const seconds = (Date.now() - started) / 1000;
        const rss = process.resourceUsage().maxRSS / 1024;
        console.log(
          `${String(partMiB).padStart(7)}  ${String(concurrency).padStart(11)}  ${seconds.toFixed(1).padStart(7)}  ${(sizeMiB / seconds).toFixed(1).padStart(5)}   ${rss.toFixed(0)}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await moto.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
