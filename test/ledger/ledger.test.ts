import test from 'ava';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CallCounter } from '../../src/aws/call-counter';
import { awsClients } from '../../src/aws/clients';
import { InputError } from '../../src/core/errors';
import {
  appendRecord,
  findDeployment,
  latestPerDeployment,
  latestRecordFor,
  listRecords,
  newDeploymentId,
  parseRecordKey,
  recordKey,
  type LedgerRef,
  type NewDeploymentRecord,
} from '../../src/ledger';
import { startMoto, useEmulator, type MotoServer } from '../helpers/moto';

let moto: MotoServer;
const BUCKET = 'deploy-ledger';
let bucketCount = 0;

test.before(async () => {
  moto = await startMoto();
  useEmulator(moto.endpoint);
  await awsClients('us-east-1').s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

test.after.always(async () => {
  await moto?.stop();
});

const aws = () => awsClients('us-east-1');
/** Each test its own prefix, so tests run side by side. */
const ledgerFor = (name: string): LedgerRef => ({ bucket: BUCKET, prefix: `t/${name}-${(bucketCount += 1)}` });

function record(overrides: Partial<NewDeploymentRecord> = {}): NewDeploymentRecord {
  return {
    kind: 'deploy',
    result: 'succeeded',
    deploymentId: newDeploymentId(),
    cluster: 'web-prod',
    region: 'us-east-1',
    startedAt: '2026-11-26T05:40:12Z',
    who: 'alice',
    buildUrl: 'https://jenkins.example.com/job/web/12/',
    ...overrides,
  };
}

test('records are listed newest first, limited, and other clusters are not mixed in', async (t) => {
  const ledger = ledgerFor('order');
  for (let i = 1; i <= 5; i += 1) await appendRecord(aws(), ledger, record({ version: `1.0.${i}` }));
  await appendRecord(aws(), ledger, record({ cluster: 'web-prod-canary', version: 'canary' }));
  await appendRecord(aws(), ledger, record({ cluster: 'web', version: 'web-only' }));

  const all = await listRecords(aws(), ledger, 'web-prod', { limit: 100 });
  t.deepEqual(
    all.map((r) => r.version),
    ['1.0.5', '1.0.4', '1.0.3', '1.0.2', '1.0.1'],
  );
  t.true(
    all.every(
      (r) => r.cluster === 'web-prod' && r.schema === 1 && r.key.startsWith(`${ledger.prefix}/web-prod/records/`),
    ),
  );
  const last2 = await listRecords(aws(), ledger, 'web-prod', { limit: 2 });
  t.deepEqual(
    last2.map((r) => r.version),
    ['1.0.5', '1.0.4'],
  );
  t.deepEqual(
    (await listRecords(aws(), ledger, 'web')).map((r) => r.version),
    ['web-only'],
  );
  t.deepEqual(await listRecords(aws(), ledger, 'nothing-here'), []);
});

test('listing walks pages: small pages give the same newest-first result', async (t) => {
  const ledger = ledgerFor('pages');
  const base = Date.parse('2026-01-01T00:00:00Z');
  // Explicit append times, out of order: the key sorts them, not the write order.
  const order = [3, 9, 0, 7, 1, 8, 2, 6, 4, 5, 11, 10];
  await Promise.all(
    order.map((n) =>
      appendRecord(aws(), ledger, record({ version: `v${n}`, recordedAt: new Date(base + n * 1000).toISOString() })),
    ),
  );
  // A client of its own, so calls of tests running alongside are not counted.
  const counter = new CallCounter();
  const s3 = new S3Client({ region: 'us-east-1', forcePathStyle: true });
  counter.attach('s3', s3);
  const seven = await listRecords({ s3 }, ledger, 'web-prod', { limit: 7, pageSize: 3 });
  t.deepEqual(
    seven.map((r) => r.version),
    ['v11', 'v10', 'v9', 'v8', 'v7', 'v6', 'v5'],
  );
  t.is(counter.snapshot()['s3:ListObjectsV2'], 3, 'three pages of 3 keys for 7 records');
  t.is(counter.snapshot()['s3:GetObject'], 7, 'only the records asked for are read');
  const everything = await listRecords(aws(), ledger, 'web-prod', { limit: 1000, pageSize: 5 });
  t.is(everything.length, 12);
});

test('20 concurrent appends all land (append-only, no lost update)', async (t) => {
  const ledger = ledgerFor('concurrent');
  const ids = Array.from({ length: 20 }, () => newDeploymentId());
  await Promise.all(ids.map((deploymentId) => appendRecord(aws(), ledger, record({ deploymentId }))));
  const listed = await listRecords(aws(), ledger, 'web-prod', { limit: 50 });
  t.is(listed.length, 20);
  t.deepEqual(listed.map((r) => r.deploymentId).sort(), [...ids].sort());
});

test('records of one run keep their order; latestRecordFor gives the current state of a deployment', async (t) => {
  const ledger = ledgerFor('latest');
  const id = newDeploymentId();
  const other = newDeploymentId();
  await appendRecord(aws(), ledger, record({ deploymentId: id, result: 'started' }));
  await appendRecord(aws(), ledger, record({ deploymentId: other, result: 'started' }));
  await appendRecord(aws(), ledger, record({ deploymentId: id, result: 'failed', reason: 'targets unhealthy' }));
  await appendRecord(aws(), ledger, record({ deploymentId: other, result: 'succeeded' }));
  const latest = await latestRecordFor(aws(), ledger, 'web-prod', id);
  t.is(latest?.result, 'failed');
  t.is(latest?.reason, 'targets unhealthy');
  t.is(await latestRecordFor(aws(), ledger, 'web-prod', 'no-such-deployment'), null);
  const perDeployment = latestPerDeployment(await listRecords(aws(), ledger, 'web-prod', { limit: 10 }));
  t.deepEqual(
    perDeployment.map((r) => `${r.deploymentId}:${r.result}`),
    [`${other}:succeeded`, `${id}:failed`],
  );
});

test('findDeployment finds the newest successful record by server group, version, AMI or id', async (t) => {
  const ledger = ledgerFor('find');
  const launchSettings = {
    instanceType: 't3.small',
    subnetIds: ['subnet-1'],
    securityGroupIds: ['sg-1'],
    userDataSha256: 'ab'.repeat(32),
  };
  const old = await appendRecord(
    aws(),
    ledger,
    record({ serverGroup: 'web-prod-v001', version: '1.0', amiId: 'ami-00000001', launchSettings }),
  );
  await appendRecord(
    aws(),
    ledger,
    record({ serverGroup: 'web-prod-v002', version: '1.1', amiId: 'ami-00000002', result: 'failed' }),
  );
  const v3 = await appendRecord(
    aws(),
    ledger,
    record({ serverGroup: 'web-prod-v003', version: '1.2', amiId: 'ami-00000003' }),
  );
  // Names wrap at 1000: a newer v001 wins over the old one.
  const again = await appendRecord(
    aws(),
    ledger,
    record({ serverGroup: 'web-prod-v001', version: '2.0', amiId: 'ami-00000004' }),
  );

  t.is((await findDeployment(aws(), ledger, 'web-prod', { serverGroup: 'web-prod-v001' }))?.amiId, 'ami-00000004');
  t.is((await findDeployment(aws(), ledger, 'web-prod', { version: '1.0' }))?.key, old.key);
  t.deepEqual(
    (await findDeployment(aws(), ledger, 'web-prod', { amiId: 'ami-00000001' }))?.launchSettings,
    launchSettings,
  );
  t.is(
    await findDeployment(aws(), ledger, 'web-prod', { version: '1.1' }),
    null,
    'failed deploys do not count by default',
  );
  t.is((await findDeployment(aws(), ledger, 'web-prod', { version: '1.1', result: 'any' }))?.result, 'failed');
  t.is((await findDeployment(aws(), ledger, 'web-prod', { deploymentId: v3.deploymentId }))?.version, '1.2');
  t.is(
    (await findDeployment(aws(), ledger, 'web-prod', { serverGroup: 'web-prod-v001', version: '2.0' }))?.key,
    again.key,
  );
  await t.throwsAsync(findDeployment(aws(), ledger, 'web-prod', {}), { instanceOf: InputError });
});

test('foreign objects under the records prefix are skipped, not fatal', async (t) => {
  const ledger = ledgerFor('foreign');
  await appendRecord(aws(), ledger, record({ version: 'real' }));
  const s3 = aws().s3;
  await s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: `${ledger.prefix}/web-prod/records/README.txt`, Body: 'hello' }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: recordKey(ledger, 'web-prod', Date.now() + 5000, 'broken-one'),
      Body: '{not json',
    }),
  );
  t.deepEqual(
    (await listRecords(aws(), ledger, 'web-prod')).map((r) => r.version),
    ['real'],
  );
});

test('records are validated before anything is written; secrets are redacted, the record still written', async (t) => {
  const ledger = ledgerFor('secrets');
  await t.throwsAsync(appendRecord(aws(), ledger, record({ kind: 'bogus' as never })), {
    instanceOf: InputError,
    message: /record\.kind/,
  });
  await t.throwsAsync(appendRecord(aws(), ledger, record({ startedAt: 'yesterday' })), {
    instanceOf: InputError,
    message: /record\.startedAt/,
  });
  await t.throwsAsync(appendRecord(aws(), ledger, record({ deploymentId: 'a/b' })), {
    instanceOf: InputError,
    message: /record\.deploymentId/,
  });
  const listed = await aws().s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${ledger.prefix}/` }));
  t.is(listed.KeyCount ?? 0, 0, 'nothing written');

  const withPassword = await appendRecord(
    aws(),
    ledger,
    record({ launchSettings: { other: { dbPassword: 'hunter2' } } }),
  );
  t.is(withPassword.launchSettings?.other?.dbPassword, 'REDACTED');
  const withKey = await appendRecord(aws(), ledger, record({ message: 'key AKIAABCDEFGHIJKLMNOP leaked' }));
  t.is(withKey.message, 'key REDACTED leaked');
  const stored = await appendRecord(
    aws(),
    ledger,
    record({ buildUrl: 'https://bob:apitoken@jenkins.example.com/job/web/3/' }),
  );
  t.is(stored.buildUrl, 'https://jenkins.example.com/job/web/3/');
  const text = JSON.stringify(await listRecords(aws(), ledger, 'web-prod', { limit: 10 }));
  for (const secret of ['hunter2', 'AKIAABCDEFGHIJKLMNOP', 'apitoken']) t.false(text.includes(secret), secret);
});

test('a missing bucket is bad input naming ledger.bucket', async (t) => {
  const error = await t.throwsAsync(appendRecord(aws(), { bucket: 'no-such-ledger-bucket', prefix: 'x' }, record()), {
    instanceOf: InputError,
  });
  t.is(error?.field, 'ledger.bucket');
  t.regex(error?.message ?? '', /does not exist/);
  await t.throwsAsync(listRecords(aws(), { bucket: 'no-such-ledger-bucket', prefix: '' }, 'web'), {
    instanceOf: InputError,
    message: /ledger\.bucket/,
  });
});

test('record keys invert time so that ascending keys are newest first, and parse back', (t) => {
  const ledger: LedgerRef = { bucket: BUCKET, prefix: '' };
  const older = recordKey(ledger, 'web', Date.parse('2026-01-01T00:00:00Z'), '20260101T000000Z-abcdef', '000001');
  const newer = recordKey(ledger, 'web', Date.parse('2026-01-01T00:00:00.001Z'), '20260101T000000Z-abcdef', '000001');
  t.true(newer < older);
  t.true(older.startsWith('web/records/'));
  t.deepEqual(parseRecordKey(older), {
    key: older,
    recordedAtMs: Date.parse('2026-01-01T00:00:00Z'),
    deploymentId: '20260101T000000Z-abcdef',
  });
  t.is(parseRecordKey('web/records/README.txt'), undefined);
});

test('beyond 1000 records: S3 pages of 1000 are followed, newest first throughout', async (t) => {
  const ledger = ledgerFor('many');
  const s3 = aws().s3;
  const base = Date.parse('2025-01-01T00:00:00Z');
  const total = 1005;
  // Written directly (as appendRecord would store them) to keep the test fast.
  const numbers = Array.from({ length: total }, (_, n) => n);
  for (let i = 0; i < total; i += 50) {
    await Promise.all(
      numbers.slice(i, i + 50).map((n) => {
        const recordedAt = new Date(base + n * 60_000).toISOString();
        const body = {
          schema: 1,
          kind: 'deploy',
          result: 'succeeded',
          deploymentId: `dep-${n}`,
          cluster: 'web-prod',
          region: 'us-east-1',
          startedAt: recordedAt,
          recordedAt,
          version: `v${n}`,
        };
        return s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: recordKey(ledger, 'web-prod', Date.parse(recordedAt), body.deploymentId),
            Body: JSON.stringify(body),
          }),
        );
      }),
    );
  }
  const counter = new CallCounter();
  const client = new S3Client({ region: 'us-east-1', forcePathStyle: true });
  counter.attach('s3', client);
  // The oldest record sits on the second page of 1000 keys.
  const oldest = await findDeployment({ s3: client }, ledger, 'web-prod', { version: 'v0' });
  t.is(oldest?.deploymentId, 'dep-0');
  t.is(counter.snapshot()['s3:ListObjectsV2'], 2);
  t.is((await latestRecordFor({ s3: client }, ledger, 'web-prod', 'dep-3'))?.version, 'v3');
  const last = await listRecords({ s3: client }, ledger, 'web-prod', { limit: 1000 });
  t.is(last.length, 1000);
  t.is(last[0]?.version, `v${total - 1}`);
  t.is(last[999]?.version, `v${total - 1000}`);
  // A bounded scan gives up instead of reading the whole history.
  t.is(await findDeployment({ s3: client }, ledger, 'web-prod', { version: 'v0' }, { maxKeys: 500 }), null);
});
