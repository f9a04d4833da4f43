/** `arn:…:targetgroup/web-tg/abc` → `web-tg`. */
export function targetGroupNameFromArn(arn: string): string {
  return /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;
}
