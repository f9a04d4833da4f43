import test from 'ava';
import {
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { OperationFailedError } from '../../src/core/errors';
import { ec2LiteralTagger } from '../../src/bake/literal-tags';
import { ec2AmiSharer } from '../../src/bake/share-ami';
import { runPacker } from '../../src/bake/run';
import type { BakeOptions } from '../../src/bake/types';
import { startMoto, emulatorEnv, type MotoServer } from '../helpers/moto';
import { renderFrom, tempDir } from './helpers';

let moto: MotoServer;
test.before(async () => {
  moto = await startMoto();
});
test.after.always(async () => {
  await moto?.stop();
});

const ec2 = (region: string) =>
  new EC2Client({
    region,
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
const WEIRD = 'x "q" \\ ${y} %{z} {{w}}\nline two';

function options(dir: string, patch: Partial<BakeOptions> = {}): BakeOptions {
  return {
    app: 'shop',
    version: '1.2.3',
    region: 'us-east-1',
    // moto's default images: owners is what makes a filter work there.
    sourceAmi: { filter: { name: 'amzn-ami-hvm-*', owners: ['amazon'] } },
    artifactUrl: 's3://artifacts/shop/shop-1.2.3 "q" ${x}.tgz',
    tags: { Team: 'shop', Weird: WEIRD, Dollar: 'p ${x} %{y}' },
    build: { url: 'https://jenkins.example.com/job/shop/42/', gitCommit: 'abc123' },
    sandboxHealth: 'slow-boot',
    outDir: dir,
    ...patch,
  };
}

test.serial(
  'bakes a real AMI with real packer in moto; DescribeImages finds it with its tags in every region',
  async (t) => {
    const tmp = await tempDir();
    t.teardown(tmp.remove);
    const env = emulatorEnv(moto.endpoint);
    const build = await renderFrom(options(tmp.dir, { copyRegions: ['us-west-2', 'eu-west-1'] }), { env });
    const lines: string[] = [];
    const result = await runPacker(build, {
      env: { ...process.env, ...env },
      onLog: (l) => lines.push(l),
      applyLiteralTags: ec2LiteralTagger({ clientFor: ec2 }),
    });
    t.is(result.failure, undefined, result.failure?.message);
    t.is(result.exitCode, 0);
    t.is(result.region, 'us-east-1');
    t.deepEqual(Object.keys(result.amis).sort(), ['eu-west-1', 'us-east-1', 'us-west-2']);
    t.is(result.amiId, result.amis['us-east-1'] ?? 'missing');
    t.regex(result.amiName, /^shop-1\.2\.3-\d{14}$/);
    t.regex(result.packerRunUuid ?? '', /^[0-9a-f-]{36}$/);
    t.true(
      lines.some((l) => l.includes('Creating temporary security group')),
      'readable log lines are streamed',
    );

    for (const [region, amiId] of Object.entries(result.amis)) {
      const images = await ec2(region).send(new DescribeImagesCommand({ ImageIds: [amiId] }));
      const image = images.Images?.[0];
      t.is(image?.Name, result.amiName, region);
      const tags = Object.fromEntries((image?.Tags ?? []).map((x) => [x.Key, x.Value]));
      t.like(tags, {
        'bluegreen:app': 'shop',
        'bluegreen:version': '1.2.3',
        'bluegreen:build-url': 'https://jenkins.example.com/job/shop/42/',
        'bluegreen:git-commit': 'abc123',
        'bluegreen:artifact-url': 's3://artifacts/shop/shop-1.2.3 "q" ${x}.tgz',
        'sandbox:version': '1.2.3',
        'sandbox:health': 'slow-boot',
        Team: 'shop',
        Dollar: 'p ${x} %{y}',
        // Set through the EC2 API after the build: Packer cannot carry "{{".
        Weird: WEIRD,
      });
      t.regex(tags['bluegreen:source-ami'] ?? '', /^ami-/, "Packer's own {{ .SourceAMI }} was rendered by Packer");
    }
    // Packer cleaned up its temporary instance and key pair.
    const reservations = await ec2('us-east-1').send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:bluegreen:app', Values: ['shop'] }] }),
    );
    const states = (reservations.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name);
    t.true(states.length > 0 && states.every((s) => s === 'terminated'), `instance states: ${states.join(',')}`);
    const keys = await ec2('us-east-1').send(new DescribeKeyPairsCommand({}));
    t.false((keys.KeyPairs ?? []).some((k) => k.KeyName?.startsWith('packer_')));
  },
);

test.serial(
  'amiUsers: the AMI and its snapshots are shared with the accounts in every region it is copied to',
  async (t) => {
    const tmp = await tempDir();
    t.teardown(tmp.remove);
    const env = emulatorEnv(moto.endpoint);
    const users = ['111122223333', '444455556666'];
    const build = await renderFrom(
      options(tmp.dir, { copyRegions: ['eu-west-1'], amiUsers: users, amiName: 'shop-shared-1' }),
      { env },
    );
    const result = await runPacker(build, {
      env: { ...process.env, ...env },
      applyLiteralTags: ec2LiteralTagger({ clientFor: ec2 }),
      shareAmi: ec2AmiSharer({ clientFor: ec2 }),
    });
    t.is(result.failure, undefined, result.failure?.message);
    t.deepEqual(Object.keys(result.amis).sort(), ['eu-west-1', 'us-east-1']);
    for (const [region, amiId] of Object.entries(result.amis)) {
      const launch = await ec2(region).send(
        new DescribeImageAttributeCommand({ ImageId: amiId, Attribute: 'launchPermission' }),
      );
      t.deepEqual(
        (launch.LaunchPermissions ?? []).map((p) => p.UserId).sort(),
        users,
        `${region}: launch permission of ${amiId}`,
      );
      const images = await ec2(region).send(new DescribeImagesCommand({ ImageIds: [amiId] }));
      const snapshots = (images.Images?.[0]?.BlockDeviceMappings ?? []).flatMap((m) =>
        m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [],
      );
      t.true(snapshots.length > 0, `${region}: ${amiId} has snapshots`);
      for (const snapshot of snapshots) {
        const volume = await ec2(region).send(
          new DescribeSnapshotAttributeCommand({ SnapshotId: snapshot, Attribute: 'createVolumePermission' }),
        );
        t.deepEqual(
          (volume.CreateVolumePermissions ?? []).map((p) => p.UserId).sort(),
          users,
          `${region}: createVolumePermission of ${snapshot}`,
        );
      }
    }
  },
);

test.serial('a post-processor failing after the AMI was made: the AMI is reported with the failure', async (t) => {
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  const tpl = path.join(tmp.dir, 'failing-pp.pkr.hcl.hbs');
  const linux = await fs.readFile(
    path.join(__dirname, '../../resources/bluegreen/packer/linux/build.pkr.hcl.hbs'),
    'utf8',
  );
  await fs.writeFile(
    tpl,
    linux.replace(
      /(post-processor "manifest" \{[^}]*\})/,
      '$1\n  post-processor "shell-local" {\n    inline = ["echo failing on purpose", "exit 1"]\n  }',
    ),
  );
  const env = emulatorEnv(moto.endpoint);
  const build = await renderFrom(
    options(path.join(tmp.dir, 'out'), { templatePath: tpl, tags: {}, version: '1.2.4' }),
    { env },
  );
  const result = await runPacker(build, { env: { ...process.env, ...env } });
  t.is(result.exitCode, 1);
  t.regex(result.amiId, /^ami-/);
  t.regex(result.failure?.message ?? '', /failed \(exit 1\) after creating ami-/);
  t.regex(result.failure?.errors.join('\n') ?? '', /Post-processor failed/);
  const images = await ec2('us-east-1').send(new DescribeImagesCommand({ ImageIds: [result.amiId] }));
  t.is(images.Images?.length, 1, 'the AMI really exists');
});

test.serial("an error run (AMI name taken): BakeFailed with packer's message", async (t) => {
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  const env = emulatorEnv(moto.endpoint);
  const opts = options(path.join(tmp.dir, 'a'), { amiName: 'shop-fixed-name', tags: {} });
  await runPacker(await renderFrom(opts, { env }), { env: { ...process.env, ...env } });
  const again = await renderFrom({ ...opts, outDir: path.join(tmp.dir, 'b') }, { env });
  const err = await t.throwsAsync(runPacker(again, { env: { ...process.env, ...env } }), {
    instanceOf: OperationFailedError,
  });
  t.is(err?.code, 'BakeFailed');
  t.regex(err?.message ?? '', /AMI Name: 'shop-fixed-name' is used by an existing AMI/);
});

test.serial('interrupt: SIGINT goes to packer, which cleans up; no AMI, BakeInterrupted', async (t) => {
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  const tpl = path.join(tmp.dir, 'slow.pkr.hcl.hbs');
  const linux = await fs.readFile(
    path.join(__dirname, '../../resources/bluegreen/packer/linux/build.pkr.hcl.hbs'),
    'utf8',
  );
  // A local step that takes long, so the build is cancelled while the instance runs.
  await fs.writeFile(
    tpl,
    linux.replace(
      'sources = ["source.amazon-ebs.app"]',
      'sources = ["source.amazon-ebs.app"]\n\n  provisioner "shell-local" {\n    inline = ["sleep 60"]\n  }',
    ),
  );
  const env = emulatorEnv(moto.endpoint);
  const build = await renderFrom(
    options(path.join(tmp.dir, 'out'), { templatePath: tpl, tags: {}, version: '9.9.9', app: 'slowapp' }),
    { env },
  );
  const abort = new AbortController();
  const lines: string[] = [];
  const started = Date.now();
  const outcome = await runPacker(build, {
    env: { ...process.env, ...env },
    signal: abort.signal,
    onLog: (l) => {
      lines.push(`${Date.now() - started} ${l}`);
      if (l.includes('Running local shell script')) abort.abort();
    },
  }).catch((e: unknown) => e);
  t.log(lines.join('\n'));
  t.true(outcome instanceof OperationFailedError, JSON.stringify(outcome));
  const err = outcome as OperationFailedError;
  t.is(err?.code, 'BakeInterrupted', lines.join('\n'));
  t.true(Date.now() - started < 45_000, 'did not wait for the sleep');
  t.true(
    lines.some((l) => /Terminating the source AWS instance/.test(l)),
    lines.join('\n'),
  );
  const images = await ec2('us-east-1').send(
    new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: [build.bake.amiName] }] }),
  );
  t.is(images.Images?.length ?? 0, 0);
});

test.serial('timeout: packer gets SIGINT at the deadline and cleans up; BakeTimedOut', async (t) => {
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  const tpl = path.join(tmp.dir, 'slow.pkr.hcl.hbs');
  const linux = await fs.readFile(
    path.join(__dirname, '../../resources/bluegreen/packer/linux/build.pkr.hcl.hbs'),
    'utf8',
  );
  await fs.writeFile(
    tpl,
    linux.replace(
      'sources = ["source.amazon-ebs.app"]',
      'sources = ["source.amazon-ebs.app"]\n\n  provisioner "shell-local" {\n    inline = ["sleep 120"]\n  }',
    ),
  );
  const env = emulatorEnv(moto.endpoint);
  const build = await renderFrom(
    options(path.join(tmp.dir, 'out'), { templatePath: tpl, tags: {}, version: '9.9.8', app: 'slowapp' }),
    { env },
  );
  const lines: string[] = [];
  const outcome = await runPacker(build, {
    env: { ...process.env, ...env },
    timeoutMs: 20_000,
    graceMs: 30_000,
    onLog: (l) => lines.push(l),
  }).catch((e: unknown) => e);
  t.true(outcome instanceof OperationFailedError, JSON.stringify(outcome));
  t.is((outcome as OperationFailedError).code, 'BakeTimedOut');
  t.true(
    lines.some((l) => /Terminating the source AWS instance|Deleting temporary keypair/.test(l)),
    lines.join('\n'),
  );
});
