import {
  DescribeImagesCommand,
  EC2Client,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';

/**
 * Shares a bake's AMIs with other accounts (`amiUsers`), in every region the
 * AMI was copied to, after the build through the EC2 API: the AMI's launch
 * permission and its snapshots' createVolumePermission (an account needs both
 * to launch an encrypted or copied image). Packer 1.6.6's `snapshot_users`
 * leaves the copies' snapshots unshared, so one path does both, everywhere.
 * Idempotent: adding an account that is already there changes nothing.
 *
 * @param clientFor EC2 client of a region (default: SDK client, credentials from the environment).
 */
export function ec2AmiSharer(
  options: { clientFor?: (region: string) => EC2Client } = {},
): (amis: Record<string, string>, accounts: readonly string[]) => Promise<void> {
  const clientFor = options.clientFor ?? ((region: string) => new EC2Client({ region }));
  return async (amis, accounts) => {
    const users = accounts.map((UserId) => ({ UserId }));
    for (const [region, amiId] of Object.entries(amis)) {
      const ec2 = clientFor(region);
      try {
        await ec2.send(new ModifyImageAttributeCommand({ ImageId: amiId, LaunchPermission: { Add: users } }));
        const images = await ec2.send(new DescribeImagesCommand({ ImageIds: [amiId] }));
        const snapshots = (images.Images?.[0]?.BlockDeviceMappings ?? []).flatMap((m) =>
          m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [],
        );
        for (const snapshot of snapshots)
          await ec2.send(
            new ModifySnapshotAttributeCommand({
              SnapshotId: snapshot,
              Attribute: 'createVolumePermission',
              OperationType: 'add',
              UserIds: [...accounts],
            }),
          );
      } finally {
        if (options.clientFor === undefined) ec2.destroy();
      }
    }
  };
}
