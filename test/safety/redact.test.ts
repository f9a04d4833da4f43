import test from 'ava';
import { InputError, describeError } from '../../src/core/errors';
import { createLogger } from '../../src/core/log';
import { REDACTED, redact, redactValue } from '../../src/core/redact';
import { redactTagValues } from '../../src/aws/lock-guard';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = 'FwoGZXIvYXdzEXAMPLEsessionTOKEN0123456789abcdefXYZ';

test('presigned URLs lose their credential, token and signature, and keep the rest', (t) => {
  const url =
    `https://b.s3.amazonaws.com/app/1.0.tgz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${KEY_ID}%2F20261201%2Fus-east-1%2Fs3%2Faws4_request` +
    `&X-Amz-Date=20261201T000000Z&X-Amz-Expires=900&X-Amz-Security-Token=${encodeURIComponent(SESSION_TOKEN)}&X-Amz-SignedHeaders=host&X-Amz-Signature=abcdef0123`;
  t.is(
    redact(url),
    'https://b.s3.amazonaws.com/app/1.0.tgz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20261201T000000Z&X-Amz-Expires=900' +
      '&X-Amz-Security-Token=REDACTED&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED',
  );
  t.is(
    redact(`https://b.s3.amazonaws.com/k?AWSAccessKeyId=${KEY_ID}&Expires=1&Signature=x%2By`),
    'https://b.s3.amazonaws.com/k?AWSAccessKeyId=REDACTED&Expires=1&Signature=REDACTED',
  );
  t.is(
    redact('https://acct.blob.core.windows.net/c/a.tgz?sv=2022&sig=abc%3D'),
    'https://acct.blob.core.windows.net/c/a.tgz?sv=2022&sig=REDACTED',
  );
});

test('URL user info, key ids, secret keys and assignments are removed; ordinary ids are left alone', (t) => {
  t.is(redact('see https://bob:s3cret@ci.example.com/job/web/7/ now'), 'see https://ci.example.com/job/web/7/ now');
  t.is(redact(`key ${KEY_ID} leaked`), `key ${REDACTED} leaked`);
  t.is(redact(`AWS_SECRET_ACCESS_KEY=${SECRET_KEY}`), `AWS_SECRET_ACCESS_KEY=${REDACTED}`);
  t.is(redact(`token ${SESSION_TOKEN}`), `token ${REDACTED}`);
  t.is(redact('password: hunter2'), `password: ${REDACTED}`);
  const ordinary = [
    'deployed ami-0123456789abcdef0 as web-prod-v012 (lt-0abc123def4567890 v1)',
    'git commit 0123456789abcdef0123456789abcdef01234567, deployment 20261201T101500Z-3f9a1c',
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-prod/50dc6c495c0c9188',
    's3://ledger-bucket/bluegreen/web-prod/records/9998235123456-20261201T101500Z-3f9a1c-0a1b2c.json',
    'https://ci.example.com/job/web/7/',
  ];
  for (const text of ordinary) t.is(redact(text), text);
  t.is(
    redact(redact(`https://u:p@h/x?X-Amz-Signature=1 ${KEY_ID}`)),
    redact(`https://u:p@h/x?X-Amz-Signature=1 ${KEY_ID}`),
    'idempotent',
  );
});

test('structures: strings redacted deep, values of secret-named keys replaced', (t) => {
  t.deepEqual(
    redactValue({ build: { buildUrl: 'https://a:b@ci/x/', n: 1 }, other: { dbPassword: 'hunter2', list: [KEY_ID] } }),
    {
      build: { buildUrl: 'https://ci/x/', n: 1 },
      other: { dbPassword: REDACTED, list: [REDACTED] },
    },
  );
});

test('errors, log lines and tag values are redacted at the source', (t) => {
  const error = new InputError(
    'artifactUrl',
    `must look like s3://bucket/key (got "ftp://h/a?X-Amz-Signature=SIG123&token=${SESSION_TOKEN}")`,
    { given: `https://u:pw@h/` },
  );
  t.false(error.message.includes('SIG123'));
  t.false(error.message.includes(SESSION_TOKEN));
  t.is(error.details.given, 'https://h/');
  t.false(describeError(new Error(`failed for ${KEY_ID}`)).includes(KEY_ID));
  const lines: string[] = [];
  createLogger('t', (line) => lines.push(line)).info(`artifact https://u:pw@h/a?X-Amz-Security-Token=${SESSION_TOKEN}`);
  t.false(lines.join('\n').includes(SESSION_TOKEN));
  t.false(lines.join('\n').includes('pw@'));
  const input = redactTagValues({
    TagSpecifications: [
      { ResourceType: 'launch-template', Tags: [{ Key: 'bluegreen:build-url', Value: 'https://u:pw@ci/x/' }] },
    ],
  });
  t.deepEqual(input, {
    TagSpecifications: [
      { ResourceType: 'launch-template', Tags: [{ Key: 'bluegreen:build-url', Value: 'https://ci/x/' }] },
    ],
  });
});

test('tag redaction keeps non-plain values of a request as they are (a scheduled action keeps its StartTime)', (t) => {
  const start = new Date('2026-12-06T19:00:00Z');
  const data = new Uint8Array([1, 2, 3]);
  const input = redactTagValues({ StartTime: start, UserData: data, Nested: { EndTime: start } }) as Record<
    string,
    unknown
  >;
  t.is(input.StartTime, start);
  t.is(input.UserData, data);
  t.is((input.Nested as { EndTime: unknown }).EndTime, start);
});
