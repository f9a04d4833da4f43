import { CreateTagsCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';

/**
 * Tags Packer cannot carry: Packer renders tag values as Go templates again
 * and again until they stop changing (`interpolate.Render`), so no value
 * holding `{{` survives it. These are set after the build through the EC2
 * API, on each AMI and its snapshots, exactly as given.
 *
 * @param clientFor EC2 client of a region (default: SDK client, endpoint
 *   from `endpoint`, credentials from the environment).
 */
export function ec2LiteralTagger(
  options: { endpoint?: string; clientFor?: (region: string) => EC2Client } = {},
): (amis: Record<string, string>, tags: Record<string, string>) => Promise<void> {
  const clientFor =
    options.clientFor ??
    ((region: string) =>
      new EC2Client({ region, ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}) }));
  return async (amis, tags) => {
    const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    for (const [region, amiId] of Object.entries(amis)) {
      const ec2 = clientFor(region);
      try {
        const images = await ec2.send(new DescribeImagesCommand({ ImageIds: [amiId] }));
        const snapshots = (images.Images?.[0]?.BlockDeviceMappings ?? [])
          .map((m) => m.Ebs?.SnapshotId)
          .filter((s): s is string => s !== undefined);
        await ec2.send(new CreateTagsCommand({ Resources: [amiId, ...snapshots], Tags }));
      } finally {
        if (options.clientFor === undefined) ec2.destroy();
      }
    }
  };
}
