/**
 * The bake engine: renders a Packer HCL2 build from a handlebars template and
 * runs Packer on it. Knows nothing of Jenkins or the CLI.
 *
 * ```ts
 * const dir = await renderBuild(options);          // BakeInputError on bad input
 * const result = await runPacker(dir, { onLog });  // { amiId, region, amis, amiName, packerRunUuid }
 * ```
 */
export { amiTimestamp, assertAmiName, makeAmiName } from './ami-name.js';
export {
  BakeError,
  BakeInputError,
  PackerBuildError,
  PackerCommandError,
  PackerNotFoundError,
  type PackerFailureReason,
} from './errors.js';
export { escapeGoTemplate, hclString, packerString, packerStringList } from './escape.js';
export { ec2LiteralTagger } from './literal-tags.js';
export {
  parseAmiArtifactId,
  parseMachineReadableLine,
  summarizeMachineReadable,
  type MachineReadableRecord,
  type MachineReadableSummary,
} from './machine-readable.js';
export { lastManifestRun, readManifest, type ManifestRun, type PackerManifest } from './manifest.js';
export { TAG, redactUrl, resolveBakeOptions, type BakeOptions, type ResolvedBake } from './options.js';
export { defaultPackerPath, detectPackerVersion, parsePackerVersion, usesPluginBlock, type PackerVersion } from './packer-cli.js';
export { PACKER_VARIABLES, createHandlebars, renderBuild, renderTemplate, type BuildDir, type RenderOptions } from './render.js';
export { runPacker, type BakeResult, type RunPackerOptions } from './run.js';
