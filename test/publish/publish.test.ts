import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { awsClients, type AwsClients } from '../../src/aws/clients';
import { CallCounter } from '../../src/aws/call-counter';
import { BluegreenError, ConflictError, ExitCode } from '../../src/core/errors';
import { silentLogger } from '../../src/core/log';
import { uploadInParts } from '../../src/publish/multipart';
import { publishArtifact, type PublishRequest, type PublishTuning } from '../../src/publish/publish-artifact';
import { startMoto, useEmulator, type MotoServer } from '../helpers/moto';

const MIB = 1024 * 1024;
/** Multipart from 5 MiB, 5 MiB parts: a 12 MiB file makes 3 parts, quickly. */
const SMALL_PARTS: Partial<PublishTuning> = { multipartThreshold: 5 * MIB, partSize: 5 * MIB, concurrency: 2 };

let moto: MotoServer;
let aws: AwsClients;
let dir: string;

test.before(async () => {
  moto = await startMoto();
  useEmulator(moto.endpoint);
  aws = awsClients('us-east-1');
  dir = mkdtempSync(join(tmpdir(), 'publish-'));
  await aws.s3.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
  await aws.s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
  await aws.s3.send(
    new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }),
  );
});

test.after.always(async () => {
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function artifact(name: string, content: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function request(file: string, key: string, extra: Partial<PublishRequest> = {}): PublishRequest {
  return {
    file,
    bucket: 'artifacts',
    key,
    region: 'us-east-1',
    overwrite: false,
    contentType: 'application/gzip',
    build: {},
    ...extra,
  };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function readBack(bucket: string, key: string): Promise<Buffer> {
  const object = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

/** The shared clients, with an S3 client whose calls this test alone counts (one per command sent). */
function countedClients(): { clients: AwsClients; calls: CallCounter } {
  const calls = new CallCounter();
  const send = aws.s3.send.bind(aws.s3) as (command: unknown, options?: unknown) => Promise<unknown>;
  const s3 = Object.create(aws.s3) as typeof aws.s3;
  s3.send = ((command: { constructor: { name: string } }, options?: unknown) => {
    calls.record('s3', command.constructor.name.replace(/Command$/, ''));
    return send(command, options);
  }) as typeof aws.s3.send;
  return { clients: { ...aws, s3, calls }, calls };
}

test('a small file is uploaded whole, with its SHA-256 as S3 checksum and metadata, build facts included', async (t) => {
  const content = randomBytes(100_000);
  const file = artifact('web-1.0.0.tar.gz', content);
  const build = {
    buildUrl: 'https://ci.example.com/job/web/7/',
    gitCommit: 'abcdef1234567',
    version: '1.0.0',
    app: 'web',
    buildNumber: '7',
  };
  const result = await publishArtifact(aws, request(file, 'web/1.0.0/web-1.0.0.tar.gz', { build }), {
    log: silentLogger,
  });

  t.like(result, {
    artifactUrl: 's3://artifacts/web/1.0.0/web-1.0.0.tar.gz',
    httpsUrl: 'https://artifacts.s3.us-east-1.amazonaws.com/web/1.0.0/web-1.0.0.tar.gz',
    sha256: sha256(content),
    size: content.length,
    versionId: null,
    published: true,
    alreadyPublished: false,
    partCount: 1,
  });
  t.deepEqual(result.s3Checksum, {
    algorithm: 'SHA256',
    type: 'FULL_OBJECT',
    value: createHash('sha256').update(content).digest('base64'),
  });
  t.is(
    sha256(await readBack('artifacts', result.key)),
    sha256(content),
    'the bytes read back hash to the published sha256',
  );
  const head = await aws.s3.send(
    new HeadObjectCommand({ Bucket: 'artifacts', Key: result.key, ChecksumMode: 'ENABLED' }),
  );
  t.is(head.ChecksumSHA256, result.s3Checksum?.value);
  t.is(head.ContentType, 'application/gzip');
  t.deepEqual(head.Metadata, {
    sha256: sha256(content),
    'published-by': 'bluegreen',
    'build-url': build.buildUrl,
    'git-commit': build.gitCommit,
    version: '1.0.0',
    app: 'web',
    'build-number': '7',
  });
});

test('publishing the same content again writes nothing and reports the existing object', async (t) => {
  const file = artifact('same.bin', randomBytes(50_000));
  const first = await publishArtifact(aws, request(file, 'same/1/same.bin'), { log: silentLogger });
  const { clients, calls } = countedClients();
  const again = await publishArtifact(clients, request(file, 'same/1/same.bin'), { log: silentLogger });
  t.true(again.alreadyPublished);
  t.false(again.published);
  t.is(again.etag, first.etag);
  t.is(again.sha256, first.sha256);
  t.deepEqual(calls.snapshot(), { 's3:HeadObject': 1 }, 'only the object was inspected: no PutObject, no multipart');
});

test('different content at an existing key is refused (exit 3, says to bump the version or set overwrite); overwrite replaces it', async (t) => {
  const key = 'web/2.0.0/web.tgz';
  const original = randomBytes(40_000);
  await publishArtifact(aws, request(artifact('v2-a.tgz', original), key), { log: silentLogger });
  const other = randomBytes(40_000);
  const otherFile = artifact('v2-b.tgz', other);

  const refused = await t.throwsAsync(publishArtifact(aws, request(otherFile, key), { log: silentLogger }), {
    instanceOf: ConflictError,
  });
  t.is(refused?.exitCode, ExitCode.conflict);
  t.is(refused?.code, 'ArtifactExists');
  t.regex(refused?.message ?? '', /bump the version.*overwrite/);
  t.is(sha256(await readBack('artifacts', key)), sha256(original), 'the original is untouched');

  const replaced = await publishArtifact(aws, request(otherFile, key, { overwrite: true }), { log: silentLogger });
  t.true(replaced.published);
  t.true(replaced.replaced);
  t.is(sha256(await readBack('artifacts', key)), sha256(other));
});

test('an object someone else wrote without our metadata counts as different content', async (t) => {
  await aws.s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'foreign/a.bin', Body: 'hello' }));
  const error = await t.throwsAsync(
    publishArtifact(aws, request(artifact('a.bin', Buffer.from('hello')), 'foreign/a.bin'), { log: silentLogger }),
    {
      instanceOf: ConflictError,
    },
  );
  t.regex(error?.message ?? '', /no sha256 metadata/);
});

test('two concurrent publishers of different content: exactly one wins, the other gets a conflict', async (t) => {
  const a = randomBytes(30_000);
  const b = randomBytes(30_000);
  const key = 'race/1/app.bin';
  const results = await Promise.allSettled([
    publishArtifact(aws, request(artifact('race-a.bin', a), key), { log: silentLogger }),
    publishArtifact(aws, request(artifact('race-b.bin', b), key), { log: silentLogger }),
  ]);
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.is(won.length, 1);
  t.is(lost.length, 1);
  t.true(lost[0]?.reason instanceof ConflictError);
  const stored = sha256(await readBack('artifacts', key));
  t.is(stored, (won[0] as PromiseFulfilledResult<{ sha256: string }>).value.sha256);
});

test('the conditional write itself refuses to land on an object it did not inspect', async (t) => {
  // What the loser of a race sees: If-None-Match: * against an object that appeared after the check.
  await aws.s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'cond/x', Body: 'first', IfNoneMatch: '*' }));
  const error = await t.throwsAsync(
    aws.s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'cond/x', Body: 'second', IfNoneMatch: '*' })),
  );
  t.is((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 412);
});

test('a versioned bucket reports the versionId; re-publishing reports the same one', async (t) => {
  const file = artifact('versioned.bin', randomBytes(20_000));
  const first = await publishArtifact(aws, request(file, 'v/1/versioned.bin', { bucket: 'versioned' }), {
    log: silentLogger,
  });
  t.truthy(first.versionId);
  const head = await aws.s3.send(new HeadObjectCommand({ Bucket: 'versioned', Key: 'v/1/versioned.bin' }));
  t.is(first.versionId, head.VersionId ?? null);
  const again = await publishArtifact(aws, request(file, 'v/1/versioned.bin', { bucket: 'versioned' }), {
    log: silentLogger,
  });
  t.true(again.alreadyPublished);
  t.is(again.versionId, first.versionId);
});

test('a file over the threshold goes multipart with a COMPOSITE SHA-256 checksum and reads back intact', async (t) => {
  const content = randomBytes(12 * MIB + 123);
  const file = artifact('multi.bin', content);
  const { clients, calls } = countedClients();
  const result = await publishArtifact(clients, request(file, 'multi/1/multi.bin'), {
    log: silentLogger,
    tuning: SMALL_PARTS,
  });
  t.is(result.partCount, 3);
  t.is(result.sha256, sha256(content));
  t.like(calls.snapshot(), { 's3:CreateMultipartUpload': 1, 's3:UploadPart': 3, 's3:CompleteMultipartUpload': 1 });
  const partDigests = [0, 1, 2].map((i) =>
    createHash('sha256')
      .update(content.subarray(i * 5 * MIB, (i + 1) * 5 * MIB))
      .digest(),
  );
  const composite = `${createHash('sha256').update(Buffer.concat(partDigests)).digest('base64')}-3`;
  t.deepEqual(result.s3Checksum, { algorithm: 'SHA256', type: 'COMPOSITE', value: composite });
  const head = await aws.s3.send(
    new HeadObjectCommand({ Bucket: 'artifacts', Key: 'multi/1/multi.bin', ChecksumMode: 'ENABLED' }),
  );
  // AWS answers `digest-N` for a composite checksum; moto 5.2 leaves the `-N` off.
  t.is(
    head.ChecksumSHA256?.replace(/-\d+$/, ''),
    composite.replace(/-3$/, ''),
    'S3 (moto) computed the same composite checksum from the parts',
  );
  t.is(head.ChecksumType, 'COMPOSITE');
  const pending = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: 'artifacts', Prefix: 'multi/' }));
  t.deepEqual(pending.Uploads ?? [], [], 'the completed upload is no longer pending');
  t.is(head.Metadata?.sha256, sha256(content));
  t.is(sha256(await readBack('artifacts', 'multi/1/multi.bin')), sha256(content));

  const again = await publishArtifact(clients, request(file, 'multi/1/multi.bin'), {
    log: silentLogger,
    tuning: SMALL_PARTS,
  });
  t.true(again.alreadyPublished);
  t.is(again.partCount, 3);
});

test('a cancelled multipart upload is aborted: no object, no parts left', async (t) => {
  const file = artifact('cancel.bin', randomBytes(16 * MIB));
  const controller = new AbortController();
  const logLines: string[] = [];
  const log = {
    ...silentLogger,
    info: (line: string) => {
      logLines.push(line);
      if (line.startsWith('uploaded ')) controller.abort(new Error('SIGTERM'));
    },
  };
  const error = await t.throwsAsync(
    publishArtifact(aws, request(file, 'cancel/1/cancel.bin'), {
      log,
      tuning: { ...SMALL_PARTS, concurrency: 1 },
      signal: controller.signal,
    }),
    { instanceOf: BluegreenError },
  );
  t.is(error?.code, 'Interrupted');
  const PREFIX = 'cancel/';
  t.is(error?.exitCode, ExitCode.failed);
  t.true(logLines.some((line) => line.startsWith('aborted multipart upload')));
  const uploads = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: 'artifacts', Prefix: PREFIX }));
  t.deepEqual(uploads.Uploads ?? [], []);
  const objects = await aws.s3.send(new ListObjectsV2Command({ Bucket: 'artifacts', Prefix: 'cancel/' }));
  t.is(objects.KeyCount, 0);
});

test('bytes that differ from the hash pass (file changed) abort the upload before it completes', async (t) => {
  const content = randomBytes(11 * MIB);
  const path = artifact('changed.bin', content);
  const error = await t.throwsAsync(
    uploadInParts(aws.s3, {
      bucket: 'artifacts',
      key: 'changed/1/changed.bin',
      path,
      size: content.length,
      sha256Hex: 'f'.repeat(64),
      metadata: {},
      contentType: 'application/octet-stream',
      condition: { kind: 'absent' },
      partSize: 5 * MIB,
      concurrency: 2,
      log: silentLogger,
    }),
    { instanceOf: BluegreenError },
  );
  t.is(error?.code, 'FileChanged');
  const PREFIX = 'changed/';
  const uploads = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: 'artifacts', Prefix: PREFIX }));
  t.deepEqual(uploads.Uploads ?? [], []);
  const objects = await aws.s3.send(new ListObjectsV2Command({ Bucket: 'artifacts', Prefix: 'changed/' }));
  t.is(objects.KeyCount, 0);
  t.is(readFileSync(path).length, content.length);
});
