import type { AssumedRole } from '../aws/assume-role';
import type { ClusterName } from '../core/naming';
import type { DeployRequest } from '../deploy/request';

/** One region of a rollout: its own deploy request (its AMI, its overrides) and the role its calls assume. */
export interface RegionDeploy {
  region: string;
  request: DeployRequest;
  role?: AssumedRole;
}

/** What a region that fails does to the regions already done. */
export type OnFailure = 'rollback' | 'stop';

/** A validated rollout: one release to several regions, wave after wave. */
export interface RolloutRequest {
  cluster: ClusterName;
  /** In the order given. */
  regions: RegionDeploy[];
  /** Regions deployed at the same time, wave after wave; every region in exactly one. */
  waves: string[][];
  onFailure: OnFailure;
  /** Plan every region and change nothing. */
  plan: boolean;
}
