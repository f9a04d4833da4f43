import { Tag } from '../../aws/tags';
import { Phase } from '../../cluster/phases';
import type { DeployStrategy } from './strategy';

/**
 * Red/black: the new group is created at full size and, once healthy, takes
 * all the traffic at the cutover at once. Nothing moves before the cutover;
 * its `cutover` phase goes out with the old groups' scale-down times, in one
 * call, and the cutover acts on the state that proved health.
 */
export const redBlack: DeployStrategy = {
  name: 'red-black',
  initialCapacity: (plan) => plan.capacity,
  handsOffAtHealth: true,
  shiftTraffic: async (_aws, { healthy }) => ({
    steps: [],
    cutover: {
      newGroupTags: { [Tag.phase]: Phase.cutover },
      ...(healthy.clusterState ? { state: healthy.clusterState } : {}),
    },
  }),
};
