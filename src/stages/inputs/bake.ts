import { InputError } from '../../core/errors';
import { input, listInput, rawInput } from './declare';
import { REGION_INPUTS } from './shared';

const json = (describe: string) => `${describe} (JSON, or dotted flags)`;

/**
 * The inputs of `bake`: those of `BakeOptions`, checked together by bake's
 * resolver (`resolveBakeOptions`), which names the field at fault.
 */
export const BAKE_INPUTS = {
  ...REGION_INPUTS,
  app: rawInput('string', 'Application name (first part of the AMI name)', { required: true }),
  version: rawInput('string', 'Application version (AMI name, bluegreen:version tag)', { required: true }),
  template: rawInput('string', 'Built-in Packer template', { default: 'linux', choices: ['linux', 'windows'] }),
  templatePath: rawInput('string', 'Your own handlebars Packer template (.hbs), instead of a built-in one'),
  sourceAmi: rawInput(
    'object',
    json(
      'The image to start from: {"id": "ami-…"} or {"filter": {"name": "al2023-ami-2023.*-x86_64", "owners": ["amazon"]}}',
    ),
    {
      required: true,
      lists: ['filter.owners'],
    },
  ),
  artifactUrl: rawInput('string', 'Artifact to install (s3:// or https://), e.g. the artifactUrl output of publish'),
  instanceType: rawInput('string', 'Build instance type', { defaultText: 't3.small; t3.large for windows' }),
  subnetId: rawInput('string', 'Subnet of the build instance'),
  vpcId: rawInput('string', 'VPC of the build instance'),
  iamInstanceProfile: rawInput(
    'string',
    'Instance profile of the build instance (it needs s3:GetObject on the artifact)',
  ),
  volume: rawInput('object', json('Root volume {"sizeGb", "type", "deviceName"}')),
  encryption: rawInput('object', json('Encrypt the snapshots: {"kmsKeyId", "regionKmsKeyIds": {region: key}}')),
  copyRegions: listInput('Regions to copy the AMI to'),
  amiUsers: listInput(
    'AWS account ids (12 digits) allowed to launch the AMI and create volumes from its snapshots, in every region it is copied to',
  ),
  tags: rawInput('object', json('Extra AMI and snapshot tags {key: value}')),
  build: rawInput('object', json('Build metadata for tags {"url", "gitCommit"}'), {
    stepDefault: '[url: env.BUILD_URL, gitCommit: env.GIT_COMMIT]',
  }),
  amiName: rawInput('string', 'AMI name', { defaultText: '<app>-<version>-<timestamp>' }),
  allowedCidrs: listInput('CIDRs allowed into the temporary security group (where the agent connects from)', {
    required: 'outside the sandbox',
  }),
  sshUsername: rawInput('string', 'Linux: SSH user of the source AMI', { defaultText: 'ec2-user' }),
  winrmUsername: rawInput('string', 'Windows: WinRM user', { defaultText: 'Administrator' }),
  steps: rawInput(
    'object',
    'Provisioning steps [{"inline": [...], "scripts": [...], "env": {...}, "elevated": true}] (JSON)',
    { docType: 'List of Maps' },
  ),
  chef: rawInput('object', json('Linux: Chef/Cinc local mode {"cookbooksPath", "runList"} or {"policyArchive"}'), {
    lists: ['runList'],
    commaInItems: true,
  }),
  iis: rawInput('object', 'Windows IIS example: {"siteName", "port", "managedRuntimeVersion"}, or false (JSON)', {
    docType: 'Map or false',
    defaultText: 'on when artifactUrl is set',
  }),
  endpoint: rawInput('string', 'Sandbox: AWS endpoint; bakes with communicator "none"', {
    defaultText: 'AWS_ENDPOINT_URL',
  }),
  sandboxHealth: rawInput('string', 'Sandbox: the app behaviour recorded in the sandbox:health tag', {
    defaultText: 'healthy',
  }),
  repoDir: rawInput('string', 'Base of relative script and cookbook paths', { defaultText: 'the working directory' }),
  timeoutMinutes: input({
    kind: 'number',
    describe: 'Stop packer after this many minutes',
    default: 120,
    parse: (value, field) => {
      const minutes = Number(value);
      if (!Number.isFinite(minutes) || minutes <= 0) throw new InputError(field, 'must be a positive number');
      return minutes;
    },
  }),
};
