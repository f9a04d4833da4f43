import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { assertAmiName, makeAmiName } from './ami-name.js';
import { BakeInputError } from './errors.js';

/** Which image to start from: an AMI id, or a filter (owners required, as Packer asks). */
export interface SourceAmiOption {
  /** An AMI id, e.g. `ami-0abc…`. Takes precedence over `filter`. */
  id?: string;
  filter?: {
    /** Name pattern, e.g. `al2023-ami-2023.*-x86_64`. */
    name?: string;
    /** More DescribeImages filters (e.g. `architecture`), merged with `name`. */
    filters?: Record<string, string>;
    /** Account ids or aliases (`amazon`, `self`) that may own the image. Required. */
    owners: string[];
    /** Pick the newest match (default true). */
    mostRecent?: boolean;
  };
}

/** A shell (Linux) or PowerShell (Windows) provisioner step. */
export interface ScriptStep {
  /** Commands, run in order in one script. */
  inline?: string[];
  /** Script files from the user's repository (relative to `repoDir`). */
  scripts?: string[];
  /** Extra environment variables for the step. */
  env?: Record<string, string>;
  /** Run with sudo / elevated (default true on Linux). */
  elevated?: boolean;
}

/** Chef (or Cinc) in local mode, run through shell since Packer removed its Chef provisioners. */
export interface ChefOption {
  /** `cinc` (default, the free build of Chef) or `chef`. */
  client?: 'cinc' | 'chef';
  /** Client version to install when missing (default: latest). */
  version?: string;
  /** Directory in the repo holding the cookbooks (used with `runList`). */
  cookbooksPath?: string;
  /** Run list, e.g. `["recipe[app::default]"]`. */
  runList?: string[];
  /** A policy archive made by `chef export --archive` (instead of cookbooks + run list). */
  policyArchive?: string;
  /** Node attributes (JSON). */
  attributes?: Record<string, unknown>;
}

/** IIS + .NET example of the Windows template: installs the web app from the artifact (a zip). */
export interface IisSiteOption {
  /** Site name (default: app). */
  siteName?: string;
  /** Port of the HTTP binding (default 80). */
  port?: number;
  /** Application pool .NET CLR version: `v4.0` (default) or `` for No Managed Code (.NET Core). */
  managedRuntimeVersion?: string;
}

/** Everything a bake needs. Values are rendered literally, whatever they contain. */
export interface BakeOptions {
  /** Built-in template: `linux` (default) or `windows`. */
  template?: 'linux' | 'windows';
  /** A user's own handlebars template (`.hbs`); gets the same values and helpers. */
  templatePath?: string;
  /** Application name (first part of the AMI name). */
  app: string;
  /** Application version (second part of the AMI name; `bluegreen:version` tag). */
  version: string;
  /** Region where the image is built. */
  region: string;
  sourceAmi: SourceAmiOption;
  /** The artifact to install (`s3://bucket/key` or `https://…`), from the publish stage. */
  artifactUrl?: string;
  /** Build instance type (default t3.small; t3.large for windows). */
  instanceType?: string;
  subnetId?: string;
  vpcId?: string;
  /** IAM instance profile of the build instance (it needs s3:GetObject on the artifact). */
  iamInstanceProfile?: string;
  /** Root volume. */
  volume?: { sizeGb?: number; type?: string; deviceName?: string };
  /** Encrypt the AMI's snapshots (with a KMS key, or the default EBS key). */
  encryption?: { kmsKeyId?: string; regionKmsKeyIds?: Record<string, string> };
  /** Regions the AMI is copied to. */
  copyRegions?: string[];
  /** Extra tags of the AMI and its snapshots. */
  tags?: Record<string, string>;
  /** Build metadata recorded in tags. */
  build?: { url?: string; gitCommit?: string };
  /** AMI name; default `<app>-<version>-<timestamp>`. */
  amiName?: string;
  /** CIDRs allowed into the temporary security group (required unless sandbox). */
  allowedCidrs?: string[];
  /** Linux: SSH user of the source AMI (default `ec2-user`). */
  sshUsername?: string;
  /** Windows: WinRM user (default `Administrator`). */
  winrmUsername?: string;
  /** Shell (linux) / PowerShell (windows) steps, in order, after the artifact is fetched. */
  steps?: ScriptStep[];
  /** Linux: Chef/Cinc local mode, after `steps`. */
  chef?: ChefOption;
  /** Windows: install the artifact as an IIS site (default on when artifactUrl is set). */
  iis?: IisSiteOption | false;
  /** Sandbox: AWS endpoint (else `AWS_ENDPOINT_URL`). Bakes with `communicator = "none"`. */
  endpoint?: string;
  /** Sandbox: app behaviour recorded in the `sandbox:health` tag (e.g. `healthy`). */
  sandboxHealth?: string;
  /** Base of relative script/cookbook paths (default: cwd). */
  repoDir?: string;
  /** Where to write the build directory (default: a new temp dir). */
  outDir?: string;
  /** Clock, for tests. */
  now?: Date;
}

/** Options after defaults and validation; what templates see (plus helpers). */
export interface ResolvedBake {
  template: 'linux' | 'windows' | 'custom';
  templatePath: string;
  app: string;
  version: string;
  region: string;
  amiName: string;
  amiDescription: string;
  instanceType: string;
  sourceAmi: { id?: string; filters?: Record<string, string>; owners?: string[]; mostRecent: boolean };
  artifactUrl?: string;
  subnetId?: string;
  vpcId?: string;
  iamInstanceProfile?: string;
  volume: { sizeGb?: number; type: string; deviceName: string };
  encryption?: { kmsKeyId?: string; regionKmsKeyIds?: Record<string, string> };
  copyRegions: string[];
  /** AMI + snapshot tags Packer can carry (no `{{`). */
  tags: Record<string, string>;
  /** Tags holding `{{`: applied after the build through the EC2 API (Packer would render them). */
  literalTags: Record<string, string>;
  /** Tags of the temporary instance, key pair and security group. */
  runTags: Record<string, string>;
  allowedCidrs: string[];
  sshUsername: string;
  winrmUsername: string;
  steps: Array<Required<Pick<ScriptStep, 'inline' | 'scripts' | 'env'>> & { elevated: boolean }>;
  chef?: {
    client: 'cinc' | 'chef';
    version?: string;
    cookbooksPath?: string;
    runList: string[];
    policyArchive?: string;
    attributes: Record<string, unknown>;
  };
  iis?: { siteName: string; port: number; managedRuntimeVersion: string };
  sandbox: boolean;
  endpoint?: string;
  repoDir: string;
}

/** Tag keys the bake writes (build metadata). */
export const TAG = {
  app: 'bluegreen:app',
  version: 'bluegreen:version',
  artifactUrl: 'bluegreen:artifact-url',
  buildUrl: 'bluegreen:build-url',
  gitCommit: 'bluegreen:git-commit',
  amiName: 'bluegreen:ami-name',
  sandboxVersion: 'sandbox:version',
  sandboxHealth: 'sandbox:health',
} as const;

/**
 * Directory of the built-in templates (`resources/bluegreen/packer`):
 * `BLUEGREEN_PACKER_TEMPLATES`, else found from where this code runs: next to
 * the stage bundle (`resources/bluegreen/bake.js`), from the npm CLI
 * (`dist/cli.js`) or from the source tree (`src/bake/`).
 */
export function builtinTemplateDir(): string {
  if (process.env.BLUEGREEN_PACKER_TEMPLATES) return process.env.BLUEGREEN_PACKER_TEMPLATES;
  const candidates = [
    path.join(__dirname, 'packer'),
    path.resolve(__dirname, '..', 'resources', 'bluegreen', 'packer'),
    path.resolve(__dirname, '..', '..', 'resources', 'bluegreen', 'packer'),
  ];
  return candidates.find((dir) => existsSync(path.join(dir, 'linux'))) ?? (candidates[2] as string);
}

/**
 * Packer renders provisioner environment values as Go templates until they
 * stop changing (`interpolate.Render`), so no escaping keeps a "{{" there.
 */
const NO_GO_TEMPLATE =
  'must not contain "{{": Packer renders environment values as Go templates until they stop changing, so it cannot pass "{{" literally (use a script file for such text)';

const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function nonEmpty(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BakeInputError(field, 'required, a non-empty string');
  }
  return value;
}

function optionalString(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new BakeInputError(field, `must be a string, got ${typeof value}`);
  return value;
}

function region(field: string, value: unknown): string {
  const r = nonEmpty(field, value);
  if (!REGION.test(r)) throw new BakeInputError(field, `"${r}" is not an AWS region name (e.g. eu-west-1)`);
  return r;
}

function stringList(field: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new BakeInputError(field, 'must be a list of strings');
  }
  return value as string[];
}

function stringMap(field: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new BakeInputError(field, 'must be an object of strings');
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new BakeInputError(`${field}.${k}`, `must be a string, got ${typeof v}`);
  }
  return value as Record<string, string>;
}

/**
 * Drops user info and a signed query (presigned S3 URL) from a URL, so a tag
 * or log never holds a secret. Anything else is returned unchanged, byte for byte.
 */
export function redactUrl(url: string): string {
  let out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#\s]*@/i, '$1');
  const q = out.indexOf('?');
  if (q >= 0 && /[?&](x-amz-signature|x-amz-credential|x-amz-security-token|signature|sig|token|awsaccesskeyid)=/i.test(out.slice(q))) {
    out = out.slice(0, q);
  }
  return out;
}

function checkTag(field: string, key: string, value: string): void {
  if (key.length < 1 || key.length > 128) throw new BakeInputError(field, `tag key must be 1-128 characters, got ${key.length}`);
  if (key.toLowerCase().startsWith('aws:')) throw new BakeInputError(field, 'tag keys starting with "aws:" are reserved by AWS');
  if (value.length > 256) throw new BakeInputError(field, `tag value must be at most 256 characters, got ${value.length}`);
}

/**
 * Validates options and applies defaults. Throws {@link BakeInputError}
 * naming the field at the first problem.
 */
export function resolveBakeOptions(options: BakeOptions, env: NodeJS.ProcessEnv = process.env): ResolvedBake {
  if (options === null || typeof options !== 'object') throw new BakeInputError('options', 'must be an object');
  const app = nonEmpty('app', options.app);
  if (!NAME.test(app)) throw new BakeInputError('app', `"${app}" must start with a letter or digit and hold only letters, digits, ".", "_" and "-"`);
  const version = nonEmpty('version', options.version);
  const buildRegion = region('region', options.region);

  let template: ResolvedBake['template'];
  let templatePath: string;
  const repoDir = path.resolve(options.repoDir ?? process.cwd());
  if (options.templatePath !== undefined) {
    template = 'custom';
    templatePath = path.resolve(repoDir, nonEmpty('templatePath', options.templatePath));
  } else {
    template = options.template ?? 'linux';
    if (template !== 'linux' && template !== 'windows') {
      throw new BakeInputError('template', `"${String(template)}" is not a built-in template (linux, windows); pass templatePath for your own`);
    }
    templatePath = path.join(builtinTemplateDir(), template, 'build.pkr.hcl.hbs');
  }
  const windows = template === 'windows';

  const src = options.sourceAmi;
  if (src === undefined || src === null || typeof src !== 'object') throw new BakeInputError('sourceAmi', 'required: { id } or { filter: { name, owners } }');
  let sourceAmi: ResolvedBake['sourceAmi'];
  if (src.id !== undefined) {
    const id = nonEmpty('sourceAmi.id', src.id);
    if (!/^ami-[0-9a-f]{8,17}$/.test(id)) throw new BakeInputError('sourceAmi.id', `"${id}" is not an AMI id (ami-…)`);
    sourceAmi = { id, mostRecent: false };
  } else if (src.filter !== undefined) {
    const owners = stringList('sourceAmi.filter.owners', src.filter.owners);
    if (owners.length === 0) throw new BakeInputError('sourceAmi.filter.owners', 'required: at least one owner account id or alias (e.g. "amazon"), or anyone could publish a matching image');
    const filters = { ...stringMap('sourceAmi.filter.filters', src.filter.filters) };
    const name = optionalString('sourceAmi.filter.name', src.filter.name);
    if (name !== undefined) filters['name'] = name;
    if (Object.keys(filters).length === 0) throw new BakeInputError('sourceAmi.filter.name', 'required (or filters)');
    if (filters['root-device-type'] === undefined) filters['root-device-type'] = 'ebs';
    sourceAmi = { filters, owners, mostRecent: src.filter.mostRecent ?? true };
  } else {
    throw new BakeInputError('sourceAmi', 'give either id or filter');
  }

  const artifactUrl = optionalString('artifactUrl', options.artifactUrl);
  if (artifactUrl?.includes('{{') === true) throw new BakeInputError('artifactUrl', NO_GO_TEMPLATE);
  if (artifactUrl !== undefined && !/^(s3|https?):\/\/\S/.test(artifactUrl)) {
    throw new BakeInputError('artifactUrl', 'must be an s3:// or https:// URL');
  }

  const endpoint = optionalString('endpoint', options.endpoint) ?? optionalString('AWS_ENDPOINT_URL', env.AWS_ENDPOINT_URL);
  const sandbox = endpoint !== undefined;

  const allowedCidrs = stringList('allowedCidrs', options.allowedCidrs);
  allowedCidrs.forEach((c, i) => {
    if (!CIDR.test(c)) throw new BakeInputError(`allowedCidrs.${i}`, `"${c}" is not a CIDR block`);
  });
  if (allowedCidrs.length === 0 && !sandbox) {
    throw new BakeInputError('allowedCidrs', 'required: the CIDR(s) the build agent reaches the build instance from (Packer would otherwise open 0.0.0.0/0)');
  }

  const now = options.now ?? new Date();
  const amiName = options.amiName !== undefined ? nonEmpty('amiName', options.amiName) : makeAmiName(app, version, now);
  assertAmiName(amiName);

  const copyRegions = stringList('copyRegions', options.copyRegions).map((r, i) => region(`copyRegions.${i}`, r));
  if (copyRegions.includes(buildRegion)) throw new BakeInputError('copyRegions', `holds the build region ${buildRegion}; list only the other regions`);

  const volume = {
    // moto's RunInstances wants a size (or snapshot) in every block device mapping.
    sizeGb: options.volume?.sizeGb ?? (sandbox ? 8 : undefined),
    type: options.volume?.type ?? 'gp3',
    deviceName: options.volume?.deviceName ?? (windows ? '/dev/sda1' : '/dev/xvda'),
  };
  if (volume.sizeGb !== undefined && (!Number.isInteger(volume.sizeGb) || volume.sizeGb < 1 || volume.sizeGb > 16384)) {
    throw new BakeInputError('volume.sizeGb', 'must be a whole number of GiB, 1-16384');
  }
  if (!['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard'].includes(volume.type)) {
    throw new BakeInputError('volume.type', `"${volume.type}" is not an EBS volume type`);
  }

  let encryption: ResolvedBake['encryption'];
  if (options.encryption !== undefined && options.encryption !== null) {
    encryption = {
      kmsKeyId: optionalString('encryption.kmsKeyId', options.encryption.kmsKeyId),
      regionKmsKeyIds: stringMap('encryption.regionKmsKeyIds', options.encryption.regionKmsKeyIds),
    };
    for (const r of copyRegions) {
      if (encryption.kmsKeyId !== undefined && encryption.regionKmsKeyIds?.[r] === undefined) {
        throw new BakeInputError(`encryption.regionKmsKeyIds.${r}`, 'required: a KMS key of each copy region when kmsKeyId is set (KMS keys are regional)');
      }
    }
  }

  // Build metadata first, so a user tag of the same key cannot fake it.
  const buildUrl = optionalString('build.url', options.build?.url);
  const gitCommit = optionalString('build.gitCommit', options.build?.gitCommit);
  const allTags: Record<string, string> = { ...stringMap('tags', options.tags) };
  const meta: Record<string, string | undefined> = {
    [TAG.app]: app,
    [TAG.version]: version,
    [TAG.amiName]: amiName,
    [TAG.artifactUrl]: artifactUrl === undefined ? undefined : redactUrl(artifactUrl),
    [TAG.buildUrl]: buildUrl === undefined ? undefined : redactUrl(buildUrl),
    [TAG.gitCommit]: gitCommit,
  };
  if (sandbox) {
    meta[TAG.sandboxVersion] = version;
    meta[TAG.sandboxHealth] = optionalString('sandboxHealth', options.sandboxHealth) ?? 'healthy';
  }
  for (const [k, v] of Object.entries(meta)) if (v !== undefined) allTags[k] = v;
  if (allTags['Name'] === undefined) allTags['Name'] = amiName;

  const tags: Record<string, string> = {};
  const literalTags: Record<string, string> = {};
  for (const [k, v] of Object.entries(allTags)) {
    checkTag(`tags.${k}`, k, v);
    if (k.includes('{{') || v.includes('{{')) literalTags[k] = v;
    else tags[k] = v;
  }
  // Temporary resources: found and cleaned by build URL; a `{{` there would break Packer.
  const runTags: Record<string, string> = { [TAG.app]: app, [TAG.version]: version, Name: `packer ${amiName}` };
  if (buildUrl !== undefined && !buildUrl.includes('{{')) runTags[TAG.buildUrl] = redactUrl(buildUrl);
  for (const [k, v] of Object.entries(runTags)) if (v.includes('{{')) delete runTags[k];

  const steps = (options.steps ?? []).map((s, i) => {
    const inline = stringList(`steps.${i}.inline`, s.inline);
    const scripts = stringList(`steps.${i}.scripts`, s.scripts).map((p) => path.resolve(repoDir, p));
    if (inline.length === 0 && scripts.length === 0) throw new BakeInputError(`steps.${i}`, 'needs inline commands or scripts');
    const stepEnv = stringMap(`steps.${i}.env`, s.env);
    for (const [k, v] of Object.entries(stepEnv)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new BakeInputError(`steps.${i}.env.${k}`, 'is not an environment variable name');
      if (v.includes('{{')) throw new BakeInputError(`steps.${i}.env.${k}`, NO_GO_TEMPLATE);
    }
    return { inline, scripts, env: stepEnv, elevated: s.elevated ?? true };
  });

  let chef: ResolvedBake['chef'];
  if (options.chef !== undefined && options.chef !== null) {
    if (windows) throw new BakeInputError('chef', 'is supported by the linux template only');
    const c = options.chef;
    const client = c.client ?? 'cinc';
    if (client !== 'cinc' && client !== 'chef') throw new BakeInputError('chef.client', 'must be "cinc" or "chef"');
    const cookbooksPath = optionalString('chef.cookbooksPath', c.cookbooksPath);
    const policyArchive = optionalString('chef.policyArchive', c.policyArchive);
    const runList = stringList('chef.runList', c.runList);
    if ((cookbooksPath === undefined) === (policyArchive === undefined)) {
      throw new BakeInputError('chef', 'give either cookbooksPath (with runList) or policyArchive');
    }
    if (cookbooksPath !== undefined && runList.length === 0) throw new BakeInputError('chef.runList', 'required with cookbooksPath');
    runList.forEach((r, i) => {
      if (!/^(recipe|role)\[[^\]\s]+\]$/.test(r)) throw new BakeInputError(`chef.runList.${i}`, `"${r}" is not recipe[…] or role[…]`);
    });
    chef = {
      client,
      version: optionalString('chef.version', c.version),
      cookbooksPath: cookbooksPath === undefined ? undefined : path.resolve(repoDir, cookbooksPath),
      policyArchive: policyArchive === undefined ? undefined : path.resolve(repoDir, policyArchive),
      runList,
      attributes: c.attributes ?? {},
    };
  }

  let iis: ResolvedBake['iis'];
  if (windows && options.iis !== false && (options.iis !== undefined || artifactUrl !== undefined)) {
    const o = options.iis ?? {};
    const port = o.port ?? 80;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new BakeInputError('iis.port', 'must be a TCP port');
    iis = { siteName: o.siteName ?? app, port, managedRuntimeVersion: o.managedRuntimeVersion ?? 'v4.0' };
    if (artifactUrl === undefined) throw new BakeInputError('artifactUrl', 'required by the IIS example (it installs the web application from the artifact)');
  }

  return {
    template,
    templatePath,
    app,
    version,
    region: buildRegion,
    amiName,
    amiDescription: `${app} ${version}`.replace(/\{\{/g, '{ {'),
    instanceType: optionalString('instanceType', options.instanceType) ?? (windows ? 't3.large' : 't3.small'),
    sourceAmi,
    artifactUrl,
    subnetId: optionalString('subnetId', options.subnetId),
    vpcId: optionalString('vpcId', options.vpcId),
    iamInstanceProfile: optionalString('iamInstanceProfile', options.iamInstanceProfile),
    volume,
    encryption,
    copyRegions,
    tags,
    literalTags,
    runTags,
    allowedCidrs,
    sshUsername: optionalString('sshUsername', options.sshUsername) ?? 'ec2-user',
    winrmUsername: optionalString('winrmUsername', options.winrmUsername) ?? 'Administrator',
    steps,
    chef,
    iis,
    sandbox,
    endpoint,
    repoDir,
  };
}
