import test from 'ava';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsClients } from '../../src/aws/clients';
import { ConflictError, ExitCode, type BluegreenError } from '../../src/core/errors';
import {
  acquireLock,
  adoptLock,
  keepLockRenewed,
  lockKey,
  readLock,
  releaseLock,
  withClusterLock,
  type LedgerRef,
} from '../../src/ledger';
import { startMoto, useEmulator, type MotoServer } from '../helpers/moto';

let moto: MotoServer;
const BUCKET = 'lock-ledger';
let clusterCount = 0;

test.before(async () => {
  moto = await startMoto();
  useEmulator(moto.endpoint);
  await awsClients('us-east-1').s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

test.after.always(async () => {
  await moto?.stop();
});

const aws = () => awsClients('us-east-1');
const ledger: LedgerRef = { bucket: BUCKET, prefix: 'locks' };
/** Each test its own cluster, so tests run side by side. */
const newCluster = () => `app-c${(clusterCount += 1)}`;
const JOB_A = 'https://jenkins.example.com/job/web/41/';
const JOB_B = 'https://jenkins.example.com/job/web/42/';
/** Waits until a 1 s lease has ended by S3's clock (its times are whole seconds). */
const leaseRunsOut = () => sleep(2_200);

test('a second acquirer gets LockHeld (exit 3) naming the holder, since when, and how to go on', async (t) => {
  const cluster = newCluster();
  const held = await acquireLock(aws(), ledger, cluster, { owner: JOB_A, deploymentId: 'dep-a', leaseSeconds: 600 });
  t.is(held.key, lockKey(ledger, cluster));
  const error = await t.throwsAsync(acquireLock(aws(), ledger, cluster, { owner: JOB_B, deploymentId: 'dep-b' }), {
    instanceOf: ConflictError,
  });
  t.is(error?.code, 'LockHeld');
  t.is(error?.exitCode, ExitCode.conflict);
  t.true(error?.message.includes(JOB_A));
  t.true(error?.message.includes('dep-a'));
  t.regex(error?.message ?? '', new RegExp(`since ${held.record.acquiredAt}`));
  t.regex(error?.message ?? '', /wait for that run to finish/);
  t.is((error?.details.holder as { owner: string }).owner, JOB_A);
  // Even when asked to break, a live lock is never broken.
  await t.throwsAsync(
    acquireLock(aws(), ledger, cluster, { owner: JOB_B, deploymentId: 'dep-b', breakExpiredLock: true }),
    { message: /locked by/ },
  );
  t.is((await readLock(aws(), ledger, cluster))?.deploymentId, 'dep-a');
});

test('release by the owner frees the lock; a non-owner release does nothing', async (t) => {
  const cluster = newCluster();
  const held = await acquireLock(aws(), ledger, cluster, { owner: JOB_A, deploymentId: 'dep-a' });
  t.false(await releaseLock(aws(), ledger, cluster, '"not-our-etag"'), 'someone else cannot release it');
  t.is((await readLock(aws(), ledger, cluster))?.owner, JOB_A);
  t.true(await held.release());
  t.is(await readLock(aws(), ledger, cluster), null);
  t.false(await held.release(), 'a second release is a no-op');
  const next = await acquireLock(aws(), ledger, cluster, { owner: JOB_B, deploymentId: 'dep-b' });
  t.false(await held.release(), 'the old handle does not delete the new holder');
  t.is((await readLock(aws(), ledger, cluster))?.owner, JOB_B);
  t.true(await next.release());
});

test('renew extends the lease and changes the ETag', async (t) => {
  const cluster = newCluster();
  let offset = 0;
  const clock = () => new Date(Date.parse('2026-11-26T05:00:00Z') + offset * 1000);
  const held = await acquireLock(aws(), ledger, cluster, {
    owner: JOB_A,
    deploymentId: 'dep-a',
    leaseSeconds: 60,
    clock,
  });
  t.is(held.record.expiresAt, '2026-11-26T05:01:00.000Z');
  const firstEtag = held.etag;
  offset = 45;
  await held.renew();
  t.is(held.record.expiresAt, '2026-11-26T05:01:45.000Z');
  t.is(held.record.acquiredAt, '2026-11-26T05:00:00.000Z');
  t.not(held.etag, firstEtag);
  const seen = await readLock(aws(), ledger, cluster, { clock });
  t.is(seen?.expiresAt, '2026-11-26T05:01:45.000Z');
  t.false(seen?.expired);
  t.true(await held.release());
});

test('an expired lease is still a conflict without breakExpiredLock, and the message says how to break it', async (t) => {
  const cluster = newCluster();
  await acquireLock(aws(), ledger, cluster, { owner: JOB_A, deploymentId: 'dep-a', leaseSeconds: 1 });
  await leaseRunsOut();
  const status = await readLock(aws(), ledger, cluster);
  t.true(status?.expired);
  const error = await t.throwsAsync(acquireLock(aws(), ledger, cluster, { owner: JOB_B, deploymentId: 'dep-b' }), {
    instanceOf: ConflictError,
  });
  t.is(error?.code, 'LockHeld');
  t.regex(error?.message ?? '', /lease expired at .* so that run probably died/);
  t.regex(error?.message ?? '', /breakExpiredLock: true/);
  t.true(error?.details.expired as boolean);
});

test('breakExpiredLock takes over an expired lease; the old holder can neither renew nor release it', async (t) => {
  const cluster = newCluster();
  const stale = await acquireLock(aws(), ledger, cluster, { owner: JOB_A, deploymentId: 'dep-a', leaseSeconds: 1 });
  await leaseRunsOut();
  const taken = await acquireLock(aws(), ledger, cluster, {
    owner: JOB_B,
    deploymentId: 'dep-b',
    breakExpiredLock: true,
  });
  t.is(taken.record.brokeExpiredLockOf?.deploymentId, 'dep-a');
  const lost = await t.throwsAsync(stale.renew(), { instanceOf: ConflictError });
  t.is(lost?.code, 'LockLost');
  t.regex(lost?.message ?? '', /now held by .*dep-b/);
  t.false(await stale.release());
  t.is((await readLock(aws(), ledger, cluster))?.deploymentId, 'dep-b');
  t.true(await taken.release());
});

test('two concurrent breakers of an expired lock: exactly one wins', async (t) => {
  const cluster = newCluster();
  await acquireLock(aws(), ledger, cluster, { owner: JOB_A, deploymentId: 'dep-dead', leaseSeconds: 1 });
  await leaseRunsOut();
  const attempts = await Promise.allSettled(
    ['dep-x', 'dep-y'].map((deploymentId) =>
      acquireLock(aws(), ledger, cluster, { owner: `${JOB_B}#${deploymentId}`, deploymentId, breakExpiredLock: true }),
    ),
  );
  const winners = attempts.filter((a) => a.status === 'fulfilled');
  const losers = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
  t.is(winners.length, 1);
  t.is(losers.length, 1);
  t.is((losers[0]?.reason as BluegreenError).code, 'LockHeld');
  const holder = await readLock(aws(), ledger, cluster);
  t.is(
    holder?.deploymentId,
    (winners[0] as PromiseFulfilledResult<{ record: { deploymentId: string } }>).value.record.deploymentId,
  );
});

test('10 concurrent acquirers: exactly one wins, the others get LockHeld', async (t) => {
  const cluster = newCluster();
  const attempts = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) =>
      acquireLock(aws(), ledger, cluster, { owner: `${JOB_A}#${i}`, deploymentId: `dep-${i}` }),
    ),
  );
  const winners = attempts.filter((a) => a.status === 'fulfilled');
  t.is(winners.length, 1);
  for (const attempt of attempts) {
    if (attempt.status === 'rejected') t.is((attempt.reason as BluegreenError).code, 'LockHeld');
  }
});

test('keepLockRenewed renews on an interval and stops; it reports a lost lock once', async (t) => {
  const cluster = newCluster();
  const held = await acquireLock(aws(), ledger, cluster, { owner: JOB_A, deploymentId: 'dep-a', leaseSeconds: 60 });
  const renewal = keepLockRenewed(held, { intervalSeconds: 0.05 });
  // Wait for 3 renewals (moto may be slow while other tests run alongside).
  for (const deadline = Date.now() + 20_000; renewal.renewals < 3 && Date.now() < deadline;) await sleep(20);
  await renewal.stop();
  const count = renewal.renewals;
  t.true(count >= 3, `renewed ${count} times`);
  await sleep(250);
  t.is(renewal.renewals, count, 'no renewal after stop');
  t.is((await readLock(aws(), ledger, cluster))?.renewedAt, held.record.renewedAt);

  // The lock is taken from under us (here: deleted and re-taken): renewal stops and says so.
  t.true(await held.release());
  await acquireLock(aws(), ledger, cluster, { owner: JOB_B, deploymentId: 'dep-b' });
  const lostErrors: BluegreenError[] = [];
  const doomed = keepLockRenewed(held, { intervalSeconds: 0.05, onLost: (error) => lostErrors.push(error) });
  for (const deadline = Date.now() + 20_000; !doomed.lost && Date.now() < deadline;) await sleep(20);
  await sleep(200);
  t.is(lostErrors.length, 1);
  t.is(doomed.lost?.code, 'LockLost');
  await doomed.stop();
});

test('adoptLock resumes a lock held under the same deployment id only', async (t) => {
  const cluster = newCluster();
  await acquireLock(aws(), ledger, cluster, { owner: JOB_A, deploymentId: 'dep-a' });
  t.is(await adoptLock(aws(), ledger, cluster, 'dep-other'), null);
  const adopted = await adoptLock(aws(), ledger, cluster, 'dep-a');
  t.truthy(adopted);
  await adopted?.renew();
  t.true(await adopted?.release());
  t.is(await readLock(aws(), ledger, cluster), null);
});

test('an unreadable lock object counts as expired: breakable only explicitly', async (t) => {
  const cluster = newCluster();
  await aws().s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: lockKey(ledger, cluster), Body: 'garbage' }));
  t.true((await readLock(aws(), ledger, cluster))?.expired);
  await t.throwsAsync(acquireLock(aws(), ledger, cluster, { owner: JOB_B, deploymentId: 'dep-b' }), {
    message: /breakExpiredLock/,
  });
  const taken = await acquireLock(aws(), ledger, cluster, {
    owner: JOB_B,
    deploymentId: 'dep-b',
    breakExpiredLock: true,
  });
  t.true(await taken.release());
});

test('credentials in the owner URL are not written to the lock', async (t) => {
  const cluster = newCluster();
  const held = await acquireLock(aws(), ledger, cluster, {
    owner: 'https://bob:apitoken@jenkins.example.com/job/x/1/',
    deploymentId: 'dep-a',
  });
  t.is((await readLock(aws(), ledger, cluster))?.owner, 'https://jenkins.example.com/job/x/1/');
  t.true(await held.release());
});

test('withClusterLock holds the lock while work runs and releases it after success or failure', async (t) => {
  const cluster = newCluster();
  const value = await withClusterLock(
    aws(),
    ledger,
    cluster,
    { owner: JOB_A, deploymentId: 'dep-a' },
    async (lock, signal) => {
      t.false(signal.aborted);
      t.is((await readLock(aws(), ledger, cluster))?.etag, lock.etag);
      return 42;
    },
  );
  t.is(value, 42);
  t.is(await readLock(aws(), ledger, cluster), null);
  await t.throwsAsync(
    withClusterLock(aws(), ledger, cluster, { owner: JOB_A, deploymentId: 'dep-b' }, async () => {
      throw new Error('deploy failed');
    }),
    { message: 'deploy failed' },
  );
  t.is(await readLock(aws(), ledger, cluster), null);
});

test('withClusterLock aborts the work signal when the lock is lost, and leaves the new holder alone', async (t) => {
  const cluster = newCluster();
  const reason = await withClusterLock(
    aws(),
    ledger,
    cluster,
    { owner: JOB_A, deploymentId: 'dep-a', renewEverySeconds: 0.05 },
    async (_lock, signal) => {
      // An operator deletes the lock by hand and another run takes it.
      await aws().s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: lockKey(ledger, cluster) }));
      await acquireLock(aws(), ledger, cluster, { owner: JOB_B, deploymentId: 'dep-b' });
      for (const deadline = Date.now() + 20_000; !signal.aborted && Date.now() < deadline;) await sleep(20);
      return signal.reason as BluegreenError;
    },
  );
  t.is(reason?.code, 'LockLost');
  t.is((await readLock(aws(), ledger, cluster))?.deploymentId, 'dep-b');
});
