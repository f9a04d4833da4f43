/**
 * Drops user info and a signed query (presigned S3 URL) from a URL, so a tag
 * or log never holds a secret. Anything else is returned unchanged, byte for byte.
 * The bake's one use of URL redaction: tags, and whether Packer must mask the value.
 */
export function redactUrl(url: string): string {
  let out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#\s]*@/i, '$1');
  const q = out.indexOf('?');
  if (q >= 0 && /[?&](x-amz-signature|x-amz-credential|x-amz-security-token|signature|sig|token|awsaccesskeyid)=/i.test(out.slice(q))) {
    out = out.slice(0, q);
  }
  return out;
}
