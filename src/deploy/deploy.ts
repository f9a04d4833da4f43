import { checkCapacityUnitsReadable } from './capacity-units';
import type { AwsClients } from '../aws/clients';
import { BluegreenError, OperationFailedError, describeError } from '../core/errors';
import type { Logger } from '../core/log';
import { describeAsgsByName, loadCluster } from '../cluster/server-groups';
import { newDeploymentId, type LedgerReport } from '../ledger';
import { refuseWhenHeld, runUntilHeld } from './hold';
import { whoAmI } from './journal';
import { describePlan, planDeploy, type DeployPlan } from './plan';
import { planThenRunLocked } from './recovery';
import { baseRecord, runRedBlack, type RedBlackOptions, type RedBlackResult } from './red-black';
import type { DeployRequest } from './request';
import { strategyFor } from './strategies';
import { checkHealthTimeout } from './timing-limits';
import {
  resolveAmi,
  resolveClassicLoadBalancers,
  resolveSecurityGroups,
  resolveSubnets,
  resolveTargetGroups,
} from './resolve';
import { prepareVerification, wantsVerification, type PreparedVerification } from '../verify/prepare';

/** Names tried when groups only named like the cluster hold the next ones (then creation fails cleanly). */
const MAX_NAME_LOOKUPS = 5;

/** The deploy stage's output (docs/architecture.md, "Stage contract"). */
export interface DeployOutput {
  cluster: string;
  region: string;
  deploymentId: string;
  /** `held`: the new group waits healthy outside production for promote or abort (`hold`). */
  status: 'succeeded' | 'planned' | 'held';
  serverGroup: string;
  previousServerGroup: string | null;
  amiId: string;
  launchTemplate: { id: string; name: string; version: string } | null;
  targetGroups: string[];
  capacity: { min: number; max: number; desired: number };
  durationSeconds: number;
  disabledServerGroups: string[];
  scaledDownServerGroups: string[];
  warmServerGroups: string[];
  destroyedServerGroups: string[];
  recovered: string[];
  timings: RedBlackResult['timings'] | null;
  copied: RedBlackResult['copied'];
  /** What the run did not do as usual, and why (e.g. previous groups kept running). */
  warnings: string[];
  /** The watch after cutover (alarms, gates, verdict), when one was asked for. */
  verification: RedBlackResult['verification'];
  plan?: string;
  /** Whether every ledger record of this run was written (`written: false`: exit 3, see docs/failure-modes.md). */
  ledger?: LedgerReport['ledger'];
  failure?: LedgerReport['failure'];
}

/** Read-only checks and the plan: nothing in AWS changes here. */
export async function prepareDeploy(aws: AwsClients, request: DeployRequest): Promise<DeployPlan> {
  await resolveAmi(aws, request.amiId);
  const targetGroupArns = request.targetGroups ? await resolveTargetGroups(aws, request.targetGroups) : undefined;
  const loadBalancerNames = request.loadBalancerNames
    ? await resolveClassicLoadBalancers(aws, request.loadBalancerNames)
    : undefined;
  const subnets = request.launch.subnets ? await resolveSubnets(aws, request.launch.subnets) : undefined;
  if (request.launch.securityGroups) await resolveSecurityGroups(aws, request.launch.securityGroups);
  const { groups, foreign } = await loadCluster(aws, request.cluster.name);
  refuseWhenHeld(groups, request.cluster.name);
  const taken = foreign.map((g) => g.name);
  // Groups only named like the cluster (e.g. Spinnaker's) are not found by our tag: make sure the next name is free.
  for (let attempt = 0; ; attempt += 1) {
    const plan = planDeploy(groups, request, { targetGroupArns, loadBalancerNames, subnets, foreign: taken });
    if (attempt >= MAX_NAME_LOOKUPS || (await describeAsgsByName(aws, [plan.newServerGroup])).length === 0) {
      // Capacity counted in vCPUs or memory needs the instance types' sizes: readable, or refused before any change.
      if (plan.source) await checkCapacityUnitsReadable(aws, plan.source.asg);
      return plan;
    }
    taken.push(plan.newServerGroup);
  }
}

/**
 * A red/black deploy of `request.amiId` into its cluster (docs/architecture.md, "Red/black deploy"): checks,
 * lock, crash recovery, new server group, wait healthy, cutover, clean-up,
 * ledger. Failure before cutover rolls back automatically (exit 1).
 */
export async function deploy(aws: AwsClients, request: DeployRequest, log: Logger): Promise<DeployOutput> {
  const started = Date.now();
  const deploymentId = newDeploymentId();
  let firstLookChecked = false;
  let verification: PreparedVerification | undefined;
  return planThenRunLocked(aws, {
    lock: { ...request, cluster: request.cluster.name, owner: whoAmI(request.build.buildUrl), deploymentId, log },
    planOnly: request.plan,
    async plan() {
      const plan = await prepareDeploy(aws, request);
      // Read-only, on the first look before the lock: a healthTimeout these target groups cannot meet is bad input
      // (exit 2), an alarm already in ALARM stops the deploy (exit 3), nothing changed either way.
      if (!firstLookChecked) {
        firstLookChecked = true;
        await checkHealthTimeout(aws, request.healthTimeoutSeconds, plan.targetGroupArns);
        if (request.verify && (wantsVerification(request.verify) || request.rolling)) {
          verification = await prepareVerification(
            aws,
            request.verify,
            plan.targetGroupArns,
            Boolean(plan.source),
            log,
          );
        }
        await strategyFor(request, plan, verification).preflight?.(aws, { plan, request });
      }
      return plan;
    },
    async planned(plan) {
      const text = describePlan(plan, request.amiId);
      log.info(text);
      return output(request, deploymentId, plan, null, [], started, 'planned', text);
    },
    async run(plan, session, recovered) {
      log.info(describePlan(plan, request.amiId));
      const options: RedBlackOptions = {
        request,
        plan,
        deploymentId,
        session,
        log,
        kind: 'deploy',
        ...(verification ? { verification } : {}),
      };
      const result = await (request.hold ? runUntilHeld(aws, options) : runRedBlack(aws, options)).catch(
        (error: unknown) => failedAfterCutover(error, options, new Date(started)),
      );
      if (result.held) return output(request, deploymentId, plan, result, recovered, started, 'held');
      log.info(
        `deployed ${request.amiId} as ${result.serverGroup} in ${Math.round((Date.now() - started) / 1000)}s` +
          (result.previousServerGroup ? `; ${result.previousServerGroup} disabled` : ''),
      );
      return output(request, deploymentId, plan, result, recovered, started, 'succeeded');
    },
  });
}

/**
 * A failure that red/black did not roll back happened after cutover: the new
 * group serves. Record it in the ledger and say what state the cluster is in
 * and how to finish (the phase tags let the next run settle it).
 */
export async function failedAfterCutover(error: unknown, options: RedBlackOptions, startedAt: Date): Promise<never> {
  const details = error instanceof BluegreenError ? error.details : {};
  if (details.autoRolledBack === true || (error instanceof BluegreenError && error.code === 'RollbackIncomplete'))
    throw error;
  const { plan, request } = options;
  const why = describeError(error);
  const previous = plan.source?.name;
  const state =
    `${plan.newServerGroup} serves traffic (cut over)` +
    (previous ? `; ${previous} may still be enabled or draining, or not yet scaled down` : '');
  const recovery =
    `run the deploy again (or cleanup): it finds ${plan.newServerGroup} by its bluegreen:phase tag and finishes the cutover first; ` +
    (previous ? `to go back instead: rollback (to: ${previous})` : 'nothing served before it');
  await options.session.record({
    ...baseRecord(options, startedAt),
    result: 'failed',
    finishedAt: new Date().toISOString(),
    message: `after cutover: ${why}`,
  });
  options.log.error(`failed after cutover: ${why}. ${state}`);
  throw new OperationFailedError(
    error instanceof BluegreenError ? error.code : 'FailedAfterCutover',
    `${why}. Failed after cutover: ${state}`,
    {
      ...details,
      serverGroup: plan.newServerGroup,
      previousServerGroup: previous ?? null,
      cutOver: true,
      cluster: request.cluster.name,
      recovery,
    },
  );
}

/** The deploy stage's output of a run (a promote's too: it finishes a held deploy). */
export function output(
  request: DeployRequest,
  deploymentId: string,
  plan: DeployPlan,
  result: RedBlackResult | null,
  recovered: string[],
  started: number,
  status: DeployOutput['status'],
  planText?: string,
): DeployOutput {
  return {
    cluster: request.cluster.name,
    region: request.region,
    deploymentId,
    status,
    serverGroup: plan.newServerGroup,
    previousServerGroup: plan.source?.name ?? null,
    amiId: request.amiId,
    launchTemplate: result?.launchTemplate ?? null,
    targetGroups: plan.targetGroupArns,
    capacity: result?.capacity ?? plan.capacity,
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    disabledServerGroups: result?.disabled ?? [],
    scaledDownServerGroups: result?.scaledDown ?? [],
    warmServerGroups: result?.warm ?? [],
    destroyedServerGroups: result?.destroyed ?? [],
    recovered,
    timings: result?.timings ?? null,
    copied: result?.copied ?? null,
    warnings: result?.warnings ?? [],
    verification: result?.verification ?? null,
    ...(planText ? { plan: planText } : {}),
  };
}
