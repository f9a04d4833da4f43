import test from 'ava';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkCredentialsOutlastBake, credentialsExpiry } from '../../src/bake/credentials-expiry';
import { resolveBakeOptions } from '../../src/bake/resolve';
import type { BakeOptions } from '../../src/bake/types';
import { InputError } from '../../src/core/errors';
import { emulatorEnv } from '../helpers/moto';
import { startRecordingServer } from '../helpers/recording-server';
import { runStageBundle } from '../helpers/run-stage';
import { tempDir } from './helpers';

const NOW = new Date('2025-01-02T03:00:00Z');
const KEYS = { AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' };
const base: BakeOptions = {
  app: 'shop',
  version: '1.0.0',
  region: 'us-east-1',
  sourceAmi: { id: 'ami-0123456789abcdef0' },
  allowedCidrs: ['10.0.0.0/8'],
  now: NOW,
};

test('credentials that expire before the bake timeout: InputError on credentials, saying what to do', (t) => {
  const env = { ...KEYS, AWS_CREDENTIAL_EXPIRATION: '2025-01-02T04:00:00Z' };
  const err = t.throws(() => resolveBakeOptions(base, env), { instanceOf: InputError });
  t.is(err?.field, 'credentials');
  t.is(err?.exitCode, 2);
  t.regex(
    err?.message ?? '',
    /expire in 60 min \(AWS_CREDENTIAL_EXPIRATION 2025-01-02T04:00:00\.000Z\), before the bake's timeout of 120 min/,
  );
  t.regex(err?.message ?? '', /withAWS\(role: …, duration: 7200\)/);
  t.regex(err?.message ?? '', /capped at 1 h/);
  t.regex(err?.message ?? '', /instance profile/);
  t.false(
    (err?.message ?? '').includes('secret') || (err?.message ?? '').includes('token'),
    'no credential in the message',
  );
});

test('credentials that outlast the timeout, a shorter timeout, or no known expiry: the bake goes ahead', (t) => {
  t.notThrows(() => resolveBakeOptions(base, { ...KEYS, AWS_CREDENTIAL_EXPIRATION: '2025-01-02T05:00:00Z' }));
  t.notThrows(() =>
    resolveBakeOptions({ ...base, timeoutMinutes: 45 }, { ...KEYS, AWS_CREDENTIAL_EXPIRATION: '2025-01-02T04:00:00Z' }),
  );
  t.notThrows(() => resolveBakeOptions(base, KEYS));
  // No keys in the environment: a refreshing provider (instance profile) is used, whatever the variable says.
  t.is(credentialsExpiry({ AWS_CREDENTIAL_EXPIRATION: '2025-01-02T03:01:00Z' }), undefined);
});

test('already expired, and an unreadable expiry, are named', (t) => {
  const expired = t.throws(() =>
    checkCredentialsOutlastBake({ ...KEYS, AWS_CREDENTIAL_EXPIRATION: '2025-01-02T02:00:00Z' }, 120, NOW),
  );
  t.regex(expired?.message ?? '', /have already expired/);
  const bad = t.throws(
    () => checkCredentialsOutlastBake({ ...KEYS, AWS_CREDENTIAL_EXPIRATION: 'tomorrow' }, 120, NOW),
    { instanceOf: InputError },
  );
  t.is(bad?.field, 'AWS_CREDENTIAL_EXPIRATION');
});

test('bake bundle: credentials expiring in 30 min → exit 2 before packer or any AWS call', async (t) => {
  const recorder = await startRecordingServer();
  t.teardown(() => recorder.close());
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  const packerLog = path.join(tmp.dir, 'packer-ran');
  // A packer that records being run: it must not be.
  const fakePacker = path.join(tmp.dir, 'packer');
  await fs.writeFile(fakePacker, `#!/bin/sh\ntouch '${packerLog}'\n`, { mode: 0o755 });
  const expiry = new Date(Date.now() + 30 * 60_000).toISOString();
  const run = await runStageBundle(
    'bake',
    { app: 'shop', version: '1.0.0', sourceAmi: { id: 'ami-0123456789abcdef0' } },
    { ...emulatorEnv(recorder.endpoint), AWS_CREDENTIAL_EXPIRATION: expiry, PACKER_PATH: fakePacker },
  );
  t.is(run.exitCode, 2, run.stderr);
  t.is(run.output?.error?.code, 'BadInput');
  t.is(run.output?.error?.field, 'credentials');
  t.regex(run.output?.error?.message ?? '', /expire in (29|30) min/);
  t.is(recorder.requests.length, 0, 'no AWS call');
  await t.throwsAsync(fs.access(packerLog), undefined, 'packer never ran');
});
