import test from 'ava';
import { DeregisterImageCommand } from '@aws-sdk/client-ec2';
import { describeAsgsByName } from '../../src/cluster/server-groups';
import { listRecords } from '../../src/ledger';
import { deleteServerGroupNow, type DeploySandbox } from '../helpers/deploy-sandbox';
import { deploy, instancesByGroup, probeLine, rollback, startRollbackSandbox, versionsNow, withProbe } from './helpers';

// Rollback when the previous server group is gone (redeploy), and the answers when there is nothing to do.
let env: DeploySandbox;
const amis = { v1: '', v2: '', v3: '', solo: '' };
const ledger = () => ({ bucket: env.sandbox.infra!.ledgerBucket, prefix: 'bluegreen' });

test.before(async () => {
  env = await startRollbackSandbox();
  for (const version of ['v1', 'v2', 'v3', 'solo'] as const) amis[version] = await env.ami(version);
});

test.after.always(async () => {
  await env?.sandbox.stop();
});

test.serial(
  'previous group destroyed (keepPrevious 0): the rollback redeploys its AMI red/black with 0 failed requests',
  async (t) => {
    const cluster = 'api-prod';
    t.is((await deploy(t, env, { cluster, amiId: amis.v1, version: 'v1', instanceType: 't3.small' })).exitCode, 0);
    const second = await deploy(t, env, {
      cluster,
      amiId: amis.v2,
      version: 'v2',
      keepPrevious: 0,
      instanceType: 't3.medium',
    });
    t.is(second.exitCode, 0, JSON.stringify(second.output));
    // Returned at cutover: v000 is disabled and left to its scheduled scale-down; the next run would destroy it.
    t.deepEqual(second.output.disabledServerGroups, ['api-prod-v000']);
    await deleteServerGroupNow(env, 'api-prod-v000');
    t.deepEqual(Object.keys(await instancesByGroup(env, cluster)), ['api-prod-v001']);

    const { result, report } = await withProbe(env, () => rollback(t, env, { cluster, reason: 'v2 leaks memory' }));
    t.is(result.exitCode, 0, JSON.stringify(result.output));
    t.like(result.output, {
      mode: 'redeploy',
      rolledBackFrom: 'api-prod-v001',
      restoredServerGroup: 'api-prod-v002',
      amiId: amis.v1,
      version: 'v1',
    });
    t.is(result.output.launchedInstances.length, 2);
    t.log(`probe during redeploy rollback: ${probeLine(report)}`);
    t.is(report.failed, 0, JSON.stringify(report.failedSamples.slice(0, 5)));
    t.deepEqual(await versionsNow(env), { v1: 20 });

    const records = await listRecords(env.aws, ledger(), cluster, { limit: 1 });
    t.like(records[0], {
      kind: 'rollback',
      result: 'succeeded',
      from: 'api-prod-v001',
      to: 'api-prod-v002',
      amiId: amis.v1,
      version: 'v1',
      reason: 'v2 leaks memory',
    });
    // v1 ran on t3.small, v2 on t3.medium: the redeploy used the settings recorded for v1.
    t.is(records[0]?.launchSettings?.instanceType, 't3.small');
  },
);

test.serial(
  'rolling back to a version whose AMI was deregistered is a conflict (exit 3) that says what to do',
  async (t) => {
    const cluster = 'api-prod';
    // The v2 group (api-prod-v001), disabled by this deploy, is gone; then its AMI is deregistered.
    const third = await deploy(t, env, { cluster, amiId: amis.v3, version: 'v3', keepPrevious: 0 });
    t.is(third.exitCode, 0, JSON.stringify(third.output));
    const v2Group = (await describeAsgsByName(env.aws, ['api-prod-v001']))[0];
    if (v2Group) await deleteServerGroupNow(env, 'api-prod-v001');
    await env.aws.ec2.send(new DeregisterImageCommand({ ImageId: amis.v2 }));
    env.sandbox.resetCalls();
    const result = await rollback(t, env, { cluster, to: 'v2' });
    t.is(result.exitCode, 3, JSON.stringify(result.output));
    t.is(result.output.error?.code, 'AmiGone');
    t.regex(String(result.output.error?.message), new RegExp(`version v2 needs ${amis.v2}, which no longer exists`));
    t.regex(String(result.output.error?.recovery), /bake that version again/);
    t.is(env.sandbox.calls().mutating, 0, JSON.stringify(env.sandbox.calls().calls));
  },
);

test.serial('nothing to roll back to: exit 3 with a clear message and no mutating call', async (t) => {
  const cluster = 'solo-prod';
  t.is((await deploy(t, env, { cluster, amiId: amis.solo, version: 'solo' })).exitCode, 0);
  env.sandbox.resetCalls();
  const result = await rollback(t, env, { cluster });
  t.is(result.exitCode, 3, JSON.stringify(result.output));
  t.is(result.output.error?.code, 'NothingToRollBack');
  t.regex(
    String(result.output.error?.message),
    /solo-prod-v000 .* is the first release of solo-prod .* nothing before it to roll back to/,
  );
  t.regex(String(result.output.error?.recovery), /deploy the AMI you want/);
  t.is(env.sandbox.calls().mutating, 0, JSON.stringify(env.sandbox.calls().calls));

  const unknown = await rollback(t, env, { cluster: 'ghost-prod' });
  t.is(unknown.exitCode, 3);
  t.regex(String(unknown.output.error?.message), /cluster ghost-prod has no server groups/);
  t.is(env.sandbox.calls().mutating, 0);
});

test.serial('bad input: exit 2 naming the field, before any AWS call', async (t) => {
  env.sandbox.resetCalls();
  const otherCluster = await rollback(t, env, { cluster: 'solo-prod', to: 'web-prod-v001' });
  t.is(otherCluster.exitCode, 2);
  t.is(otherCluster.output.error?.field, 'to');
  t.regex(
    String(otherCluster.output.error?.message),
    /web-prod-v001 is a server group of cluster web-prod, not of solo-prod/,
  );
  const badDuration = await rollback(t, env, { cluster: 'solo-prod', healthTimeout: 'soon' });
  t.is(badDuration.exitCode, 2);
  t.is(badDuration.output.error?.field, 'healthTimeout');
  const unknownKey = await rollback(t, env, { cluster: 'solo-prod', amiId: amis.v1 });
  t.is(unknownKey.exitCode, 2);
  t.is(env.sandbox.calls().total, 0, JSON.stringify(env.sandbox.calls().calls));
  // A version the ledger never saw names nothing: bad input too (read-only calls only).
  const neverDeployed = await rollback(t, env, { cluster: 'solo-prod', to: '9.9.9' });
  t.is(neverDeployed.exitCode, 2);
  t.regex(
    String(neverDeployed.output.error?.message),
    /^to: the ledger .* has no successful deployment of version 9\.9\.9 in solo-prod/,
  );
  t.is(env.sandbox.calls().mutating, 0);
});
