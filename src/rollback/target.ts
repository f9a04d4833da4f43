import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';
import { hasErrorCode } from '../aws/errors';
import { Tag } from '../aws/tags';
import { ConflictError, InputError } from '../core/errors';
import { loadCluster, type ServerGroup } from '../cluster/server-groups';
import { newestEnabled } from '../deploy/plan';
import { findDeployment, ledgerAws, scanRecords, type LedgerRecord } from '../ledger';
import { describeTarget, type RollbackRequest } from './request';

/**
 * Where a rollback goes, computed from live AWS state and the ledger before
 * any change (and again under the lock): the group serving now, and either a
 * live server group to re-enable or an AMI to redeploy.
 */
export interface RollbackPlan {
  cluster: string;
  /** `reenable`: the target group still exists; `redeploy`: a red/black deploy of its AMI. */
  mode: 'reenable' | 'redeploy';
  /** The server group serving now (rolled back from). */
  current: ServerGroup;
  /** The live group to re-enable (mode `reenable`). */
  target: ServerGroup | undefined;
  amiId: string;
  version: string | undefined;
  /** The ledger record the target was found by, when there is one (its launch settings, artifact, commit). */
  record: LedgerRecord | undefined;
  /** Why this target, for the log. */
  chosenBecause: string;
}

/** What the operator's `to` resolved to before choosing between re-enable and redeploy. */
interface Wanted {
  amiId: string | undefined;
  serverGroup: string | undefined;
  record: LedgerRecord | undefined;
  because: string;
}

/** Succeeded deploy and rollback records scanned for a target (bounded, like `findDeployment`). */
const MAX_SCAN_KEYS = 2000;

function label(group: ServerGroup): string {
  const version = group.tags[Tag.version];
  return `${group.name} (${[group.amiId ?? 'AMI unknown', version ? `version ${version}` : undefined].filter(Boolean).join(', ')})`;
}

/**
 * The release deployed before the current one: in the ledger, the newest
 * successful deploy of the current AMI, then the next older successful deploy
 * of another AMI. Rollbacks are not releases, so rolling back twice keeps
 * going back (v3 → v2 → v1), never flip-flops. Without ledger history: the
 * current group's `previous-server-group` tag, then the newest older group.
 */
async function previousRelease(
  aws: AwsClients,
  request: RollbackRequest,
  current: ServerGroup,
  groups: readonly ServerGroup[],
): Promise<Wanted> {
  let foundCurrent = false;
  let sawCurrentInLedger = false;
  for await (const record of scanRecords(ledgerAws(request.ledger, aws), request.ledger, request.cluster.name, {
    maxKeys: MAX_SCAN_KEYS,
  })) {
    if (record.kind !== 'deploy' || record.result !== 'succeeded' || !record.amiId) continue;
    const isCurrent = current.amiId ? record.amiId === current.amiId : record.serverGroup === current.name;
    if (isCurrent) {
      foundCurrent = true;
      sawCurrentInLedger = true;
      continue;
    }
    if (foundCurrent) {
      return {
        amiId: record.amiId,
        serverGroup: record.serverGroup,
        record,
        because: `deployed before ${current.name}'s release (ledger: ${record.deploymentId}${record.version ? `, version ${record.version}` : ''})`,
      };
    }
  }
  if (sawCurrentInLedger) throw nothingBefore(request, current);
  const tagged = current.tags[Tag.previousServerGroup];
  const taggedGroup = tagged ? groups.find((g) => g.name === tagged) : undefined;
  if (taggedGroup)
    return {
      amiId: taggedGroup.amiId,
      serverGroup: taggedGroup.name,
      record: undefined,
      because: `${current.name} replaced it (tag ${Tag.previousServerGroup})`,
    };
  const index = groups.indexOf(current);
  const older = groups
    .slice(0, Math.max(0, index))
    .reverse()
    .find((g) => g.amiId !== current.amiId);
  if (older)
    return {
      amiId: older.amiId,
      serverGroup: older.name,
      record: undefined,
      because: `newest server group older than ${current.name}`,
    };
  throw nothingBefore(request, current);
}

function nothingBefore(request: RollbackRequest, current: ServerGroup): ConflictError {
  return new ConflictError(
    'NothingToRollBack',
    `${label(current)} is the first release of ${request.cluster.name} that the ledger and AWS know of: there is nothing before it to roll back to`,
    {
      cluster: request.cluster.name,
      current: current.name,
      recovery:
        'deploy the AMI you want (blueGreenDeploy amiId: …), or name an older release with to= (deploymentHistory lists them)',
    },
  );
}

async function fromLedger(
  aws: AwsClients,
  request: RollbackRequest,
  query: Parameters<typeof findDeployment>[3],
  what: string,
): Promise<LedgerRecord> {
  const record = await findDeployment(ledgerAws(request.ledger, aws), request.ledger, request.cluster.name, query, {
    maxKeys: MAX_SCAN_KEYS,
  });
  if (!record?.amiId) {
    throw new InputError(
      'to',
      `the ledger s3://${request.ledger.bucket}/${request.ledger.prefix} has no successful deployment of ${what} in ${request.cluster.name}; deploymentHistory lists the ones it has`,
    );
  }
  return record;
}

async function wantedTarget(
  aws: AwsClients,
  request: RollbackRequest,
  current: ServerGroup,
  groups: readonly ServerGroup[],
): Promise<Wanted> {
  const to = request.to;
  switch (to.kind) {
    case 'previous':
      return previousRelease(aws, request, current, groups);
    case 'serverGroup': {
      const live = groups.find((g) => g.name === to.name);
      if (live) return { amiId: live.amiId, serverGroup: live.name, record: undefined, because: 'named' };
      const record = await fromLedger(aws, request, { serverGroup: to.name }, to.name);
      return {
        amiId: record.amiId,
        serverGroup: undefined,
        record,
        because: `named; ${to.name} is gone, its AMI is in the ledger (${record.deploymentId})`,
      };
    }
    case 'deploymentId': {
      const record = await fromLedger(aws, request, { deploymentId: to.id }, `deployment ${to.id}`);
      return {
        amiId: record.amiId,
        serverGroup: record.serverGroup,
        record,
        because: `deployment ${to.id} in the ledger`,
      };
    }
    case 'version': {
      const record = await fromLedger(aws, request, { version: to.version }, `version ${to.version}`);
      return {
        amiId: record.amiId,
        serverGroup: record.serverGroup,
        record,
        because: `newest deployment of version ${to.version} in the ledger (${record.deploymentId})`,
      };
    }
    case 'amiId': {
      const record =
        (await findDeployment(
          ledgerAws(request.ledger, aws),
          request.ledger,
          request.cluster.name,
          { amiId: to.amiId },
          { maxKeys: MAX_SCAN_KEYS },
        )) ?? undefined;
      return { amiId: to.amiId, serverGroup: record?.serverGroup, record, because: 'named' };
    }
  }
}

/** Whether the AMI exists and is available in the region. */
export async function amiAvailable(aws: AwsClients, amiId: string): Promise<boolean> {
  try {
    const images = await aws.ec2.send(new DescribeImagesCommand({ ImageIds: [amiId] }));
    const image = images.Images?.[0];
    return Boolean(image) && (image?.State === undefined || image.State === 'available');
  } catch (error) {
    if (hasErrorCode(error, /^InvalidAMIID/)) return false;
    throw error;
  }
}

function amiGone(request: RollbackRequest, amiId: string, why: string): ConflictError {
  return new ConflictError(
    'AmiGone',
    `${describeTarget(request.to)} needs ${amiId}, which no longer exists in ${request.region} (${why})`,
    {
      cluster: request.cluster.name,
      amiId,
      recovery:
        'bake that version again (bakeAmi) and deploy it with blueGreenDeploy, or roll back to another release whose AMI still exists (deploymentHistory)',
    },
  );
}

/**
 * Resolves `request.to` against live AWS state and the ledger. Read-only.
 * Throws ConflictError (exit 3) when there is nothing to do and says what to
 * do instead; InputError (exit 2) when `to` names nothing.
 */
export async function planRollback(aws: AwsClients, request: RollbackRequest): Promise<RollbackPlan> {
  const cluster = request.cluster.name;
  const { groups } = await loadCluster(aws, cluster);
  if (groups.length === 0) {
    throw new ConflictError(
      'NothingToRollBack',
      `cluster ${cluster} has no server groups in ${request.region}: nothing to roll back`,
      {
        cluster,
        recovery: 'deploy it first (blueGreenDeploy); check cluster and region',
      },
    );
  }
  const current = newestEnabled(groups);
  if (!current) {
    throw new ConflictError(
      'NothingServing',
      `no server group of ${cluster} is enabled, so there is nothing to roll back from`,
      {
        cluster,
        recovery:
          'deploy the AMI you want to serve (blueGreenDeploy amiId: …); deploymentStatus shows the groups and their AMIs',
      },
    );
  }
  const wanted = await wantedTarget(aws, request, current, groups);
  const amiId = wanted.amiId;
  const sameAsCurrent =
    (wanted.serverGroup === current.name && (!amiId || amiId === current.amiId)) ||
    (amiId !== undefined && amiId === current.amiId);
  if (sameAsCurrent) {
    throw new ConflictError(
      'AlreadyServing',
      `${label(current)} already serves ${cluster}: ${describeTarget(request.to)} is what runs now, nothing to roll back`,
      {
        cluster,
        current: current.name,
        recovery:
          'to go further back, name an older release with to= (a version, deployment id or server group from deploymentHistory)',
      },
    );
  }
  const others = groups.filter((g) => g.name !== current.name);
  const byName = wanted.serverGroup
    ? others.find((g) => g.name === wanted.serverGroup && (!amiId || g.amiId === amiId))
    : undefined;
  const target = byName ?? (amiId ? [...others].reverse().find((g) => g.amiId === amiId) : undefined);
  const version = target?.tags[Tag.version] ?? wanted.record?.version;
  if (target) {
    const targetAmi = target.amiId ?? amiId;
    const running = target.instances.filter((i) => i.lifecycleState === 'InService').length;
    if (running < current.capacity.desired && targetAmi && !(await amiAvailable(aws, targetAmi))) {
      throw amiGone(
        request,
        targetAmi,
        `${target.name} has ${running} running instance(s) and would launch more from it`,
      );
    }
    if (!targetAmi)
      throw new ConflictError(
        'AmiUnknown',
        `the AMI of ${target.name} cannot be read from its tags or launch template`,
        { cluster, recovery: 'roll back with to=<ami-…> naming the AMI' },
      );
    return {
      cluster,
      mode: 'reenable',
      current,
      target,
      amiId: targetAmi,
      version,
      record: wanted.record,
      chosenBecause: wanted.because,
    };
  }
  if (!amiId) {
    throw new ConflictError(
      'AmiUnknown',
      `${describeTarget(request.to)} resolved to ${wanted.serverGroup ?? 'a release'} whose AMI is not known`,
      {
        cluster,
        recovery: 'roll back with to=<ami-…> naming the AMI, or to a version recorded in the ledger',
      },
    );
  }
  if (!(await amiAvailable(aws, amiId)))
    throw amiGone(request, amiId, 'its server group is gone too, so it would have to be launched again');
  return {
    cluster,
    mode: 'redeploy',
    current,
    target: undefined,
    amiId,
    version,
    record: wanted.record,
    chosenBecause: wanted.because,
  };
}

/** The plan as lines for the log (`plan: true`). */
export function describeRollbackPlan(plan: RollbackPlan, request: RollbackRequest): string {
  const what = `${plan.amiId}${plan.version ? ` (version ${plan.version})` : ''}`;
  const lines = [
    `rollback plan for cluster ${plan.cluster}: from ${label(plan.current)} to ${describeTarget(request.to)} — ${plan.chosenBecause}`,
    plan.mode === 'reenable'
      ? `  re-enable ${plan.target?.name} running ${what}: resume it, scale it to ${plan.current.capacity.desired} (now ${plan.target?.capacity.desired}), wait until healthy in every target group`
      : `  redeploy ${what} as a new server group (red/black; its server group is gone)`,
    `  then disable ${plan.current.name}${request.scaleDownDelaySeconds > 0 ? ` and keep it warm for ${request.scaleDownDelaySeconds}s` : ' and scale it to 0'}`,
  ];
  return lines.join('\n');
}
