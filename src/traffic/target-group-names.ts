/** `arn:…:targetgroup/web-tg/abc` → `web-tg`; anything else (a classic load balancer's name) as it is. */
export function targetGroupNameFromArn(arn: string): string {
  return /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;
}
