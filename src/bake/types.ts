/**
 * The bake's input ({@link BakeOptions}, as a user or the stage gives it) and
 * the same after validation and defaults ({@link ResolvedBake}, what
 * rendering and templates take).
 */

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
  /** Accounts (12-digit ids) allowed to launch the AMI and create volumes from its snapshots, in every region. */
  amiUsers?: string[];
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
  /** Stop Packer after this many minutes (default 120). */
  timeoutMinutes?: number;
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
  /** Accounts the AMI and its snapshots are shared with (launch permission, createVolumePermission). */
  amiUsers: string[];
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
  /** Where to write the build directory (absolute); a new temp dir when unset. */
  outDir?: string;
  /** Packer is stopped after this many minutes. */
  timeoutMinutes: number;
}
