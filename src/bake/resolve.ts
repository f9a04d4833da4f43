import { EBS_VOLUME_TYPES } from '../aws/ebs';
import * as path from 'node:path';
import { InputError } from '../core/errors';
import { checkObject, checkRegion, checkString, checkStringList } from '../core/validate';
import { checkStringMap, checkVersion, optionalNonBlank } from '../core/validate';
import { assertAmiName, makeAmiName } from './ami-name';
import { checkCredentialsOutlastBake } from './credentials-expiry';
import { hasGoTemplateOpen } from './escape';
import { resolveSourceAmi } from './resolve-source';
import { NO_GO_TEMPLATE, resolveChef, resolveIis, resolveSteps } from './resolve-steps';
import { resolveTags } from './resolve-tags';
import { builtinTemplateDir } from './template-dir';
import type { BakeOptions, ResolvedBake } from './types';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/;
const ARTIFACT_URL = /^(s3|https?):\/\/\S/;

function list(field: string, value: unknown): string[] {
  return value === undefined || value === null ? [] : checkStringList(field, value);
}

function resolveTemplate(o: Record<string, unknown>, repoDir: string): Pick<ResolvedBake, 'template' | 'templatePath'> {
  if (o['templatePath'] !== undefined) {
    return { template: 'custom', templatePath: path.resolve(repoDir, checkString('templatePath', o['templatePath'])) };
  }
  const template = o['template'] ?? 'linux';
  if (template !== 'linux' && template !== 'windows') {
    throw new InputError(
      'template',
      `"${String(template)}" is not a built-in template (linux, windows); pass templatePath for your own`,
    );
  }
  return { template, templatePath: path.join(builtinTemplateDir(), template, 'build.pkr.hcl.hbs') };
}

function resolveArtifactUrl(value: unknown): string | undefined {
  const url = optionalNonBlank('artifactUrl', value);
  if (url === undefined) return undefined;
  if (hasGoTemplateOpen(url)) throw new InputError('artifactUrl', NO_GO_TEMPLATE);
  if (!ARTIFACT_URL.test(url)) throw new InputError('artifactUrl', 'must be an s3:// or https:// URL');
  return url;
}

function resolveCidrs(value: unknown, sandbox: boolean): string[] {
  const cidrs = list('allowedCidrs', value);
  cidrs.forEach((c, i) => {
    if (!CIDR.test(c)) throw new InputError(`allowedCidrs.${i}`, `"${c}" is not a CIDR block`);
  });
  if (cidrs.length === 0 && !sandbox) {
    throw new InputError(
      'allowedCidrs',
      'required: the CIDR(s) the build agent reaches the build instance from (Packer would otherwise open 0.0.0.0/0)',
    );
  }
  return cidrs;
}

function resolveVolume(value: unknown, windows: boolean, sandbox: boolean): ResolvedBake['volume'] {
  const v = value === undefined || value === null ? {} : checkObject('volume', value);
  // moto's RunInstances wants a size (or snapshot) in every block device mapping.
  const sizeGb = v['sizeGb'] === undefined ? (sandbox ? 8 : undefined) : wholeGiB(v['sizeGb']);
  const type = v['type'] === undefined ? 'gp3' : checkString('volume.type', v['type']);
  if (!(EBS_VOLUME_TYPES as readonly string[]).includes(type))
    throw new InputError('volume.type', `"${type}" is not an EBS volume type`);
  const deviceName =
    v['deviceName'] === undefined
      ? windows
        ? '/dev/sda1'
        : '/dev/xvda'
      : checkString('volume.deviceName', v['deviceName']);
  return { sizeGb, type, deviceName };
}

function wholeGiB(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 16384) {
    throw new InputError('volume.sizeGb', 'must be a whole number of GiB, 1-16384');
  }
  return value;
}

function resolveEncryption(value: unknown, copyRegions: string[]): ResolvedBake['encryption'] {
  if (value === undefined || value === null) return undefined;
  const e = checkObject('encryption', value);
  const encryption = {
    kmsKeyId: optionalNonBlank('encryption.kmsKeyId', e['kmsKeyId']),
    regionKmsKeyIds: checkStringMap('encryption.regionKmsKeyIds', e['regionKmsKeyIds']),
  };
  for (const r of copyRegions) {
    if (encryption.kmsKeyId !== undefined && encryption.regionKmsKeyIds[r] === undefined) {
      throw new InputError(
        `encryption.regionKmsKeyIds.${r}`,
        'required: a KMS key of each copy region when kmsKeyId is set (KMS keys are regional)',
      );
    }
  }
  return encryption;
}

/** An AWS account id: 12 digits (an account the AMI is shared with). */
function checkAccountId(field: string, value: unknown): string {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{12}$/.test(text))
    throw new InputError(field, `must be an AWS account id, 12 digits (got ${JSON.stringify(value)})`);
  return text;
}

/**
 * Validates a bake's options and applies defaults: the one entry both the
 * stage (before anything runs) and {@link renderBuild} callers use; rendering
 * takes its result. Throws {@link InputError} naming the field at the first
 * problem. `options` may be raw input (e.g. parsed JSON): every value is checked.
 */
export function resolveBakeOptions(
  options: BakeOptions | Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedBake {
  const o = checkObject('options', options);
  const app = checkString('app', o['app']);
  if (!NAME.test(app))
    throw new InputError(
      'app',
      `"${app}" must start with a letter or digit and hold only letters, digits, ".", "_" and "-"`,
    );
  const version = checkVersion('version', o['version']);
  const region = checkRegion('region', o['region']);
  const repoDir = path.resolve(optionalNonBlank('repoDir', o['repoDir']) ?? process.cwd());
  const { template, templatePath } = resolveTemplate(o, repoDir);
  const windows = template === 'windows';
  const sourceAmi = resolveSourceAmi(o['sourceAmi']);
  const artifactUrl = resolveArtifactUrl(o['artifactUrl']);
  const endpoint =
    optionalNonBlank('endpoint', o['endpoint']) ?? optionalNonBlank('AWS_ENDPOINT_URL', env.AWS_ENDPOINT_URL);
  const sandbox = endpoint !== undefined;
  const allowedCidrs = resolveCidrs(o['allowedCidrs'], sandbox);

  const now = o['now'] instanceof Date ? o['now'] : new Date();
  const amiName = o['amiName'] !== undefined ? checkString('amiName', o['amiName']) : makeAmiName(app, version, now);
  assertAmiName(amiName);
  const copyRegions = list('copyRegions', o['copyRegions']).map((r, i) => checkRegion(`copyRegions.${i}`, r));
  if (copyRegions.includes(region))
    throw new InputError('copyRegions', `holds the build region ${region}; list only the other regions`);
  const amiUsers = list('amiUsers', o['amiUsers']).map((id, i) => checkAccountId(`amiUsers.${i}`, id));
  const outDir = optionalNonBlank('outDir', o['outDir']);

  const timeoutMinutes =
    o['timeoutMinutes'] === undefined || o['timeoutMinutes'] === null ? 120 : Number(o['timeoutMinutes']);
  if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0)
    throw new InputError('timeoutMinutes', 'must be a positive number');

  const resolved: ResolvedBake = {
    template,
    templatePath,
    app,
    version,
    region,
    amiName,
    amiDescription: `${app} ${version}`,
    instanceType: optionalNonBlank('instanceType', o['instanceType']) ?? (windows ? 't3.large' : 't3.small'),
    sourceAmi,
    artifactUrl,
    subnetId: optionalNonBlank('subnetId', o['subnetId']),
    vpcId: optionalNonBlank('vpcId', o['vpcId']),
    iamInstanceProfile: optionalNonBlank('iamInstanceProfile', o['iamInstanceProfile']),
    volume: resolveVolume(o['volume'], windows, sandbox),
    encryption: resolveEncryption(o['encryption'], copyRegions),
    copyRegions,
    amiUsers,
    ...resolveTags({
      app,
      version,
      amiName,
      artifactUrl,
      sandbox,
      tags: o['tags'],
      build: o['build'],
      sandboxHealth: o['sandboxHealth'],
    }),
    allowedCidrs,
    sshUsername: optionalNonBlank('sshUsername', o['sshUsername']) ?? 'ec2-user',
    winrmUsername: optionalNonBlank('winrmUsername', o['winrmUsername']) ?? 'Administrator',
    steps: resolveSteps(o['steps'], repoDir),
    chef: resolveChef(o['chef'], windows, repoDir),
    iis: resolveIis(o['iis'], windows, app, artifactUrl),
    sandbox,
    endpoint,
    repoDir,
    outDir: outDir === undefined ? undefined : path.resolve(outDir),
    timeoutMinutes,
  };
  checkCredentialsOutlastBake(env, timeoutMinutes, now);
  return resolved;
}
