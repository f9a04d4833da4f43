import {
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DeleteWarmPoolCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients';
import { chunk } from '../aws/paginate';
import { sourceTraffic } from '../traffic/sources';
import type { Traffic } from '../traffic/traffic';
import { describeAsgsByName } from './server-groups';

/** Min, max and desired of a server group. */
export interface GroupCapacity {
  min: number;
  max: number;
  desired: number;
}

/**
 * The narrow cluster interface: the Auto Scaling calls that change or poll a
 * known server group, written once over the SDK ({@link asgServerGroupApi}).
 * Creating and deleting a group (launch templates, copied settings, alarms)
 * stay with their operations in `deploy/`.
 */
export interface ServerGroupApi {
  /** The named groups as they are now (absent ones left out). */
  describe(names: readonly string[]): Promise<AutoScalingGroup[]>;
  setCapacity(name: string, capacity: Partial<GroupCapacity>): Promise<void>;
  /** Sets tags on several groups in as few calls as possible. */
  setTags(groups: ReadonlyArray<{ name: string; tags: Record<string, string> }>): Promise<void>;
  removeTags(name: string, keys: readonly string[]): Promise<void>;
  suspend(name: string, processes: readonly string[]): Promise<void>;
  resume(name: string, processes: readonly string[]): Promise<void>;
  /** Deletes the group's warm pool with its prepared instances (a group going to 0 keeps none ready). */
  deleteWarmPool(name: string): Promise<void>;
}

/** The two narrow interfaces an operation on server groups and their traffic takes (an in-memory fake in tests). */
export interface ClusterApis {
  groups: ServerGroupApi;
  traffic: Traffic;
}

/**
 * Most tags one CreateOrUpdateTags carries here. The API takes tags of
 * several groups in one call; its own limit is not documented as a number, so
 * the batch stays small.
 */
const TAGS_PER_CALL = 50;

/** {@link ServerGroupApi} over Auto Scaling. */
export function asgServerGroupApi(aws: AwsClients): ServerGroupApi {
  return {
    describe: (names) => describeAsgsByName(aws, names),
    async setCapacity(name, capacity) {
      await aws.autoScaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: name,
          ...(capacity.min !== undefined ? { MinSize: capacity.min } : {}),
          ...(capacity.max !== undefined ? { MaxSize: capacity.max } : {}),
          ...(capacity.desired !== undefined ? { DesiredCapacity: capacity.desired } : {}),
        }),
      );
    },
    async setTags(groups) {
      const tags = groups.flatMap((group) =>
        Object.entries(group.tags).map(([Key, Value]) => ({
          Key,
          Value,
          PropagateAtLaunch: false,
          ResourceId: group.name,
          ResourceType: 'auto-scaling-group',
        })),
      );
      for (const batch of chunk(tags, TAGS_PER_CALL))
        await aws.autoScaling.send(new CreateOrUpdateTagsCommand({ Tags: batch }));
    },
    async removeTags(name, keys) {
      if (keys.length === 0) return;
      await aws.autoScaling.send(
        new DeleteTagsCommand({
          Tags: keys.map((Key) => ({ Key, ResourceId: name, ResourceType: 'auto-scaling-group' })),
        }),
      );
    },
    async suspend(name, processes) {
      await aws.autoScaling.send(
        new SuspendProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: [...processes] }),
      );
    },
    async resume(name, processes) {
      await aws.autoScaling.send(
        new ResumeProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: [...processes] }),
      );
    },
    async deleteWarmPool(name) {
      await aws.autoScaling.send(new DeleteWarmPoolCommand({ AutoScalingGroupName: name, ForceDelete: true }));
    },
  };
}

/** The SDK-backed {@link ClusterApis} of a region's clients. */
export function clusterApisOf(aws: AwsClients): ClusterApis {
  return { groups: asgServerGroupApi(aws), traffic: sourceTraffic(aws) };
}
