import test from 'ava';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  parseAmiArtifactId,
  parseMachineReadableLine,
  readableLine,
  summarizeMachineReadable,
  type MachineReadableRecord,
} from '../../src/bake/machine-readable';
import { lastManifestRun, type PackerManifest } from '../../src/bake/manifest';
import { FIXTURES } from './helpers';

const dir = path.join(FIXTURES, 'machine-readable');
const records = (name: string): MachineReadableRecord[] =>
  readFileSync(path.join(dir, name), 'utf8')
    .split('\n')
    .map(parseMachineReadableLine)
    .filter((r): r is MachineReadableRecord => r !== undefined);
const manifest = (name: string): PackerManifest =>
  JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as PackerManifest;

test('a line: commas and newlines inside data are unescaped', (t) => {
  const r = parseMachineReadableLine(
    '1795671421,amazon-ebs.main,artifact,0,id,eu-west-1:ami-1%!(PACKER_COMMA)us-east-1:ami-2',
  );
  t.deepEqual(r, {
    timestamp: 1795671421,
    target: 'amazon-ebs.main',
    type: 'artifact',
    data: ['0', 'id', 'eu-west-1:ami-1,us-east-1:ami-2'],
  });
  const ui = parseMachineReadableLine('1,,ui,say,a%!(PACKER_COMMA) b\\nc');
  t.is(ui && readableLine(ui), 'a, b\nc');
  t.is(parseMachineReadableLine('not a record'), undefined);
});

test('artifact id: one or several region:ami pairs', (t) => {
  t.deepEqual(parseAmiArtifactId('us-east-1:ami-0123456789abcdef0'), { 'us-east-1': 'ami-0123456789abcdef0' });
  t.deepEqual(parseAmiArtifactId('eu-west-1:ami-1,us-east-1:ami-2,us-west-2:ami-3'), {
    'eu-west-1': 'ami-1',
    'us-east-1': 'ami-2',
    'us-west-2': 'ami-3',
  });
  t.deepEqual(parseAmiArtifactId('garbage'), {});
});

test('one region (recorded): the manifest post-processor repeats the artifact; counted once', (t) => {
  const s = summarizeMachineReadable(records('one-region.txt'), 'us-east-1');
  t.is(s.artifacts.length, 1);
  t.deepEqual(Object.keys(s.amis), ['us-east-1']);
  t.regex(s.amis['us-east-1'] ?? '', /^ami-[0-9a-f]+$/);
  t.deepEqual(s.errors, []);
  const run = lastManifestRun(manifest('one-region.manifest.json'));
  t.deepEqual(run?.amis, s.amis);
});

test('three regions (recorded): copies are comma-separated pairs', (t) => {
  const s = summarizeMachineReadable(records('three-regions.txt'), 'us-east-1');
  t.is(s.artifacts.length, 1);
  t.deepEqual(s.amis, {
    'eu-west-1': 'ami-9ee4768660a540f72',
    'us-east-1': 'ami-6b5cd0a2232a7e60d',
    'us-west-2': 'ami-ba95f85305f00d2a6',
  });
  t.deepEqual(s.createdAmiIds, ['ami-6b5cd0a2232a7e60d']);
});

test('manifest: only last_run_uuid counts, duplicates once', (t) => {
  const run = lastManifestRun(manifest('three-regions.manifest.json'));
  t.is(run?.packerRunUuid, '86e618b8-6661-a0e7-8a15-99270f91ec74');
  t.is(run?.builds.length, 1);
  t.deepEqual(run?.amis, {
    'eu-west-1': 'ami-9ee4768660a540f72',
    'us-east-1': 'ami-6b5cd0a2232a7e60d',
    'us-west-2': 'ami-ba95f85305f00d2a6',
  });
});

test('post-processor failed after the AMI was made (recorded): AMI from the message and the manifest, error kept', (t) => {
  const s = summarizeMachineReadable(records('post-processor-failed.txt'), 'us-east-1');
  t.is(s.artifacts.length, 0, 'packer prints no artifact records when a post-processor fails');
  t.deepEqual(s.createdAmiIds, ['ami-1c7488d9daa1fdc3f']);
  t.deepEqual(s.amis, { 'us-east-1': 'ami-1c7488d9daa1fdc3f' });
  t.is(s.errorCount, 1);
  t.is(s.errors.length, 1);
  t.regex(s.errors[0] ?? '', /Post-processor failed: Script exited with non-zero exit status: 1/);
  t.deepEqual(lastManifestRun(manifest('post-processor-failed.manifest.json'))?.amis, {
    'us-east-1': 'ami-1c7488d9daa1fdc3f',
  });
});

test('error run (recorded): no AMI, the error message', (t) => {
  const s = summarizeMachineReadable(records('error.txt'), 'us-east-1');
  t.deepEqual(s.amis, {});
  t.deepEqual(s.createdAmiIds, []);
  t.deepEqual(s.errors, ["Error: AMI Name: 'exp-test-5' is used by an existing AMI: ami-1c7488d9daa1fdc3f"]);
});
