import type { AwsClients } from '../aws/clients';
import { InputError, describeError } from '../core/errors';
import type { Logger } from '../core/log';
import { ledgerAws, listRecords } from '../ledger/ledger';
import { rollbackDeploy, type RollbackOutput } from '../rollback/rollback';
import type { RollbackRequest } from '../rollback/request';

/** How far back the ledger is read for a rollout's records, per region. */
const RECORDS_READ = 200;

/** One region of a rollback by rollout id. */
export interface RegionRollback {
  region: string;
  /** `nothing-to-do`: the rollout did not change this region (its deploy failed, or never ran). */
  status: 'rolled-back' | 'nothing-to-do' | 'failed';
  rollback?: RollbackOutput;
  error?: string;
}

/** The rollback stage's output for a rollout id. */
export interface RolloutRollbackOutput {
  cluster: string;
  rolloutId: string;
  regions: RegionRollback[];
}

/**
 * Puts every region of a rollout back on the group it served before that
 * rollout: per region, the rollout's succeeded deploy in the ledger names the
 * group it replaced, and the rollback goes there (re-enabled, or redeployed
 * when gone), one region at a time (they share the cluster lock).
 */
export async function rollbackRollout(
  clientsFor: (region: string) => AwsClients,
  request: RollbackRequest,
  rolloutId: string,
  regions: readonly string[],
  log: Logger,
): Promise<RolloutRollbackOutput> {
  const results: RegionRollback[] = [];
  for (const region of regions) {
    const aws = clientsFor(region);
    const regionLog = log.child(region);
    const records = await listRecords(ledgerAws(request.ledger, aws), request.ledger, request.cluster.name, {
      limit: RECORDS_READ,
    });
    const deployed = records.find(
      (r) => r.rolloutId === rolloutId && r.region === region && r.kind === 'deploy' && r.result === 'succeeded',
    );
    if (!deployed?.previousServerGroup) {
      regionLog.info(`rollout ${rolloutId} left nothing to put back here`);
      results.push({ region, status: 'nothing-to-do' });
      continue;
    }
    try {
      const rollback = await rollbackDeploy(
        aws,
        { ...request, region, to: { kind: 'serverGroup', name: deployed.previousServerGroup }, rolloutId },
        regionLog,
      );
      results.push({ region, status: 'rolled-back', rollback });
    } catch (error) {
      regionLog.error(`could not be put back on ${deployed.previousServerGroup}: ${describeError(error)}`);
      results.push({ region, status: 'failed', error: describeError(error) });
    }
  }
  return { cluster: request.cluster.name, rolloutId, regions: results };
}

/** The rollout id of a rollback by rollout: `to` must be one (a deployment id). */
export function rolloutIdOf(request: RollbackRequest): string {
  if (request.to.kind !== 'deploymentId')
    throw new InputError('to', 'must be a rollout id (the rolloutId output of a deploy) when regions is given');
  return request.to.id;
}
