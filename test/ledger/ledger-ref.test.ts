import test from 'ava';
import { InputError } from '../../src/core/errors';
import {
  checkBucketName,
  clusterKeyPrefix,
  deploymentIdTime,
  isDeploymentId,
  lockKey,
  newDeploymentId,
  parseLedgerRef,
  parseOptionalLedgerRef,
  recordsKeyPrefix,
} from '../../src/ledger';

test('the ledger input: object, flags object, s3:// URL; prefix defaults and is normalised', (t) => {
  t.deepEqual(parseLedgerRef({ bucket: 'my-ledger' }), { bucket: 'my-ledger', prefix: 'bluegreen' });
  t.deepEqual(parseLedgerRef({ bucket: 'my-ledger', prefix: 'teams/web/' }), { bucket: 'my-ledger', prefix: 'teams/web' });
  t.deepEqual(parseLedgerRef({ bucket: 'my-ledger', prefix: '' }), { bucket: 'my-ledger', prefix: '' });
  t.deepEqual(parseLedgerRef({ bucket: 'my-ledger', prefix: 2026, region: 'eu-west-1' }), { bucket: 'my-ledger', prefix: '2026', region: 'eu-west-1' });
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
