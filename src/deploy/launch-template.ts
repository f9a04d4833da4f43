import { DescribeLaunchConfigurationsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeLaunchTemplateVersionsCommand,
  type LaunchTemplateBlockDeviceMappingRequest,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import { createHash } from 'node:crypto';
import type { AwsClients } from '../aws/clients';
import { isNotFound } from '../aws/errors';
import { InputError } from '../core/errors';
import type { ServerGroup } from '../cluster/server-groups';
import type { LaunchSettings as RecordedLaunchSettings } from '../ledger/record';
import type { LaunchSettings } from './request';

/** A launch template bluegreen created for a server group. */
export interface CreatedLaunchTemplate {
  id: string;
  name: string;
  version: string;
}

/**
 * The launch template data of an existing server group: its launch template
 * version, or — for groups made by older tools — its launch configuration.
 */
export async function readLaunchData(aws: AwsClients, group: ServerGroup): Promise<RequestLaunchTemplateData> {
  if (group.launchTemplate) {
    const { id, name, version } = group.launchTemplate;
    const response = await aws.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        ...(id ? { LaunchTemplateId: id } : { LaunchTemplateName: name }),
        Versions: [version],
      }),
    );
    // The response shape is the request shape for every field a template can hold.
    return { ...(response.LaunchTemplateVersions?.[0]?.LaunchTemplateData ?? {}) } as RequestLaunchTemplateData;
  }
  const configName = group.asg.LaunchConfigurationName;
  if (!configName) return {};
  const response = await aws.autoScaling.send(
    new DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: [configName] }),
  );
  const config = response.LaunchConfigurations?.[0];
  if (!config) return {};
  return {
    ImageId: config.ImageId,
    InstanceType: config.InstanceType,
    ...(config.KeyName ? { KeyName: config.KeyName } : {}),
    ...(config.SecurityGroups?.length ? { SecurityGroupIds: config.SecurityGroups } : {}),
    ...(config.UserData ? { UserData: config.UserData } : {}),
    ...(config.IamInstanceProfile
      ? {
          IamInstanceProfile: config.IamInstanceProfile.startsWith('arn:')
            ? { Arn: config.IamInstanceProfile }
            : { Name: config.IamInstanceProfile },
        }
      : {}),
    ...(config.MetadataOptions ? { MetadataOptions: config.MetadataOptions } : {}),
    ...(config.EbsOptimized !== undefined ? { EbsOptimized: config.EbsOptimized } : {}),
  } as RequestLaunchTemplateData;
}

function blockDeviceMappings(settings: LaunchSettings): LaunchTemplateBlockDeviceMappingRequest[] | undefined {
  return settings.blockDevices?.map((device) => ({
    DeviceName: device.deviceName,
    Ebs: {
      ...(device.volumeSize !== undefined ? { VolumeSize: device.volumeSize } : {}),
      ...(device.volumeType ? { VolumeType: device.volumeType as never } : {}),
      ...(device.encrypted !== undefined ? { Encrypted: device.encrypted } : {}),
      ...(device.kmsKeyId ? { KmsKeyId: device.kmsKeyId } : {}),
      ...(device.iops !== undefined ? { Iops: device.iops } : {}),
      ...(device.throughput !== undefined ? { Throughput: device.throughput } : {}),
      DeleteOnTermination: device.deleteOnTermination ?? true,
    },
  }));
}

/**
 * The launch template data of the new server group: the source's data with
 * the new AMI, and what the user passed on top.
 */
export function composeLaunchData(
  base: RequestLaunchTemplateData,
  amiId: string,
  settings: LaunchSettings,
): RequestLaunchTemplateData {
  const data: RequestLaunchTemplateData = { ...base, ImageId: amiId };
  if (settings.instanceType) data.InstanceType = settings.instanceType as never;
  if (settings.keyName) data.KeyName = settings.keyName;
  if (settings.iamInstanceProfile) {
    data.IamInstanceProfile = settings.iamInstanceProfile.startsWith('arn:')
      ? { Arn: settings.iamInstanceProfile }
      : { Name: settings.iamInstanceProfile };
  }
  if (settings.userData !== undefined) data.UserData = Buffer.from(settings.userData, 'utf8').toString('base64');
  if (settings.securityGroups) {
    const interfaces = data.NetworkInterfaces;
    // Security groups live on the network interface when the template defines one.
    if (interfaces && interfaces.length > 0)
      data.NetworkInterfaces = interfaces.map((ni, i) => (i === 0 ? { ...ni, Groups: settings.securityGroups } : ni));
    else data.SecurityGroupIds = settings.securityGroups;
  }
  const devices = blockDeviceMappings(settings);
  if (devices) data.BlockDeviceMappings = devices;
  const requireImdsv2 =
    settings.requireImdsv2 ?? (base.MetadataOptions ? base.MetadataOptions.HttpTokens === 'required' : true);
  data.MetadataOptions = {
    ...(base.MetadataOptions ?? {}),
    HttpTokens: requireImdsv2 ? 'required' : 'optional',
    HttpEndpoint: 'enabled',
  };
  if (!data.InstanceType)
    throw new InputError('instanceType', 'is required on the first deploy of a cluster (e.g. "t3.micro")');
  return data;
}

/** Creates the server group's launch template (named like the group), tagged. */
export async function createLaunchTemplate(
  aws: AwsClients,
  name: string,
  data: RequestLaunchTemplateData,
  tags: Record<string, string>,
): Promise<CreatedLaunchTemplate> {
  const response = await aws.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: name,
      VersionDescription: `bluegreen ${name}`,
      LaunchTemplateData: data,
      TagSpecifications: [
        { ResourceType: 'launch-template', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  const template = response.LaunchTemplate;
  return { id: template?.LaunchTemplateId ?? '', name, version: String(template?.LatestVersionNumber ?? 1) };
}

/** Deletes a launch template; one already gone is fine. */
export async function deleteLaunchTemplate(aws: AwsClients, template: { id?: string; name?: string }): Promise<void> {
  try {
    await aws.ec2.send(
      new DeleteLaunchTemplateCommand(
        template.id ? { LaunchTemplateId: template.id } : { LaunchTemplateName: template.name },
      ),
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * What the ledger keeps of a server group's launch settings, so a rollback can
 * redeploy its AMI the same way once the group and its template are gone.
 * Never the user data itself (it may hold secrets): its SHA-256 and where it was.
 */
export function recordedLaunchSettings(
  data: RequestLaunchTemplateData,
  template: CreatedLaunchTemplate,
  placement: { subnets: string[]; targetGroupArns: string[]; capacity: { min: number; max: number; desired: number } },
  fleet: { mixedInstancesPolicy?: object; warmPool?: object } = {},
): RecordedLaunchSettings {
  const securityGroupIds = data.SecurityGroupIds?.length ? data.SecurityGroupIds : data.NetworkInterfaces?.[0]?.Groups;
  const profile = data.IamInstanceProfile?.Arn ?? data.IamInstanceProfile?.Name;
  return {
    ...(data.InstanceType ? { instanceType: data.InstanceType } : {}),
    ...(placement.subnets.length ? { subnetIds: placement.subnets } : {}),
    ...(securityGroupIds?.length ? { securityGroupIds } : {}),
    ...(data.KeyName ? { keyName: data.KeyName } : {}),
    ...(profile ? { iamInstanceProfile: profile } : {}),
    ...(data.UserData
      ? {
          userDataSha256: createHash('sha256').update(Buffer.from(data.UserData, 'base64')).digest('hex'),
          userDataRef: `${template.id}:${template.version}`,
        }
      : {}),
    launchTemplate: { id: template.id, name: template.name, version: template.version },
    targetGroupArns: placement.targetGroupArns,
    capacity: placement.capacity,
    // Instance types, weights, shares and pool sizes: nothing secret in them.
    ...(fleet.mixedInstancesPolicy
      ? { mixedInstancesPolicy: { ...fleet.mixedInstancesPolicy } as Record<string, unknown> }
      : {}),
    ...(fleet.warmPool ? { warmPool: { ...fleet.warmPool } as Record<string, unknown> } : {}),
  };
}
