import test from 'ava';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CallCounter } from '../../src/aws/call-counter';
import { createLogger } from '../../src/core/log';
import { deploy } from '../../src/deploy/deploy';
import { listRecords } from '../../src/ledger';
import { rollbackDeploy } from '../../src/rollback/rollback';
import { isLoopbackEndpoint, sandboxClients } from '../../src/sandbox/sandbox';
import { cleanupStage } from '../../src/stages/cleanup';
import { parseStageInput, type StageContext } from '../../src/stages/framework';
import { deployStage, singleRegionRequest } from '../../src/stages/deploy';
import { rollbackStage } from '../../src/stages/rollback';
import { historyStage } from '../../src/stages/history';
import { statusStage } from '../../src/stages/status';
import { createNetwork } from '../helpers/cluster-fixture';
import { startMoto, type MotoServer } from '../helpers/moto';
import { startRecordingServer, type RecordingServer } from '../helpers/recording-server';

// The environment points every SDK client at a recording server (as a Jenkins agent's would point at AWS);
// the engine gets clients aimed at moto. Any call that leaves for the environment's endpoint is a client
// built from the environment instead of the injected ones (e.g. the ledger's or the lock's).
let moto: MotoServer;
let recorder: RecordingServer;
const region = 'us-east-1';
// The ledger in another region than the cluster: its clients come from the injected ones too (forRegion).
const ledger = { bucket: 'injected-ledger', prefix: 'bluegreen', region: 'eu-west-1' };
const saved = { ...process.env };

test.before(async () => {
  moto = await startMoto();
  recorder = await startRecordingServer();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: recorder.endpoint,
    AWS_ACCESS_KEY_ID: 'from-the-environment',
    AWS_SECRET_ACCESS_KEY: 'from-the-environment',
    AWS_REGION: 'ap-south-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    BLUEGREEN_POLL_MIN_MS: '50',
    BLUEGREEN_POLL_MAX_MS: '200',
  });
});

test.after.always(async () => {
  process.env = saved;
  await recorder?.close();
  await moto?.stop();
});

test.serial(
  'deploy, rollback, cleanup, status and history use only the clients they are given, the ledger and lock included',
  async (t) => {
    const counter = new CallCounter();
    const aws = sandboxClients(moto.endpoint, region, counter);
    const network = await createNetwork(aws);
    // Two releases need two AMIs (a rollback to the same AMI is refused): moto ships some.
    const [amiV1, amiV2] = ((await aws.ec2.send(new DescribeImagesCommand({}))).Images ?? []).map(
      (image) => image.ImageId as string,
    );
    await aws.forRegion(ledger.region).s3.send(
      new CreateBucketCommand({
        Bucket: ledger.bucket,
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    const lines: string[] = [];
    const log = createLogger('injected', (line) => lines.push(line));
    const common = { ledger, healthTimeout: 60, drainTimeout: 30 };
    const first = parseStageInput(deployStage, {
      region,
      app: 'web',
      stack: 'prod',
      amiId: amiV1,
      version: '1.0.0',
      targetGroups: [network.targetGroupName],
      capacity: { min: 1, max: 2, desired: 1 },
      instanceType: 't3.micro',
      subnets: network.subnetIds,
      ...common,
    }).input;
    t.is((await deploy(aws, singleRegionRequest(first), log)).serverGroup, 'web-prod-v000');
    const second = parseStageInput(deployStage, {
      region,
      cluster: 'web-prod',
      amiId: amiV2,
      version: '2.0.0',
      ...common,
    }).input;
    t.is((await deploy(aws, singleRegionRequest(second), log)).serverGroup, 'web-prod-v001');
    const rolledBack = await rollbackDeploy(
      aws,
      parseStageInput(rollbackStage, { region, cluster: 'web-prod', to: 'web-prod-v000', reason: 'test', ...common })
        .input,
      log,
    );
    t.is(rolledBack.restoredServerGroup, 'web-prod-v000', JSON.stringify(rolledBack));

    const context: StageContext = { log, region, aws: () => aws, signal: new AbortController().signal };
    await cleanupStage.run(parseStageInput(cleanupStage, { region, cluster: 'web-prod', ledger }).input, context);
    const status = await statusStage.run(
      parseStageInput(statusStage, { region, cluster: 'web-prod', ledger }).input,
      context,
    );
    t.true(status.deployments.length > 0, 'status read the ledger');
    const history = await historyStage.run(
      parseStageInput(historyStage, { region, cluster: 'web-prod', ledger }).input,
      context,
    );
    t.true(history.records.length >= 3, 'history read the ledger');

    const records = await listRecords(aws.forRegion(ledger.region), ledger, 'web-prod', { limit: 50 });
    const kinds = records.map((r) => r.kind);
    t.true(
      kinds.includes('deploy') && kinds.includes('rollback'),
      `deploys and the rollback were recorded in the ledger the injected clients reach (${kinds.join(', ')})`,
    );
    t.true(
      (counter.snapshot()['s3:PutObject'] ?? 0) > 0,
      'ledger and lock writes went through the injected clients (their call counter)',
    );
    t.deepEqual(recorder.requests, [], 'no call left for the environment endpoint');
  },
);

test('sandbox clients refuse an endpoint that is not loopback', (t) => {
  t.true(isLoopbackEndpoint('http://127.0.0.1:4566'));
  t.true(isLoopbackEndpoint('http://localhost:4566'));
  t.true(isLoopbackEndpoint('http://[::1]:4566'));
  t.false(isLoopbackEndpoint('https://s3.us-east-1.amazonaws.com'));
  t.false(isLoopbackEndpoint('http://127.0.0.1.example.com'));
  t.false(isLoopbackEndpoint('not a url'));
  t.throws(() => sandboxClients('https://ec2.us-east-1.amazonaws.com', region), { message: /127\.0\.0\.1\/localhost/ });
});
