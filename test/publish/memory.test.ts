import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';
import { awsClients } from '../../src/aws/clients';
import { emulatorEnv, startMoto, useEmulator, type MotoServer } from '../helpers/moto';

/**
 * The memory bound of a big upload, measured on the real bundle in a child
 * process: its peak resident set size (the kernel's max RSS, as reported by
 * /usr/bin/time when present and by the stage itself under BLUEGREEN_DEBUG).
 */

const MIB = 1024 * 1024;
const BIG_FILE_BYTES = 200 * MIB;
const bundle = join(__dirname, '..', '..', 'resources', 'bluegreen', 'publish.js');
const timeBinary = '/usr/bin/time';
let moto: MotoServer;
let dir: string;

test.before(async () => {
  moto = await startMoto();
  useEmulator(moto.endpoint);
  dir = mkdtempSync(join(tmpdir(), 'publish-memory-'));
  await awsClients('us-east-1').s3.send(new CreateBucketCommand({ Bucket: 'big' }));
});

test.after.always(async () => {
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes `bytes` of random data in 1 MiB chunks (never the whole file in memory); returns its SHA-256. */
function writeRandomFile(path: string, bytes: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < bytes; written += MIB) {
      const chunk = randomBytes(Math.min(MIB, bytes - written));
      hash.update(chunk);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

interface MeasuredRun {
  exitCode: number;
  output: Record<string, unknown>;
  stderr: string;
  /** Peak RSS in bytes. */
  peakRss: number;
  /** Which tool measured it. */
  measuredBy: string;
}

/** Runs the publish bundle and measures its peak RSS. */
function publishMeasured(input: Record<string, unknown>, name: string): Promise<MeasuredRun> {
  const inputPath = join(dir, `${name}.in.json`);
  const outputPath = join(dir, `${name}.out.json`);
  writeFileSync(inputPath, JSON.stringify(input));
  const stageArgs = [bundle, '--input', inputPath, '--output', outputPath];
  const useTime = existsSync(timeBinary);
  const [command, args] = useTime
    ? [timeBinary, ['-f', 'time-max-rss-kib=%M', 'node', ...stageArgs]]
    : ['node', stageArgs];
  const env = { ...process.env, ...emulatorEnv(moto.endpoint), BLUEGREEN_DEBUG: '1' };
  return new Promise((resolve) => {
    execFile(command, args, { env, maxBuffer: 16 * MIB }, (error, _stdout, stderr) => {
      const exitCode = error ? Number((error as { code?: number }).code ?? 1) : 0;
      const byTime = /time-max-rss-kib=(\d+)/.exec(stderr);
      const byStage = /peak memory: maxRSS .* \((\d+) KiB\)/.exec(stderr);
      const kib = Number((byTime ?? byStage)?.[1] ?? NaN);
      resolve({
        exitCode,
        output: JSON.parse(readFileSync(outputPath, 'utf8')),
        stderr,
        peakRss: kib * 1024,
        measuredBy: byTime ? '/usr/bin/time -f %M' : 'process.resourceUsage().maxRSS',
      });
    });
  });
}

async function sha256OfObject(bucket: string, key: string): Promise<string> {
  const object = await awsClients('us-east-1').s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of object.Body as Readable) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

test('a 200 MiB artifact uploads in parts with peak memory far below its size, and reads back intact', async (t) => {
  // Baseline: the same bundle publishing a tiny file (Node + the AWS SDK, no file data).
  writeFileSync(join(dir, 'tiny.bin'), 'tiny');
  const baseline = await publishMeasured({ file: join(dir, 'tiny.bin'), bucket: 'big', key: 'tiny.bin' }, 'tiny');
  t.is(baseline.exitCode, 0, baseline.stderr);

  const bigPath = join(dir, 'big.bin');
  const sha256 = writeRandomFile(bigPath, BIG_FILE_BYTES);
  const big = await publishMeasured(
    { file: bigPath, bucket: 'big', key: 'app/1.0.0/big.bin', version: '1.0.0' },
    'big',
  );
  rmSync(bigPath);
  t.is(big.exitCode, 0, big.stderr);
  t.like(big.output, { sha256, size: BIG_FILE_BYTES, published: true, partCount: 25 });

  const growth = big.peakRss - baseline.peakRss;
  t.log(
    `file ${mib(BIG_FILE_BYTES)}: peak RSS ${mib(big.peakRss)} (${((big.peakRss / BIG_FILE_BYTES) * 100).toFixed(0)}% of the file), ` +
      `baseline (tiny file) ${mib(baseline.peakRss)}, growth ${mib(growth)}; measured by ${big.measuredBy}`,
  );
  // The memory bound, not a timing: file data in memory is at most 4 parts × 8 MiB = 32 MiB (plus GC slack),
  // on top of a fixed ~85 MiB for Node and the AWS SDK. Whole-file buffering would add 200 MiB.
  t.true(growth < 64 * MIB, `peak RSS grew by ${mib(growth)} over the baseline; the bound is 64 MiB`);
  t.true(big.peakRss < BIG_FILE_BYTES * 0.75, `peak RSS ${mib(big.peakRss)} is not well under the file size`);

  t.regex(big.stderr, /uploading in 25 parts of 8\.0 MiB, 4 at a time/);
  t.regex(big.stderr, /uploaded .* of 200\.0 MiB \(\d+%, part \d+\/25, .*\/s\)/);
  t.regex(big.stderr, /published s3:\/\/big\/app\/1\.0\.0\/big\.bin: 200\.0 MiB in [\d.]+ s/);

  t.is(await sha256OfObject('big', 'app/1.0.0/big.bin'), sha256, 'the object read back hashes to the file SHA-256');
  const s3 = awsClients('us-east-1').s3;
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'big', Key: 'app/1.0.0/big.bin' }));
  t.is(head.Metadata?.sha256, sha256);
  t.is(head.Metadata?.version, '1.0.0');
  const pending = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'big' }));
  t.deepEqual(pending.Uploads ?? [], []);
});
