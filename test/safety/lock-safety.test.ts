import test from 'ava';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAwsClients, type AwsClients } from '../../src/aws/clients';
import { CallCounter } from '../../src/aws/call-counter';
import type { BluegreenError } from '../../src/core/errors';
import { acquireLock, readLock, type LedgerRef } from '../../src/ledger';
import { startAwsProxy, type AwsProxy } from '../helpers/aws-proxy';
import { startMoto, useEmulator, type MotoServer } from '../helpers/moto';

// The lock against real moto, reached directly or through a proxy that loses answers.
let moto: MotoServer;
let proxy: AwsProxy;
let direct: AwsClients;
let viaProxy: AwsClients;
const BUCKET = 'lock-safety';
const ledger: LedgerRef = { bucket: BUCKET, prefix: 'locks' };
let clusterCount = 0;
const newCluster = () => `safe-c${(clusterCount += 1)}`;
const JOB_A = 'https://jenkins.example.com/job/web/41/';
const JOB_B = 'https://jenkins.example.com/job/web/42/';

test.before(async () => {
  moto = await startMoto();
  useEmulator(moto.endpoint);
  proxy = await startAwsProxy(moto.endpoint);
  direct = createAwsClients('us-east-1', { endpoint: moto.endpoint, counter: new CallCounter() });
  viaProxy = createAwsClients('us-east-1', { endpoint: proxy.endpoint, counter: new CallCounter() });
  await direct.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

test.after.always(async () => {
  await proxy?.close();
  await moto?.stop();
});

const isLockPut = (call: { service: string; action: string }) => call.service === 's3' && call.action === 'PutObject';

test.serial(
  'a breaker whose clock runs a lease ahead does not take a live lock: expiry is judged on S3’s clock',
  async (t) => {
    const cluster = newCluster();
    const held = await acquireLock(direct, ledger, cluster, { owner: JOB_A, deploymentId: 'dep-a', leaseSeconds: 60 });
    const aheadClock = () => new Date(Date.now() + 120_000);
    const seen = await readLock(direct, ledger, cluster, { clock: aheadClock });
    t.false(seen?.expired, 'a lock renewed a moment ago is live, whatever the reader’s clock says');
    const error = await t.throwsAsync(
      acquireLock(direct, ledger, cluster, {
        owner: JOB_B,
        deploymentId: 'dep-b',
        breakExpiredLock: true,
        clock: aheadClock,
      }),
    );
    t.is(error?.message.includes('locked by'), true, error?.message);
    t.is((await readLock(direct, ledger, cluster))?.deploymentId, 'dep-a', 'still held by the first run');
    t.true(await held.release());
  },
);

test.serial('a renewal whose answer is lost (the SDK retry gets 412) is not a lost lock', async (t) => {
  const cluster = newCluster();
  const held = await acquireLock(viaProxy, ledger, cluster, { owner: JOB_A, deploymentId: 'dep-a', leaseSeconds: 60 });
  const before = proxy.calls.length;
  proxy.dropResponses(isLockPut, 1);
  const renewed = await held.renew();
  t.true(proxy.calls.slice(before).filter(isLockPut).length >= 2, 'the SDK retried the renewal after the lost answer');
  const now = await readLock(direct, ledger, cluster);
  t.is(now?.deploymentId, 'dep-a');
  t.is(now?.renewedAt, renewed.renewedAt, 'the renewal that reached S3 is the one we hold');
  await held.renew();
  t.true(await held.release(), 'still ours: released');
});

test.serial(
  'an acquire whose answer is lost (the SDK retry gets 412) holds the lock instead of blaming ourselves',
  async (t) => {
    const cluster = newCluster();
    proxy.dropResponses(isLockPut, 1);
    const held = await acquireLock(viaProxy, ledger, cluster, {
      owner: JOB_A,
      deploymentId: 'dep-a',
      leaseSeconds: 60,
    });
    t.is((await readLock(direct, ledger, cluster))?.deploymentId, 'dep-a');
    await held.renew();
    t.true(await held.release());
  },
);

test.serial(
  'a lease that cannot be proven any more (no renewal for a lease) fails the held check, on the monotonic clock',
  async (t) => {
    const cluster = newCluster();
    // A wall clock jumping back an hour must not stretch the lease.
    const jumpingClock = () => new Date(Date.now() - 3_600_000);
    const held = await acquireLock(direct, ledger, cluster, {
      owner: JOB_A,
      deploymentId: 'dep-a',
      leaseSeconds: 5,
      clock: jumpingClock,
    });
    t.notThrows(() => held.assertHeld('CreateAutoScalingGroup'));
    // 5 s lease less its 1.5 s safety margin: proven for 3.5 s after the write was sent.
    await sleep(3_700);
    const error = t.throws<BluegreenError>(() => held.assertHeld('CreateAutoScalingGroup'));
    t.is(error?.exitCode, 1);
    t.regex(error?.message ?? '', /CreateAutoScalingGroup/);
    t.regex(error?.message ?? '', /lease/);
    await held.release();
  },
);
