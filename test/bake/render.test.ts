import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../src/core/errors';
import { VAR_FILE, type BuildDir } from '../../src/bake/render';
import type { BakeOptions } from '../../src/bake/types';
import { FIXTURES, renderFrom, tempDir } from './helpers';

const NOW = new Date('2025-01-02T03:04:05Z');
const REPO = path.join(FIXTURES, 'repo');
const GOLDEN = path.join(FIXTURES, 'golden');

const linux: BakeOptions = {
  app: 'shop',
  version: '1.2.3',
  region: 'eu-west-1',
  sourceAmi: { filter: { name: 'al2023-ami-2023.*-x86_64', owners: ['amazon'] } },
  artifactUrl: 's3://artifacts/shop/shop-1.2.3.tgz',
  allowedCidrs: ['10.20.0.0/16'],
  copyRegions: ['us-east-1', 'eu-central-1'],
  subnetId: 'subnet-0abc',
  vpcId: 'vpc-0abc',
  iamInstanceProfile: 'bake-instance',
  volume: { sizeGb: 20 },
  encryption: { kmsKeyId: 'alias/ami', regionKmsKeyIds: { 'us-east-1': 'alias/ami', 'eu-central-1': 'alias/ami' } },
  tags: { Team: 'shop' },
  build: { url: 'https://jenkins.example.com/job/shop/42/', gitCommit: '0123456789abcdef0123456789abcdef01234567' },
  steps: [
    { inline: ['dnf install -y nginx', 'systemctl enable nginx'], env: { NGINX_PORT: '8080' } },
    { scripts: ['scripts/setup.sh'], elevated: false },
  ],
  chef: { cookbooksPath: 'cookbooks', runList: ['recipe[app::default]'], attributes: { app: { port: 8080 } } },
  repoDir: REPO,
  now: NOW,
};

const windows: BakeOptions = {
  template: 'windows',
  app: 'shopweb',
  version: '2.0.0',
  region: 'eu-west-1',
  sourceAmi: { filter: { name: 'Windows_Server-2022-English-Full-Base-*', owners: ['amazon'] } },
  artifactUrl: 's3://artifacts/shopweb/shopweb-2.0.0.zip',
  allowedCidrs: ['10.20.0.0/16'],
  volume: { sizeGb: 50 },
  build: { url: 'https://jenkins.example.com/job/shopweb/7/', gitCommit: 'fedcba9876543210fedcba9876543210fedcba98' },
  steps: [{ inline: ['Write-Output "configuring $env:APP_NAME"'] }],
  iis: { port: 80 },
  repoDir: REPO,
  now: NOW,
};

const cases: Array<[string, BakeOptions, NodeJS.ProcessEnv]> = [
  ['linux', linux, {}],
  [
    'linux-policy',
    {
      ...linux,
      sourceAmi: { id: 'ami-0123456789abcdef0' },
      encryption: undefined,
      copyRegions: [],
      chef: { policyArchive: 'policy/app-policy.tgz', client: 'chef', version: '18.4.12' },
    },
    {},
  ],
  ['linux-sandbox', { ...linux, encryption: undefined }, { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }],
  ['windows', windows, {}],
  ['windows-sandbox', windows, { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }],
];

function packer(args: string[], cwd: string) {
  return spawnSync('packer', args, { cwd, encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
}

async function render(
  t: { teardown: (f: () => Promise<void>) => void },
  options: BakeOptions,
  env: NodeJS.ProcessEnv,
  packerVersion = '1.6.6',
): Promise<BuildDir> {
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  return renderFrom({ ...options, outDir: tmp.dir }, { packerVersion, env });
}

for (const [name, options, env] of cases) {
  test(`golden: ${name} renders as committed, parses, is packer fmt clean and passes packer validate`, async (t) => {
    const build = await render(t, options, env);
    for (const file of ['build.pkr.hcl', VAR_FILE]) {
      const actual = await fs.readFile(path.join(build.dir, file), 'utf8');
      const golden = path.join(GOLDEN, `${name}.${file}`);
      if (process.env.UPDATE_GOLDEN === '1') await fs.writeFile(golden, actual);
      t.is(actual, await fs.readFile(golden, 'utf8'), `${file} differs from ${golden} (UPDATE_GOLDEN=1 to refresh)`);
    }
    // Parse check: `packer fmt -check` parses each file (exit 1 on a syntax error, 3 when not formatted).
    for (const file of build.files.filter((f) => f.endsWith('.pkr.hcl'))) {
      const fmt = packer(['fmt', '-check', file], build.dir);
      t.is(fmt.status, 0, `${file}: ${fmt.stdout}${fmt.stderr}`);
    }
    const validate = packer(['validate', '.'], build.dir);
    t.is(validate.status, 0, validate.stdout + validate.stderr);
    t.false(build.needsInit);
    t.false(build.files.includes('plugins.pkr.hcl'), 'Packer 1.6.6 rejects required_plugins');
  });
}

test('Packer >= 1.7 gets plugins.pkr.hcl and needs init', async (t) => {
  const build = await render(t, linux, {}, '1.11.2');
  t.true(build.needsInit);
  const plugins = await fs.readFile(path.join(build.dir, 'plugins.pkr.hcl'), 'utf8');
  t.regex(plugins, /required_plugins[\s\S]*github\.com\/hashicorp\/amazon/);
  t.is(packer(['fmt', '-check', 'plugins.pkr.hcl'], build.dir).status, 0, 'plugins.pkr.hcl parses');
});

test('the packer version is detected with `packer version` when not given', async (t) => {
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  const build = await renderFrom({ ...linux, outDir: tmp.dir }, { env: {} });
  t.is(
    build.packerVersion.text,
    execFileSync('packer', ['version'], { encoding: 'utf8' }).match(/v(\d+\.\d+\.\d+)/)?.[1] ?? '',
  );
});

test('sandbox: communicator none, endpoint, no provisioners, sandbox tags', async (t) => {
  const build = await render(
    t,
    { ...linux, encryption: undefined, sandboxHealth: 'failing' },
    { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' },
  );
  const hcl = await fs.readFile(path.join(build.dir, 'build.pkr.hcl'), 'utf8');
  t.regex(hcl, /communicator\s+= "none"/);
  t.regex(hcl, /custom_endpoint_ec2\s+= var\.endpoint/);
  t.regex(hcl, /skip_region_validation = true/);
  t.notRegex(hcl, /provisioner "/);
  const vars = JSON.parse(await fs.readFile(path.join(build.dir, VAR_FILE), 'utf8')) as Record<string, unknown>;
  t.is(vars['endpoint'], 'http://127.0.0.1:5000');
  t.like(vars['ami_tags'], { 'sandbox:version': '1.2.3', 'sandbox:health': 'failing' });
});

test('the AMI name is <app>-<version>-<timestamp> and never force_deregister', async (t) => {
  const build = await render(t, { ...linux, version: '1.2.3+build.7' }, {});
  t.is(build.bake.amiName, 'shop-1.2.3_build.7-20250102030405');
  t.is(build.bake.tags['bluegreen:version'], '1.2.3+build.7');
  t.notRegex(await fs.readFile(path.join(build.dir, 'build.pkr.hcl'), 'utf8'), /force_deregister/);
});

test('a user template gets the same values and helpers', async (t) => {
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  const tpl = path.join(tmp.dir, 'mine.pkr.hcl.hbs');
  await fs.writeFile(tpl, '# {{app}} {{amiName}} {{hcl artifactUrl}} {{hclList copyRegions}} \\{{timestamp}}\n');
  const build = await renderFrom(
    { ...linux, templatePath: tpl, outDir: path.join(tmp.dir, 'out') },
    { packerVersion: '1.6.6', env: {} },
  );
  t.is(
    await fs.readFile(path.join(build.dir, 'build.pkr.hcl'), 'utf8'),
    '# shop shop-1.2.3-20250102030405 "s3://artifacts/shop/shop-1.2.3.tgz" ["us-east-1", "eu-central-1"] {{timestamp}}\n',
  );
});

test('strict: a template using an unknown value fails with a InputError on templatePath', async (t) => {
  const tmp = await tempDir();
  t.teardown(tmp.remove);
  const tpl = path.join(tmp.dir, 'bad.hbs');
  await fs.writeFile(tpl, '{{nosuchvalue}}\n');
  const err = await t.throwsAsync(
    renderFrom({ ...linux, templatePath: tpl, outDir: path.join(tmp.dir, 'out') }, { packerVersion: '1.6.6', env: {} }),
    { instanceOf: InputError },
  );
  t.is(err?.field, 'templatePath');
  t.regex(err?.message ?? '', /nosuchvalue/);
});

const invalid: Array<[string, Partial<BakeOptions>, string]> = [
  ['owners missing', { sourceAmi: { filter: { name: 'x', owners: [] } } }, 'sourceAmi.filter.owners'],
  ['no source', { sourceAmi: {} }, 'sourceAmi'],
  ['bad AMI id', { sourceAmi: { id: 'ami-xyz' } }, 'sourceAmi.id'],
  ['bad region', { region: 'Europe' }, 'region'],
  ['bad copy region', { copyRegions: ['mars-1'] }, 'copyRegions.0'],
  ['amiUsers not an account id', { amiUsers: ['111122223333', '12345'] }, 'amiUsers.1'],
  ['no CIDR outside the sandbox', { allowedCidrs: [] }, 'allowedCidrs'],
  ['bad CIDR', { allowedCidrs: ['10.0.0.0'] }, 'allowedCidrs.0'],
  ['bad AMI name', { amiName: 'x{y}' }, 'amiName'],
  ['aws: tag', { tags: { 'aws:x': 'y' } }, 'tags.aws:x'],
  ['long tag value', { tags: { k: 'v'.repeat(257) } }, 'tags.k'],
  ['artifact scheme', { artifactUrl: 'ftp://x/y' }, 'artifactUrl'],
  ['kms key per copy region', { encryption: { kmsKeyId: 'alias/a' } }, 'encryption.regionKmsKeyIds.us-east-1'],
  ['run list entry', { chef: { cookbooksPath: 'cookbooks', runList: ['app'] } }, 'chef.runList.0'],
  ['missing script', { steps: [{ scripts: ['scripts/none.sh'] }] }, 'steps.0.scripts.0'],
  ['empty step', { steps: [{}] }, 'steps.0'],
  ['volume size', { volume: { sizeGb: 0 } }, 'volume.sizeGb'],
  ['version with shell characters', { version: '1.0;echo X' }, 'version'],
  ['version too long', { version: '1'.repeat(129) }, 'version'],
];
for (const [name, patch, field] of invalid) {
  test(`invalid input: ${name} -> InputError(${field})`, async (t) => {
    const tmp = await tempDir();
    t.teardown(tmp.remove);
    const err = await t.throwsAsync(
      renderFrom({ ...linux, ...patch, outDir: tmp.dir }, { packerVersion: '1.6.6', env: {} }),
      { instanceOf: InputError },
    );
    t.is(err?.field, field, err?.message);
  });
}

test('presigned artifact URL: the signature is kept out of tags and Packer masks the value', async (t) => {
  const url = 'https://bucket.s3.amazonaws.com/a.tgz?X-Amz-Credential=AKIA&X-Amz-Signature=abc';
  const build = await render(t, { ...linux, artifactUrl: url }, {});
  t.is(build.bake.tags['bluegreen:artifact-url'], 'https://bucket.s3.amazonaws.com/a.tgz');
  t.regex(
    await fs.readFile(path.join(build.dir, 'variables.pkr.hcl'), 'utf8'),
    /variable "artifact_url" \{\n {2}type\s+= string\n {2}default\s+= null\n {2}sensitive = true\n\}/,
  );
});
