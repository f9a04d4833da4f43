import type { Options } from 'yargs';
import { ec2LiteralTagger, renderBuild, resolveBakeOptions, runPacker, type BakeResult, type ResolvedBake } from '../bake';
import type { StageDefinition } from './framework';

/** Output of `bake` (docs/architecture.md, "Stages"), plus `failure` when Packer failed after making the AMI. */
export type BakeOutput = BakeResult;

const object = (describe: string): Options => ({ describe: `${describe} (JSON, in the input file)` });

/** Input keys: those of {@link BakeOptions}; objects come from the `--input` file. */
const BAKE_OPTIONS: Record<string, Options> = {
  app: { type: 'string', describe: 'Application name (first part of the AMI name)' },
  version: { type: 'string', describe: 'Application version (AMI name, bluegreen:version tag)' },
  template: { type: 'string', choices: ['linux', 'windows'], describe: 'Built-in Packer template (default linux)' },
  templatePath: { type: 'string', describe: 'Your own handlebars Packer template (.hbs)' },
  sourceAmi: object('{ "id": "ami-…" } or { "filter": { "name", "owners": [...] } }'),
  artifactUrl: { type: 'string', describe: 'Artifact to install (s3:// or https://), e.g. the publish output' },
  instanceType: { type: 'string', describe: 'Build instance type' },
  subnetId: { type: 'string', describe: 'Subnet of the build instance' },
  vpcId: { type: 'string', describe: 'VPC of the build instance' },
  iamInstanceProfile: { type: 'string', describe: 'Instance profile of the build instance' },
  volume: object('{ "sizeGb", "type", "deviceName" }'),
  encryption: object('{ "kmsKeyId", "regionKmsKeyIds": { region: key } }'),
  copyRegions: { type: 'array', string: true, describe: 'Regions to copy the AMI to' },
  tags: object('Extra AMI and snapshot tags'),
  build: object('{ "url", "gitCommit" }: build metadata for tags'),
  amiName: { type: 'string', describe: 'AMI name (default <app>-<version>-<timestamp>)' },
  allowedCidrs: { type: 'array', string: true, describe: 'CIDRs allowed into the temporary security group' },
  sshUsername: { type: 'string', describe: 'Linux: SSH user of the source AMI' },
  winrmUsername: { type: 'string', describe: 'Windows: WinRM user' },
  steps: object('[{ "inline": [...], "scripts": [...], "env": {...} }]'),
  chef: object('{ "cookbooksPath", "runList" } or { "policyArchive" }'),
  iis: object('Windows IIS example: { "siteName", "port", "managedRuntimeVersion" } or false'),
  endpoint: { type: 'string', describe: 'Sandbox AWS endpoint (default AWS_ENDPOINT_URL)' },
  sandboxHealth: { type: 'string', describe: 'Sandbox: the sandbox:health tag of the AMI' },
  repoDir: { type: 'string', describe: 'Base of relative script/cookbook paths (default cwd)' },
  timeoutMinutes: { type: 'number', describe: 'Stop packer after this many minutes (default 120)' },
};

/** `bake`: render a Packer build and run it; outputs the AMI(s). */
export const bakeStage: StageDefinition<ResolvedBake, BakeOutput> = {
  name: 'bake',
  describe: 'Bake an AMI with Packer (built-in linux/windows templates or your own), copy it, tag it',
  options: BAKE_OPTIONS,
  // Every check, the credentials' lifetime included, before anything runs.
  validate: (raw, region) => resolveBakeOptions({ ...raw, region }),
  async run(bake, { aws, log }) {
    const build = await renderBuild(bake);
    log.info(`rendered ${build.bake.template} template for Packer ${build.packerVersion.text} in ${build.dir}; AMI ${build.bake.amiName}`);
    const packerLog = log.child('packer');
    const result = await runPacker(build, {
      onLog: (line) => packerLog.info(line),
      timeoutMs: bake.timeoutMinutes * 60_000,
      applyLiteralTags: ec2LiteralTagger({ clientFor: (region) => aws().forRegion(region).ec2 }),
    });
    const copies = Object.entries(result.amis).filter(([r]) => r !== result.region);
    log.info(`AMI ${result.amiId} (${result.amiName}) in ${result.region}${copies.length > 0 ? `; copies: ${copies.map(([r, a]) => `${r} ${a}`).join(', ')}` : ''}`);
    if (result.failure !== undefined) log.error(result.failure.message);
    return result;
  },
  exitCodeFor: (output) => (output.failure === undefined ? 0 : 1),
};
