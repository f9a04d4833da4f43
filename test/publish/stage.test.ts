import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { awsClients, type AwsClients } from '../../src/aws/clients';
import { emulatorEnv, startMoto, useEmulator, type MotoServer } from '../helpers/moto';

const root = join(__dirname, '..', '..');
const bundle = join(root, 'resources', 'bluegreen', 'publish.js');
let moto: MotoServer;
let aws: AwsClients;
let dir: string;

test.before(async () => {
  moto = await startMoto();
  useEmulator(moto.endpoint);
  aws = awsClients('us-east-1');
  dir = mkdtempSync(join(tmpdir(), 'publish-stage-'));
  await aws.s3.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
});

test.after.always(async () => {
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  exitCode: number;
  output: Record<string, unknown> & { error?: { code: string; message: string; field?: string; exitCode: number } };
  stderr: string;
}

let runs = 0;
/** Runs `node <script> [...prefix] --input in.json --output out.json` against moto. */
function runStage(input: Record<string, unknown>, command: string[] = [bundle]): Promise<Run> {
  runs += 1;
  const inputPath = join(dir, `in-${runs}.json`);
  const outputPath = join(dir, `out-${runs}.json`);
  writeFileSync(inputPath, JSON.stringify(input));
  return new Promise((resolve) => {
    execFile(
      'node',
      [...command, '--input', inputPath, '--output', outputPath],
      { env: { ...process.env, ...emulatorEnv(moto.endpoint) } },
      (error, _stdout, stderr) => {
        const exitCode = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ exitCode, output: JSON.parse(readFileSync(outputPath, 'utf8')), stderr });
      },
    );
  });
}

function file(name: string, content: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Everything in moto's S3: buckets and their keys. */
async function s3State(): Promise<string[]> {
  const buckets = (await aws.s3.send(new ListBucketsCommand({}))).Buckets ?? [];
  const state: string[] = [];
  for (const bucket of buckets) {
    const objects = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket.Name }));
    state.push(`${bucket.Name}:`, ...(objects.Contents ?? []).map((o) => `${bucket.Name}/${o.Key}`));
  }
  return state.sort();
}

test.serial(
  'the bundle publishes with a key template and writes the outputs of the stage contract; again = no-op',
  async (t) => {
    const artifact = file('web-3.1.0.zip', randomBytes(2048));
    const input = {
      file: artifact,
      bucket: 'artifacts',
      keyTemplate: '{app}/{version}/{buildNumber}/{fileName}',
      app: 'web',
      version: '3.1.0',
      buildNumber: 12,
      buildUrl: 'https://ci.example.com/job/web/12/',
      gitCommit: '0123456789abcdef0123456789abcdef01234567',
    };
    const first = await runStage(input);
    t.is(first.exitCode, 0, first.stderr);
    t.like(first.output, {
      artifactUrl: 's3://artifacts/web/3.1.0/12/web-3.1.0.zip',
      httpsUrl: 'https://artifacts.s3.us-east-1.amazonaws.com/web/3.1.0/12/web-3.1.0.zip',
      bucket: 'artifacts',
      key: 'web/3.1.0/12/web-3.1.0.zip',
      size: 2048,
      versionId: null,
      contentType: 'application/zip',
      published: true,
      alreadyPublished: false,
    });
    t.regex(String(first.output.sha256), /^[0-9a-f]{64}$/);
    t.regex(
      first.stderr,
      /publishing .*web-3\.1\.0\.zip \(2\.0 KiB\) to s3:\/\/artifacts\/web\/3\.1\.0\/12\/web-3\.1\.0\.zip/,
    );
    t.regex(first.stderr, /published s3:\/\/artifacts\/.* 2\.0 KiB in [\d.]+ s \(.*\/s\), sha256 [0-9a-f]{64}/);

    const again = await runStage(input);
    t.is(again.exitCode, 0);
    t.like(again.output, {
      published: false,
      alreadyPublished: true,
      sha256: first.output.sha256,
      etag: first.output.etag,
    });
    t.regex(again.stderr, /already published/);
  },
);

test.serial(
  'different content at the same key: exit 3, the message says to bump the version or set overwrite',
  async (t) => {
    const input = { bucket: 'artifacts', key: 'api/1.0.0/api.jar', version: '1.0.0' };
    t.is((await runStage({ ...input, file: file('api-a.jar', randomBytes(1000)) })).exitCode, 0);
    const before = await s3State();
    const refused = await runStage({ ...input, file: file('api-b.jar', randomBytes(1000)) });
    t.is(refused.exitCode, 3);
    t.is(refused.output.error?.code, 'ArtifactExists');
    t.regex(refused.output.error?.message ?? '', /bump the version .* overwrite/);
    t.regex(refused.stderr, /conflict: s3:\/\/artifacts\/api\/1\.0\.0\/api\.jar already holds different content/);
    t.deepEqual(await s3State(), before);
    const replaced = await runStage({ ...input, file: file('api-b.jar', randomBytes(1000)), overwrite: true });
    t.is(replaced.exitCode, 0);
    t.like(replaced.output, { published: true, replaced: true });
  },
);

const badInputs: Array<[string, () => Record<string, unknown>, string, RegExp]> = [
  [
    'a missing file',
    () => ({ file: join(dir, 'nope.tgz'), bucket: 'artifacts', key: 'k/nope.tgz' }),
    'file',
    /no such file/,
  ],
  [
    'an empty file',
    () => ({ file: file('empty.tgz', ''), bucket: 'artifacts', key: 'k/empty.tgz' }),
    'file',
    /empty \(0 bytes\)/,
  ],
  ['a directory', () => ({ file: dir, bucket: 'artifacts', key: 'k/dir' }), 'file', /is a directory/],
  [
    'a bucket that does not exist',
    () => ({ file: file('x1.bin', 'x'), bucket: 'no-such-bucket', key: 'k/x1.bin' }),
    'bucket',
    /does not exist \(NoSuchBucket\)/,
  ],
  [
    'a bad bucket name',
    () => ({ file: file('x2.bin', 'x'), bucket: 'Bad_Bucket', key: 'k/x2.bin' }),
    'bucket',
    /lowercase letters/,
  ],
  [
    'an s3:// bucket',
    () => ({ file: file('x3.bin', 'x'), bucket: 's3://artifacts', key: 'k/x3.bin' }),
    'bucket',
    /bucket name only/,
  ],
  [
    'a bad key',
    () => ({ file: file('x4.bin', 'x'), bucket: 'artifacts', key: '/abs/../x4.bin' }),
    'key',
    /must not start with "\/"/,
  ],
  [
    'no key at all',
    () => ({ file: file('x5.bin', 'x'), bucket: 'artifacts' }),
    'key',
    /is required: give key, or keyTemplate/,
  ],
  [
    'a template missing its value',
    () => ({ file: file('x6.bin', 'x'), bucket: 'artifacts', keyTemplate: '{app}/{version}/{fileName}', app: 'web' }),
    'version',
    /required by keyTemplate/,
  ],
  [
    'credentials in the build URL',
    () => ({ file: file('x7.bin', 'x'), bucket: 'artifacts', key: 'k/x7.bin', buildUrl: 'https://me:t0ken@ci/job/1/' }),
    'buildUrl',
    /must not carry credentials/,
  ],
  [
    'a version given as a JSON number',
    () => ({ file: file('x9.bin', 'x'), bucket: 'artifacts', keyTemplate: '{version}/{fileName}', version: 1.1 }),
    'version',
    /quote it/,
  ],
  [
    'an unknown input key',
    () => ({ file: file('x8.bin', 'x'), bucket: 'artifacts', key: 'k/x8.bin', bukcet: 'x' }),
    'bukcet',
    /not a known key/,
  ],
];

for (const [what, input, field, message] of badInputs) {
  test(`bad input, exit 2 naming "${field}", nothing changed in S3: ${what}`, async (t) => {
    const before = await s3State();
    const run = await runStage(input());
    t.is(run.exitCode, 2, run.stderr);
    t.is(run.output.error?.code, 'BadInput');
    t.is(run.output.error?.field, field);
    t.regex(run.output.error?.message ?? '', message);
    t.true(run.output.error?.message.startsWith(`${field}: `));
    t.notRegex(run.stderr, /t0ken/);
    t.deepEqual(await s3State(), before);
  });
}

test('the bluegreen CLI has a publish command', async (t) => {
  const run = await runStage({ file: join(dir, 'nope.tgz'), bucket: 'artifacts', key: 'k' }, [
    '--import',
    'tsx',
    join(root, 'src', 'cli.ts'),
    'publish',
  ]);
  t.is(run.exitCode, 2);
  t.is(run.output.error?.field, 'file');
});

test.serial(
  'SIGTERM (a Jenkins abort) during a multipart upload aborts it: exit 1, no object, no parts left',
  async (t) => {
    const artifact = file('abort.bin', randomBytes(30 * 1024 * 1024));
    const outputPath = join(dir, 'abort.out.json');
    const child = spawn(
      'node',
      [
        bundle,
        '--file',
        artifact,
        '--bucket',
        'artifacts',
        '--key',
        'abort/1/abort.bin',
        '--part-size-mi-b',
        '5',
        '--concurrency',
        '1',
        '--output',
        outputPath,
      ],
      {
        env: { ...process.env, ...emulatorEnv(moto.endpoint) },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    const exitCode = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/uploaded .* of 30\.0 MiB/.test(stderr) && !child.killed) child.kill('SIGTERM');
      });
      child.on('exit', (code) => resolve(code));
    });
    t.is(exitCode, 1, stderr);
    const output = JSON.parse(readFileSync(outputPath, 'utf8')) as Run['output'];
    t.is(output.error?.code, 'Interrupted');
    t.regex(stderr, /SIGTERM: cancelling the upload/);
    t.regex(stderr, /aborted multipart upload .*: no parts left/);
    const pending = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: 'artifacts', Prefix: 'abort/' }));
    t.deepEqual(pending.Uploads ?? [], []);
    const objects = await aws.s3.send(new ListObjectsV2Command({ Bucket: 'artifacts', Prefix: 'abort/' }));
    t.is(objects.KeyCount, 0);
  },
);
