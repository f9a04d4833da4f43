import test from 'ava';
import { InputError } from '../../src/core/errors';
import { checkBuildInfo, objectMetadata } from '../../src/publish/build-metadata';
import { holdsSameContent, type ExistingObject } from '../../src/publish/existing-object';
import { renderKeyTemplate } from '../../src/publish/key-template';
import { MAX_PARTS, partSizeFor } from '../../src/publish/multipart';
import { formatBytes } from '../../src/publish/progress';
import { checkBucketName, checkObjectKey, httpsUrl, s3Url } from '../../src/aws/s3-names';
import { guessContentType } from '../../src/publish/artifact-file';
import { versionIdOf } from '../../src/publish/write-types';

const MIB = 1024 * 1024;

function fieldOf(
  t: { throws: (fn: () => unknown, expectations: { instanceOf: typeof InputError }) => InputError | undefined },
  fn: () => unknown,
): string | undefined {
  return t.throws(fn, { instanceOf: InputError })?.field;
}

test('bucket names follow the S3 rules', (t) => {
  for (const good of ['my-artifacts', 'a.b.c', 'abc', 'x'.repeat(63), 'build-123'])
    t.is(checkBucketName('bucket', good), good);
  const bad = [
    'ab',
    'x'.repeat(64),
    'My-Bucket',
    'under_score',
    '-start',
    'end-',
    'two..dots',
    '192.168.1.1',
    'xn--abc',
    'my-bucket-s3alias',
    's3://my-bucket',
    'bucket/key',
  ];
  for (const name of bad)
    t.is(
      fieldOf(t, () => checkBucketName('bucket', name)),
      'bucket',
      name,
    );
  t.regex(t.throws(() => checkBucketName('bucket', 's3://b/k'))?.message ?? '', /bucket name only, without "s3:\/\/"/);
});

test('keys: 1024 bytes at most, no path tricks', (t) => {
  t.is(checkObjectKey('key', 'web/1.2.3/web.tar.gz'), 'web/1.2.3/web.tar.gz');
  t.is(checkObjectKey('key', 'é'.repeat(512)), 'é'.repeat(512));
  for (const bad of ['/web/a', 'web/', 'web//a', 'web/../a', './a', 'a\nb', 'é'.repeat(513)]) {
    t.is(
      fieldOf(t, () => checkObjectKey('key', bad)),
      'key',
      bad,
    );
  }
});

test('key templates: known placeholders, values required, one path segment each', (t) => {
  const values = { app: 'web', version: '1.4.2', buildNumber: '57', fileName: 'web.tar.gz', gitCommit: 'abc1234' };
  t.is(renderKeyTemplate('{app}/{version}/{buildNumber}/{fileName}', values), 'web/1.4.2/57/web.tar.gz');
  t.is(renderKeyTemplate('releases/{app}-{gitCommit}.tgz', values), 'releases/web-abc1234.tgz');
  t.is(
    fieldOf(t, () => renderKeyTemplate('{app}/{versoin}', values)),
    'keyTemplate',
  );
  t.is(
    fieldOf(t, () => renderKeyTemplate('{app}/{version', values)),
    'keyTemplate',
  );
  t.is(
    fieldOf(t, () => renderKeyTemplate('{app}/{version}', { app: 'web' })),
    'version',
  );
  t.is(
    fieldOf(t, () => renderKeyTemplate('{app}/{version}', { app: 'web', version: '../etc' })),
    'version',
  );
  t.is(
    fieldOf(t, () => renderKeyTemplate('{app}/{version}', { app: 'web', version: '..' })),
    'version',
  );
});

test('URLs: s3:// for bake, https virtual-hosted (path style for dotted buckets, .cn in China)', (t) => {
  t.is(s3Url('arts', 'web/1/a b.tgz'), 's3://arts/web/1/a b.tgz');
  t.is(httpsUrl('arts', 'web/1/a b+c.tgz', 'eu-west-1'), 'https://arts.s3.eu-west-1.amazonaws.com/web/1/a%20b%2Bc.tgz');
  t.is(httpsUrl('my.arts', 'k', 'us-east-1'), 'https://s3.us-east-1.amazonaws.com/my.arts/k');
  t.is(httpsUrl('arts', 'k', 'cn-north-1'), 'https://arts.s3.cn-north-1.amazonaws.com.cn/k');
});

test('part size: preferred unless the file needs more than 10,000 parts; never under 5 MiB', (t) => {
  t.is(partSizeFor(200 * MIB, 8 * MIB), 8 * MIB);
  t.is(partSizeFor(200 * MIB, 1 * MIB), 5 * MIB);
  const huge = 200 * 1024 * MIB; // 200 GiB
  const size = partSizeFor(huge, 8 * MIB);
  t.true(Math.ceil(huge / size) <= MAX_PARTS);
  t.is(size % MIB, 0);
});

test('build metadata: validated, never credentials, within 2 KB', (t) => {
  const info = checkBuildInfo({
    buildUrl: 'https://ci.example.com/job/web/57/',
    gitCommit: 'ABCDEF1234',
    version: '1.4.2',
    buildNumber: '57',
  });
  t.deepEqual(objectMetadata('ab'.repeat(32), info), {
    sha256: 'ab'.repeat(32),
    'published-by': 'bluegreen',
    'build-url': 'https://ci.example.com/job/web/57/',
    'git-commit': 'abcdef1234',
    version: '1.4.2',
    'build-number': '57',
  });
  const withCredentials = t.throws(() => checkBuildInfo({ buildUrl: 'https://bob:s3cret@ci.example.com/job/1/' }), {
    instanceOf: InputError,
  });
  t.is(withCredentials?.field, 'buildUrl');
  t.notRegex(withCredentials?.message ?? '', /s3cret/);
  t.is(
    fieldOf(t, () => checkBuildInfo({ buildUrl: 'ftp://ci/x' })),
    'buildUrl',
  );
  t.is(
    fieldOf(t, () => checkBuildInfo({ gitCommit: 'not-a-sha' })),
    'gitCommit',
  );
  t.is(
    fieldOf(t, () => checkBuildInfo({ version: 'version ünicode' })),
    'version',
  );
});

test('same content: our sha256 metadata, or a full-object S3 checksum; size must match too', (t) => {
  const sha = 'a'.repeat(64);
  const base: ExistingObject = { size: 10, etag: '"e"', versionId: null, metadata: {} };
  t.true(holdsSameContent({ ...base, sha256: sha }, sha, 10));
  t.false(holdsSameContent({ ...base, sha256: sha }, sha, 11));
  t.false(holdsSameContent({ ...base, sha256: 'b'.repeat(64) }, sha, 10));
  const b64 = Buffer.from(sha, 'hex').toString('base64');
  t.true(holdsSameContent({ ...base, checksumSha256: b64, checksumType: 'FULL_OBJECT' }, sha, 10));
  t.false(holdsSameContent({ ...base, checksumSha256: `${b64}-2`, checksumType: 'COMPOSITE' }, sha, 10));
  t.false(holdsSameContent(base, sha, 10));
});

test('small helpers', (t) => {
  t.is(formatBytes(812), '812 B');
  t.is(formatBytes(200 * MIB), '200.0 MiB');
  t.is(formatBytes(1.25 * 1024 * MIB), '1.25 GiB');
  t.is(guessContentType('web-1.0.tar.gz'), 'application/gzip');
  t.is(guessContentType('WEB.JAR'), 'application/java-archive');
  t.is(guessContentType('blob'), 'application/octet-stream');
  t.is(versionIdOf('null'), null);
  t.is(versionIdOf(undefined), null);
  t.is(versionIdOf('3HL4kqtJlcpXroDTDmJ'), '3HL4kqtJlcpXroDTDmJ');
});
