/** EBS volume types a block device (deploy) or the bake's root volume may use. */
export const EBS_VOLUME_TYPES = ['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard'] as const;

/** One of {@link EBS_VOLUME_TYPES}. */
export type EbsVolumeType = (typeof EBS_VOLUME_TYPES)[number];
