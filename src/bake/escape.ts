/**
 * Escaping for the two template languages a value passes through on its way
 * into Packer: HCL2 (`${…}` / `%{…}` templates inside string literals) and
 * then Packer's Go templates (`{{ … }}`), which most plugin fields are
 * rendered with once when the plugin is configured.
 */

/**
 * Escapes `{{` so that one pass of Go's text/template prints the value as is.
 * `{{"{{"}}` is an action that prints the two braces.
 *
 * Not enough for fields Packer renders "until nothing changes" (tags, run
 * tags, snapshot tags, AMI description): no string holding `{{` survives
 * that loop, see {@link hasGoTemplateOpen} and the literal-tag fallback.
 */
export function escapeGoTemplate(value: string): string {
  return value.replaceAll('{{', '{{"{{"}}');
}

/** True when the value holds `{{`, which Packer's tag rendering cannot keep literal. */
export function hasGoTemplateOpen(value: string): boolean {
  return value.includes('{{');
}

/**
 * An HCL2 quoted string literal whose value is exactly `value`: quotes,
 * backslashes and control characters escaped, `${` written `$${` and `%{`
 * written `%%{` so no template interpolation or directive starts.
 */
export function hclString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const next = value[i + 1];
    if ((ch === '$' || ch === '%') && next === '{') {
      out += ch + ch;
      continue;
    }
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case '"':
        out += '\\"';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      default: {
        const code = ch.charCodeAt(0);
        // HCL has no \b or \f: every other control character goes as \uXXXX.
        out += code < 0x20 || code === 0x7f ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
      }
    }
  }
  return out + '"';
}

/** An HCL string literal for a plugin field that Packer renders once as a Go template. */
export function packerString(value: string): string {
  return hclString(escapeGoTemplate(value));
}

/** An HCL list of {@link packerString} literals, on one line. */
export function packerStringList(values: readonly string[]): string {
  return `[${values.map(packerString).join(', ')}]`;
}
