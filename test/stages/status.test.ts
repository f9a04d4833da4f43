import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { awsClients } from '../../src/aws/clients';
import { describeAsgsByName } from '../../src/cluster/server-groups';
import { getClusterStatus } from '../../src/status/cluster-status';
import { createNetwork, createServerGroup, disableServerGroup, someAmi } from '../helpers/cluster-fixture';
import { emulatorEnv, startMoto, useEmulator, type MotoServer } from '../helpers/moto';

const run = promisify(execFile);
const bundle = join(__dirname, '..', '..', 'resources', 'bluegreen', 'status.js');
let moto: MotoServer;

test.before(async () => {
  moto = await startMoto();
  useEmulator(moto.endpoint);
  const aws = awsClients('us-east-1');
  const network = await createNetwork(aws);
  const amiId = await someAmi(aws);
  await createServerGroup(aws, network, { name: 'web-prod-v001', cluster: 'web-prod', amiId, desired: 2 });
  await createServerGroup(aws, network, {
    name: 'web-prod-v002',
    cluster: 'web-prod',
    amiId,
    desired: 3,
    tagged: false,
  });
  // Another cluster whose name shares a prefix must not be mixed in.
  await createServerGroup(aws, network, {
    name: 'web-prod-canary-v001',
    cluster: 'web-prod-canary',
    amiId,
    desired: 1,
  });
  const [old] = await describeAsgsByName(aws, ['web-prod-v001']);
  await disableServerGroup(
    aws,
    network,
    'web-prod-v001',
    (old?.Instances ?? []).map((i) => i.InstanceId as string),
  );
});

test.after.always(async () => {
  await moto?.stop();
});

test('status finds both server groups, by tag and by name, and tells the disabled one', async (t) => {
  const status = await getClusterStatus(awsClients('us-east-1'), 'web-prod');
  t.deepEqual(
    status.serverGroups.map((g) => g.name),
    ['web-prod-v001', 'web-prod-v002'],
  );
  const [v001, v002] = status.serverGroups;
  t.is(v001?.state, 'disabled');
  t.deepEqual(v001?.suspendedProcesses.sort(), ['AddToLoadBalancer', 'Launch', 'Terminate']);
  t.deepEqual(v001?.instances, { inService: 2, total: 2 });
  t.deepEqual(
    v001?.targetGroups.map((g) => g.registered),
    [0],
  );
  t.is(v002?.state, 'enabled');
  t.deepEqual(v002?.capacity, { min: 3, max: 6, desired: 3 });
  t.deepEqual(v002?.instances, { inService: 3, total: 3 });
  t.deepEqual(
    v002?.targetGroups.map((g) => [g.name, g.registered]),
    [['web-tg', 3]],
  );
  t.regex(v002?.amiId ?? '', /^ami-/);
  t.is(status.active, 'web-prod-v002');
});

test('the status bundle writes the same status as JSON and a table on stderr', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'status-'));
  const input = join(dir, 'in.json');
  writeFileSync(input, JSON.stringify({ app: 'web', stack: 'prod' }));
  const { stderr } = await run('node', [bundle, '--input', input, '--output', join(dir, 'out.json')], {
    env: { ...process.env, ...emulatorEnv(moto.endpoint) },
  });
  const output = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
  t.is(output.cluster, 'web-prod');
  t.deepEqual(
    output.serverGroups.map((g: { name: string; state: string }) => `${g.name}:${g.state}`),
    ['web-prod-v001:disabled', 'web-prod-v002:enabled'],
  );
  t.regex(stderr, /SERVER GROUP\s+STATE/);
  t.regex(stderr, /web-prod-v002\s+enabled/);
});

test('an unknown cluster is not an error: nothing there', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'status-'));
  const { stderr } = await run('node', [bundle, '--cluster', 'nothing-here', '--output', join(dir, 'out.json')], {
    env: { ...process.env, ...emulatorEnv(moto.endpoint) },
  });
  const output = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
  t.deepEqual(output.serverGroups, []);
  t.is(output.active, null);
  t.regex(stderr, /nothing there/);
});
