import { escapeGoTemplate } from './escape';
import { redactUrl } from '../core/redact';
import type { ResolvedBake } from './types';

type VarValue = string | number | boolean | string[] | Record<string, string>;

/**
 * Every variable a template may use (`var.<name>`), with its HCL type. All
 * are declared with `default = null`, and Packer treats a null attribute as
 * unset, so templates can write `subnet_id = var.subnet_id` whether or not
 * it was given.
 */
export const PACKER_VARIABLES = {
  app: 'string',
  version: 'string',
  region: 'string',
  instance_type: 'string',
  ami_name: 'string',
  ami_description: 'string',
  ami_regions: 'list(string)',
  ami_tags: 'map(string)',
  run_tags: 'map(string)',
  source_ami_id: 'string',
  source_ami_filters: 'map(string)',
  source_ami_owners: 'list(string)',
  subnet_id: 'string',
  vpc_id: 'string',
  iam_instance_profile: 'string',
  volume_size: 'number',
  volume_type: 'string',
  volume_iops: 'number',
  volume_throughput: 'number',
  device_name: 'string',
  encrypt_boot: 'bool',
  kms_key_id: 'string',
  region_kms_key_ids: 'map(string)',
  allowed_cidrs: 'list(string)',
  ssh_username: 'string',
  winrm_username: 'string',
  artifact_url: 'string',
  endpoint: 'string',
} as const;

/** Name of a variable of {@link PACKER_VARIABLES}. */
export type PackerVariableName = keyof typeof PACKER_VARIABLES;

/** Packer variable values of a bake; unset ones are left out (they default to null). */
export function packerVariables(b: ResolvedBake): Partial<Record<PackerVariableName, VarValue>> {
  const gp3 = b.volume.type === 'gp3';
  const vars: Record<PackerVariableName, VarValue | undefined> = {
    app: b.app,
    version: b.version,
    region: b.region,
    instance_type: b.instanceType,
    ami_name: b.amiName,
    ami_description: b.amiDescription,
    ami_regions: b.copyRegions,
    ami_tags: b.tags,
    run_tags: b.runTags,
    source_ami_id: b.sourceAmi.id,
    source_ami_filters: b.sourceAmi.filters,
    source_ami_owners: b.sourceAmi.owners,
    subnet_id: b.subnetId,
    vpc_id: b.vpcId,
    iam_instance_profile: b.iamInstanceProfile,
    volume_size: b.volume.sizeGb,
    volume_type: b.volume.type,
    // gp3 baseline; Packer 1.6.6 refuses gp3 without them.
    volume_iops: gp3 ? 3000 : undefined,
    volume_throughput: gp3 ? 125 : undefined,
    device_name: b.volume.deviceName,
    encrypt_boot: b.encryption === undefined ? undefined : true,
    kms_key_id: b.encryption?.kmsKeyId,
    region_kms_key_ids:
      b.encryption?.regionKmsKeyIds === undefined || Object.keys(b.encryption.regionKmsKeyIds).length === 0
        ? undefined
        : b.encryption.regionKmsKeyIds,
    allowed_cidrs: b.allowedCidrs.length === 0 ? undefined : b.allowedCidrs,
    ssh_username: b.sshUsername,
    winrm_username: b.winrmUsername,
    artifact_url: b.artifactUrl,
    endpoint: b.endpoint,
  };
  const out: Partial<Record<PackerVariableName, VarValue>> = {};
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) out[k as PackerVariableName] = v;
  return out;
}

/**
 * Variables Packer must not print: the artifact URL when it is presigned
 * (it carries a signature). Packer then masks the value wherever it appears.
 */
export function sensitiveVariables(b: ResolvedBake): Set<PackerVariableName> {
  const s = new Set<PackerVariableName>();
  if (b.artifactUrl !== undefined && redactUrl(b.artifactUrl) !== b.artifactUrl) s.add('artifact_url');
  return s;
}

/** `variable` blocks declaring every variable of {@link PACKER_VARIABLES}, default null. */
export function variablesHcl(sensitive: ReadonlySet<string> = new Set()): string {
  return Object.entries(PACKER_VARIABLES)
    .map(([name, type]) => {
      const attrs: Array<[string, string]> = [
        ['type', type],
        ['default', 'null'],
      ];
      if (sensitive.has(name)) attrs.push(['sensitive', 'true']);
      const width = Math.max(...attrs.map(([k]) => k.length));
      return `variable "${name}" {\n${attrs.map(([k, v]) => `  ${k.padEnd(width)} = ${v}\n`).join('')}}\n`;
    })
    .join('\n');
}

/** The var file's content: values Go-template-escaped, since Packer renders plugin fields once. */
export function varFileJson(vars: Partial<Record<string, VarValue>>): string {
  const escape = (v: VarValue): VarValue => {
    if (typeof v === 'string') return escapeGoTemplate(v);
    if (Array.isArray(v)) return v.map(escapeGoTemplate);
    if (typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [escapeGoTemplate(k), escapeGoTemplate(x)]));
    return v;
  };
  return (
    JSON.stringify(Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, escape(v as VarValue)])), null, 2) + '\n'
  );
}
