import test from 'ava';
import { InputError } from '../../src/core/errors';
import { checkBucketName } from '../../src/aws/s3-names';
import {
  clusterKeyPrefix,
  deploymentIdTime,
  isDeploymentId,
  lockKey,
  newDeploymentId,
  parseLedgerRef,
  parseOptionalLedgerRef,
  recordsKeyPrefix,
  runIdentity,
  finishRecord,
} from '../../src/ledger';

test('the ledger input: object, flags object, s3:// URL; prefix defaults and is normalised', (t) => {
  t.deepEqual(parseLedgerRef({ bucket: 'my-ledger' }), { bucket: 'my-ledger', prefix: 'bluegreen' });
  t.deepEqual(parseLedgerRef({ bucket: 'my-ledger', prefix: 'teams/web/' }), {
    bucket: 'my-ledger',
    prefix: 'teams/web',
  });
  t.deepEqual(parseLedgerRef({ bucket: 'my-ledger', prefix: '' }), { bucket: 'my-ledger', prefix: '' });
  t.deepEqual(parseLedgerRef({ bucket: 'my-ledger', prefix: 2026, region: 'eu-west-1' }), {
    bucket: 'my-ledger',
    prefix: '2026',
    region: 'eu-west-1',
  });
  t.deepEqual(parseLedgerRef('s3://my-ledger'), { bucket: 'my-ledger', prefix: 'bluegreen' });
  t.deepEqual(parseLedgerRef('s3://my-ledger/'), { bucket: 'my-ledger', prefix: '' });
  t.deepEqual(parseLedgerRef('s3://my-ledger/a/b'), { bucket: 'my-ledger', prefix: 'a/b' });
  t.is(parseOptionalLedgerRef(undefined), undefined);
});

for (const [raw, field, problem] of [
  [undefined, 'ledger.bucket', /is required/],
  [{}, 'ledger.bucket', /is required/],
  [{ bucket: 'ab' }, 'ledger.bucket', /3 to 63 characters/],
  [{ bucket: 'x'.repeat(64) }, 'ledger.bucket', /3 to 63 characters/],
  [{ bucket: 'My-Ledger' }, 'ledger.bucket', /lowercase/],
  [{ bucket: '-ledger' }, 'ledger.bucket', /begin and end/],
  [{ bucket: 'my..ledger' }, 'ledger.bucket', /adjacent periods/],
  [{ bucket: '192.168.1.10' }, 'ledger.bucket', /IP address/],
  [{ bucket: 'xn--ledger' }, 'ledger.bucket', /reserved/],
  [{ bucket: 'ledger-s3alias' }, 'ledger.bucket', /reserved/],
  [{ bucket: 'my-ledger', prefix: '/x' }, 'ledger.prefix', /must not start with "\/"/],
  [{ bucket: 'my-ledger', prefix: 'a//b' }, 'ledger.prefix', /empty/],
  [{ bucket: 'my-ledger', prefix: 'a/../b' }, 'ledger.prefix', /"\.\."/],
  [{ bucket: 'my-ledger', prefix: 'a\nb' }, 'ledger.prefix', /control/],
  [{ bucket: 'my-ledger', region: 'mars-1' }, 'ledger.region', /AWS region/],
  [{ bucket: 'my-ledger', buckt: 'x' }, 'ledger.buckt', /not a known key/],
  ['my-ledger', 'ledger', /s3:\/\/bucket\/prefix/],
  [['my-ledger'], 'ledger', /must be an object/],
] as const) {
  test(`ledger input ${JSON.stringify(raw)} is refused on ${field}`, (t) => {
    const error = t.throws(() => parseLedgerRef(raw), { instanceOf: InputError });
    t.is(error?.field, field);
    t.regex(error?.message ?? '', problem);
  });
}

test('bucket names with dots and digits are fine', (t) => {
  t.is(checkBucketName('b', 'deploy.ledger.example-01'), 'deploy.ledger.example-01');
  t.is(checkBucketName('b', 123), '123');
});

test('key layout: prefix/cluster/records/ and prefix/cluster/lock.json; cluster names are key-safe', (t) => {
  const ledger = { bucket: 'my-ledger', prefix: 'bluegreen' };
  t.is(clusterKeyPrefix(ledger, 'web-prod'), 'bluegreen/web-prod/');
  t.is(recordsKeyPrefix(ledger, 'web-prod'), 'bluegreen/web-prod/records/');
  t.is(lockKey(ledger, 'web-prod'), 'bluegreen/web-prod/lock.json');
  t.is(lockKey({ bucket: 'my-ledger', prefix: '' }, 'web'), 'web/lock.json');
  // Each region its own lock (a rollout's regions deploy at the same time); the whole cluster's is the rollout's.
  t.is(lockKey(ledger, 'web-prod', 'eu-west-1'), 'bluegreen/web-prod/locks/eu-west-1.json');
  t.throws(() => lockKey(ledger, 'web-prod', '../x'), { message: /region/ });
  t.throws(() => lockKey(ledger, '../etc'), { instanceOf: InputError });
  t.throws(() => lockKey(ledger, 'a/b'), { instanceOf: InputError });
});

test('deployment ids sort by time and carry it', (t) => {
  const early = newDeploymentId(new Date('2026-11-26T05:40:12.999Z'));
  const late = newDeploymentId(new Date('2026-11-26T05:40:13Z'));
  t.regex(early, /^20261126T054012Z-[0-9a-f]{6}$/);
  t.true(isDeploymentId(early));
  t.false(isDeploymentId('20261126-054012'));
  t.true(early < late);
  t.is(deploymentIdTime(early)?.toISOString(), '2026-11-26T05:40:12.000Z');
  t.is(deploymentIdTime('custom-id'), undefined);
  const many = new Set(Array.from({ length: 1000 }, () => newDeploymentId(new Date('2026-11-26T05:40:12Z'))));
  t.true(many.size >= 990, 'random part keeps ids of the same second apart');
});

test('runIdentity: Jenkins build URL as lock owner, build user as who, git commit; user@host outside Jenkins', (t) => {
  const jenkins = runIdentity({
    BUILD_URL: 'https://u:tok@ci.example.com/job/web/9/',
    BUILD_USER_ID: 'alice',
    GIT_COMMIT: 'abc123',
    USER: 'jenkins',
  });
  t.deepEqual(jenkins, {
    who: 'alice',
    buildUrl: 'https://ci.example.com/job/web/9/',
    owner: 'https://ci.example.com/job/web/9/',
    gitCommit: 'abc123',
  });
  t.is(runIdentity({ BUILD_URL: 'https://ci/job/web/9/', JOB_NAME: 'web', BUILD_NUMBER: '9' }).who, 'web #9');
  const local = runIdentity({ USER: 'bob' });
  t.regex(local.who, /^bob@/);
  t.is(local.owner, local.who);
  t.is(local.buildUrl, undefined);
});

test('finishRecord carries the started record over and adds the outcome and duration', (t) => {
  const started = {
    kind: 'deploy',
    result: 'started',
    deploymentId: 'd1',
    cluster: 'web',
    region: 'us-east-1',
    startedAt: '2026-11-26T05:40:12Z',
    version: '1.0',
    amiId: 'ami-1',
  } as const;
  const finished = finishRecord(
    started,
    { result: 'succeeded', serverGroup: 'web-v002' },
    new Date('2026-11-26T05:45:42.500Z'),
  );
  t.deepEqual(finished, {
    ...started,
    result: 'succeeded',
    serverGroup: 'web-v002',
    finishedAt: '2026-11-26T05:45:42Z',
    durationSeconds: 330,
  });
});
