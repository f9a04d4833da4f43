import type { AwsClients } from '../../aws/clients';
import type { Logger } from '../../core/log';
import type { ServerGroup, TargetHealthByGroup } from '../../cluster/server-groups';
import type { PreparedVerification } from '../../verify/prepare';
import type { VerificationStep } from '../../verify/watch';
import type { CapacityHandoff } from '../capacity-handoff';
import type { HealthProof } from '../health';
import type { DeployPlan } from '../plan';
import type { Capacity, DeployRequest } from '../request';

/**
 * How a deploy moves traffic to its new server group. Every strategy shares
 * one skeleton (`runRedBlack`, `deploy/red-black.ts`): create the new group →
 * wait until healthy (any failure up to here removes it: the automatic
 * rollback boundary) → the strategy shifts traffic → cutover (disable the
 * others, the watch, scale down, shrink) → clean-up. A strategy says only
 * what differs:
 *
 * - how the new group starts ({@link DeployStrategy.initialCapacity});
 * - how traffic moves to it before the cutover ({@link DeployStrategy.shiftTraffic}),
 *   and with it what a breach on the way undoes (it throws `VerificationFailed`
 *   after putting the previous group back, `deploy/operations/watch-cutover.ts`);
 * - how the cutover starts ({@link ShiftedTraffic.cutover}).
 *
 * How an interrupted run is settled is read from its phase tag alone
 * (`nextAction` in `cluster/phases.ts`, used by recovery and status alike),
 * so a crashed run is settled without knowing which strategy ran: a strategy
 * that adds a phase adds its row there (canary: `canary`).
 */
export interface DeployStrategy {
  /** The `strategy` input's value. */
  readonly name: 'red-black' | 'rolling' | 'canary';
  /** The capacity the new group is created with (its min pinned to desired). */
  initialCapacity(plan: DeployPlan): Capacity;
  /**
   * Capacity handoff (deploy/capacity-handoff.ts) once the new group is healthy, inside the automatic-rollback
   * boundary: the new group raised to what the previous group runs now. False when the strategy hands capacity
   * over itself, step by step, in {@link DeployStrategy.shiftTraffic}.
   */
  readonly handsOffAtHealth: boolean;
  /**
   * Read-only checks of what only AWS can tell about the strategy's input, on
   * the first look before the lock (nothing changed yet): throws InputError
   * naming the field (exit 2).
   */
  preflight?(aws: AwsClients, context: { plan: DeployPlan; request: DeployRequest }): Promise<void>;
  /**
   * Where the new group is created and proved healthy (absent: the plan's
   * target groups). Runs before anything is made; what it makes `discard`
   * undoes when the new group is removed before traffic moves.
   */
  placement?(aws: AwsClients, context: { plan: DeployPlan; request: DeployRequest; log: Logger }): Promise<Placement>;
  /**
   * Runs once the new group is healthy, before the cutover: moves traffic to
   * it (or nothing, for red/black). Throws `VerificationFailed` after undoing
   * a breached step. Returns the steps it watched and how the cutover starts.
   */
  shiftTraffic(aws: AwsClients, context: ShiftContext): Promise<ShiftedTraffic>;
}

/** Where a strategy puts its new group (canary: its own target groups). */
export interface Placement {
  /** The target groups the new group is created in and waits healthy in. */
  targetGroupArns: string[];
  /** More tags of the new group (what recovery needs to undo the placement). */
  tags: Record<string, string>;
  /** Undoes the placement (the new group is gone or never made). */
  discard(): Promise<void>;
}

/** What a strategy knows when it shifts traffic. */
export interface ShiftContext {
  request: DeployRequest;
  plan: DeployPlan;
  /** The group that served before (none on a first deploy). */
  source: ServerGroup | undefined;
  /** Alarms and gates to watch, read before the deploy (none: no watch). */
  verification: PreparedVerification | undefined;
  /** The poll that proved the new group healthy. */
  healthy: HealthProof;
  /** The warm window of the groups it takes out of service (scaleDownDelay, at least the watch). */
  warmAfterSeconds: number;
  log: Logger;
  /** Throws when the run may not go on (the cluster lock was lost). */
  check: () => void;
}

/** What a strategy leaves for the cutover. */
export interface ShiftedTraffic {
  /** The steps watched on the way (reported with the cutover's watch). */
  steps: VerificationStep[];
  /** The capacity handed over on the way, when the strategy hands it over itself. */
  handoff?: CapacityHandoff;
  /** How `finishCutover` starts: tags for the new group written with the old groups' scale-down times, and the state it acts on (else live state). */
  cutover: {
    newGroupTags?: Record<string, string>;
    state?: { groups: readonly ServerGroup[]; health: TargetHealthByGroup };
  };
}
