import { Tag } from '../aws/tags';
import { checkTags } from '../core/validate';
import { optionalNonBlank } from '../core/validate';
import { hasGoTemplateOpen } from './escape';
import { redactUrl } from '../core/redact';
import type { ResolvedBake } from './types';

/** What the tags are made of. */
export interface TagSources {
  app: string;
  version: string;
  amiName: string;
  artifactUrl?: string;
  sandbox: boolean;
  /** Raw inputs: `tags`, `build`, `sandboxHealth`. */
  tags: unknown;
  build: unknown;
  sandboxHealth: unknown;
}

/**
 * The AMI's tags (build metadata over the user's, so a user tag of the same
 * key cannot fake it), split into those Packer can carry and those holding
 * `{{` (set afterwards through the EC2 API), and the temporary resources' tags.
 */
export function resolveTags(s: TagSources): Pick<ResolvedBake, 'tags' | 'literalTags' | 'runTags'> {
  const build = (s.build ?? {}) as Record<string, unknown>;
  const buildUrl = optionalNonBlank('build.url', build['url']);
  const gitCommit = optionalNonBlank('build.gitCommit', build['gitCommit']);
  const allTags: Record<string, string> =
    s.tags === undefined || s.tags === null ? {} : { ...checkTags('tags', s.tags) };
  const meta: Record<string, string | undefined> = {
    [Tag.app]: s.app,
    [Tag.version]: s.version,
    [Tag.amiName]: s.amiName,
    [Tag.artifactUrl]: s.artifactUrl === undefined ? undefined : redactUrl(s.artifactUrl),
    [Tag.buildUrl]: buildUrl === undefined ? undefined : redactUrl(buildUrl),
    [Tag.gitCommit]: gitCommit,
  };
  if (s.sandbox) {
    meta[Tag.sandboxVersion] = s.version;
    meta[Tag.sandboxHealth] = optionalNonBlank('sandboxHealth', s.sandboxHealth) ?? 'healthy';
  }
  for (const [k, v] of Object.entries(meta)) if (v !== undefined) allTags[k] = v;
  if (allTags['Name'] === undefined) allTags['Name'] = s.amiName;

  const tags: Record<string, string> = {};
  const literalTags: Record<string, string> = {};
  for (const [k, v] of Object.entries(checkTags('tags', allTags))) {
    if (hasGoTemplateOpen(k) || hasGoTemplateOpen(v)) literalTags[k] = v;
    else tags[k] = v;
  }
  // Temporary resources: found and cleaned by build URL; a `{{` there would break Packer.
  const runTags: Record<string, string> = { [Tag.app]: s.app, [Tag.version]: s.version, Name: `packer ${s.amiName}` };
  if (buildUrl !== undefined && !hasGoTemplateOpen(buildUrl)) runTags[Tag.buildUrl] = redactUrl(buildUrl);
  for (const [k, v] of Object.entries(runTags)) if (hasGoTemplateOpen(v)) delete runTags[k];
  return { tags, literalTags, runTags };
}
