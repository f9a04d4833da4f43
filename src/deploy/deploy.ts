import type { AwsClients } from '../aws/clients';
import type { Logger } from '../core/log';
import { describeAsgsByName, loadCluster } from '../cluster/server-groups';

/** Names tried when groups only named like the cluster hold the next ones (then creation fails cleanly). */
const MAX_NAME_LOOKUPS = 5;
import { newDeploymentId } from '../ledger';
import { whoAmI } from './journal';
import { describePlan, planDeploy, type DeployPlan } from './plan';
import { lockAndRecover } from './recovery';
import { runRedBlack, type RedBlackResult } from './red-black';
import type { DeployRequest } from './request';
import { resolveAmi, resolveSecurityGroups, resolveSubnets, resolveTargetGroups } from './resolve';
import { prepareVerification, wantsVerification } from '../verify/prepare';

/** The deploy stage's output (DESIGN §2). */
export interface DeployOutput {
  cluster: string;
  region: string;
  deploymentId: string;
  status: 'succeeded' | 'planned';
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
}

/** Read-only checks and the plan: nothing in AWS changes here. */
export async function prepareDeploy(aws: AwsClients, request: DeployRequest): Promise<DeployPlan> {
  await resolveAmi(aws, request.amiId);
  const targetGroupArns = request.targetGroups ? await resolveTargetGroups(aws, request.targetGroups) : undefined;
  const subnets = request.launch.subnets ? await resolveSubnets(aws, request.launch.subnets) : undefined;
  if (request.launch.securityGroups) await resolveSecurityGroups(aws, request.launch.securityGroups);
  const { groups, foreign } = await loadCluster(aws, request.cluster.name);
  const taken = foreign.map((g) => g.name);
  // Groups only named like the cluster (e.g. Spinnaker's) are not found by our tag: make sure the next name is free.
  for (let attempt = 0; ; attempt += 1) {
    const plan = planDeploy(groups, request, { targetGroupArns, subnets, foreign: taken });
    if (attempt >= MAX_NAME_LOOKUPS || (await describeAsgsByName(aws, [plan.newServerGroup])).length === 0) return plan;
    taken.push(plan.newServerGroup);
  }
}

/**
 * A red/black deploy of `request.amiId` into its cluster (DESIGN §4): checks,
 * lock, crash recovery, new server group, wait healthy, cutover, clean-up,
 * ledger. Failure before cutover rolls back automatically (exit 1).
 */
export async function deploy(aws: AwsClients, request: DeployRequest, log: Logger): Promise<DeployOutput> {
  const started = Date.now();
  const firstPlan = await prepareDeploy(aws, request);
  const deploymentId = newDeploymentId();
  // Read-only, before the lock: an alarm already in ALARM stops the deploy with nothing changed (exit 3).
  const verification =
    request.verify && (wantsVerification(request.verify) || request.rolling)
      ? await prepareVerification(aws, request.verify, firstPlan.targetGroupArns, Boolean(firstPlan.source), log)
      : undefined;
  if (request.plan) {
    const text = describePlan(firstPlan, request.amiId);
    log.info(text);
    return output(request, deploymentId, firstPlan, null, [], started, 'planned', text);
  }
  const { session, recovered } = await lockAndRecover(aws, {
    ...request,
    cluster: request.cluster.name,
    owner: whoAmI(request.build.buildUrl),
    deploymentId,
    log,
  });
  try {
    // Plan again under the lock: the cluster may have changed since the first look.
    const plan = await prepareDeploy(aws, request);
    log.info(describePlan(plan, request.amiId));
    const result = await runRedBlack(aws, { request, plan, deploymentId, session, log, kind: 'deploy', ...(verification ? { verification } : {}) });
    log.info(
      `deployed ${request.amiId} as ${result.serverGroup} in ${Math.round((Date.now() - started) / 1000)}s` +
        (result.previousServerGroup ? `; ${result.previousServerGroup} disabled` : ''),
    );
    return output(request, deploymentId, plan, result, recovered, started, 'succeeded');
  } finally {
    await session.close();
  }
}

function output(
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
    capacity: plan.capacity,
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
