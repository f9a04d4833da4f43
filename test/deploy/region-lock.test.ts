import test from 'ava';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { awsClients } from '../../src/aws/clients';
import { ConflictError } from '../../src/core/errors';
import { silentLogger } from '../../src/core/log';
import { openClusterSession, type SessionOptions } from '../../src/deploy/journal';
import { readLock } from '../../src/ledger';
import { startMoto, useEmulator, type MotoServer } from '../helpers/moto';

// Each region its own lock (issue #24): a rollout's regions of one wave deploy at the same time, while two runs
// in the same region of a cluster still exclude each other. The sessions are the ones deploy, rollback and cleanup take.
let moto: MotoServer;
const ledger = { bucket: 'region-lock-ledger', prefix: 'bluegreen', region: 'us-east-1' };

test.before(async () => {
  moto = await startMoto();
  useEmulator(moto.endpoint);
  await awsClients('us-east-1').s3.send(new CreateBucketCommand({ Bucket: ledger.bucket }));
});

test.after.always(async () => {
  await moto?.stop();
});

function options(region: string, deploymentId: string): SessionOptions {
  return {
    ledger,
    cluster: 'web-prod',
    region,
    owner: `https://ci.example.com/job/web-${region}/1/`,
    deploymentId,
    leaseSeconds: 60,
    breakExpiredLock: false,
    waitSeconds: 0,
    log: silentLogger,
  };
}

test('two regions of one cluster lock apart; a second run in the same region gets LockHeld naming the region', async (t) => {
  const us = await openClusterSession(awsClients('us-east-1'), options('us-east-1', 'dep-us'));
  const eu = await openClusterSession(awsClients('eu-west-1'), options('eu-west-1', 'dep-eu'));
  try {
    t.is(
      (await readLock(awsClients('us-east-1'), ledger, 'web-prod', { region: 'us-east-1' }))?.deploymentId,
      'dep-us',
    );
    t.is(
      (await readLock(awsClients('us-east-1'), ledger, 'web-prod', { region: 'eu-west-1' }))?.deploymentId,
      'dep-eu',
    );
    const error = await t.throwsAsync(openClusterSession(awsClients('us-east-1'), options('us-east-1', 'dep-us-2')), {
      instanceOf: ConflictError,
    });
    t.is(error?.code, 'LockHeld');
    t.regex(error?.message ?? '', /web-prod in us-east-1 is locked by .*dep-us/);
    t.is(error?.details.region, 'us-east-1');
  } finally {
    await us.close();
    await eu.close();
  }
  t.is(await readLock(awsClients('us-east-1'), ledger, 'web-prod', { region: 'us-east-1' }), null, 'released');
  t.is(await readLock(awsClients('us-east-1'), ledger, 'web-prod', { region: 'eu-west-1' }), null, 'released');
});
