import { InputError } from '../core/errors';

/**
 * Object keys from a template such as `{app}/{version}/{buildNumber}/{fileName}`.
 * Every placeholder must be known and its value given; values are single path
 * segments (no `/`), so a version can never reach into another app's prefix.
 */

/** Placeholders a key template may use, and the input field each one comes from. */
export const KEY_TEMPLATE_PLACEHOLDERS = ['app', 'version', 'buildNumber', 'fileName', 'gitCommit'] as const;

export type KeyTemplatePlaceholder = (typeof KEY_TEMPLATE_PLACEHOLDERS)[number];

export type KeyTemplateValues = Partial<Record<KeyTemplatePlaceholder, string>>;

const PLACEHOLDER_PATTERN = /\{([^{}]*)\}/g;

/**
 * Renders `template` with `values`. Throws {@link InputError} on `keyTemplate`
 * for an unknown placeholder or a stray brace, and on the placeholder's own
 * field (e.g. `version`) when its value is missing or is not one path segment.
 */
export function renderKeyTemplate(template: string, values: KeyTemplateValues): string {
  if (/[{}]/.test(template.replace(PLACEHOLDER_PATTERN, ''))) {
    throw new InputError('keyTemplate', `has an unmatched "{" or "}" (got ${JSON.stringify(template)})`);
  }
  return template.replace(PLACEHOLDER_PATTERN, (_match, name: string) => {
    if (!(KEY_TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new InputError(
        'keyTemplate',
        `unknown placeholder {${name}} (known: ${KEY_TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`,
      );
    }
    const placeholder = name as KeyTemplatePlaceholder;
    const value = values[placeholder];
    if (value === undefined || value === '') {
      throw new InputError(placeholder, `is required by keyTemplate ${JSON.stringify(template)}`);
    }
    if (value.includes('/') || value === '.' || value === '..') {
      throw new InputError(
        placeholder,
        `must be a single path segment to fill {${placeholder}} (got ${JSON.stringify(value)})`,
      );
    }
    return value;
  });
}
