/**
 * The bake engine: renders a Packer HCL2 build from a handlebars template and
 * runs Packer on it. Knows nothing of Jenkins or the CLI. Throws only core
 * errors (`InputError`: nothing was built; `OperationFailedError`: no AMI).
 *
 * ```ts
 * const bake = resolveBakeOptions(options);        // InputError on bad input
 * const dir = await renderBuild(bake);             // the build directory
 * const result = await runPacker(dir, { onLog });  // { amiId, region, amis, amiName, packerRunUuid }
 * ```
 */
export { amiTimestamp, assertAmiName, makeAmiName } from './ami-name';
export { credentialsExpiry, checkCredentialsOutlastBake, type CredentialsExpiry } from './credentials-expiry';
export { escapeGoTemplate, hclString, packerString, packerStringList } from './escape';
export { ec2LiteralTagger } from './literal-tags';
export { ec2AmiSharer } from './share-ami';
export {
  parseAmiArtifactId,
  parseMachineReadableLine,
  summarizeMachineReadable,
  type MachineReadableRecord,
  type MachineReadableSummary,
} from './machine-readable';
export { lastManifestRun, readManifest, type ManifestRun, type PackerManifest } from './manifest';
export {
  defaultPackerPath,
  detectPackerVersion,
  parsePackerVersion,
  usesPluginBlock,
  type PackerVersion,
} from './packer-cli';
export { BakeFailureCode, type PackerFailureReason } from './packer-errors';
export { PACKER_VARIABLES, type PackerVariableName } from './packer-variables';
export { createHandlebars, renderBuild, renderTemplate, type BuildDir, type RenderOptions } from './render';
export { resolveBakeOptions } from './resolve';
export { runPacker, type BakeResult, type RunPackerOptions } from './run';
export type { BakeOptions, ChefOption, IisSiteOption, ResolvedBake, ScriptStep, SourceAmiOption } from './types';
