import { InputError } from '../core/errors';
import type { DeployRequest } from '../deploy/request';
import type { AssumedRole } from '../aws/assume-role';
import type { RegionDeploy, RolloutRequest } from '../rollout/request';
import { planWaves } from '../rollout/waves';
import type { ParsedInputs } from './inputs/declare';
import { DEPLOY_INPUTS } from './inputs/deploy';
import { ROLE_INPUTS, ROLLOUT_INPUTS } from './inputs/rollout';
import {
  BUILD_INPUTS,
  CLUSTER_INPUTS,
  CONFIG_INPUTS,
  LEDGER_INPUTS,
  LOCK_INPUTS,
  REGION_INPUTS,
} from './inputs/shared';
import { mergeInputs } from './resolve-input';

/**
 * A deploy's input as a rollout to several regions (issue #24): each region's
 * input is the deploy's with that region's overrides on top, checked by the
 * same declarations as the deploy's own (a bad override is exit 2 naming
 * `regions.<region>.<field>`), then turned into a deploy request like a
 * single-region deploy's.
 */

/** The parsed deploy inputs. */
export type DeployInputs = ParsedInputs<typeof DEPLOY_INPUTS>;

/** Inputs that are the rollout's, not a region's: one cluster, one ledger and lock options, one build, one order. */
const NOT_PER_REGION = new Set([
  ...Object.keys(CLUSTER_INPUTS),
  ...Object.keys(REGION_INPUTS),
  ...Object.keys(LEDGER_INPUTS),
  ...Object.keys(CONFIG_INPUTS),
  ...Object.keys(LOCK_INPUTS),
  ...Object.keys(BUILD_INPUTS),
  ...Object.keys(ROLLOUT_INPUTS).filter((key) => !Object.hasOwn(ROLE_INPUTS, key)),
  'amiId',
  'plan',
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Runs a check of a region's override; a bad value is reported on `regions.<region>.<field>`. */
function inRegion<T>(prefix: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InputError && !error.field.startsWith(prefix)) {
      const problem = error.message.startsWith(`${error.field}: `)
        ? error.message.slice(error.field.length + 2)
        : error.message;
      throw new InputError(`${prefix}${error.field}`, problem);
    }
    throw error;
  }
}

/** The deploy inputs of one region: the deploy's, with the region's overrides parsed on top (objects merge key by key). */
export function regionInputs(inputs: DeployInputs, region: string, overrides: Record<string, unknown>): DeployInputs {
  const prefix = `regions.${region}.`;
  const merged: Record<string, unknown> = { ...inputs };
  const declarations: Record<string, { parse(value: unknown, field: string): unknown }> = DEPLOY_INPUTS;
  for (const [key, value] of Object.entries(overrides)) {
    const spec = declarations[key];
    if (spec === undefined || NOT_PER_REGION.has(key))
      throw new InputError(
        `${prefix}${key}`,
        spec === undefined
          ? 'is not a deploy input'
          : 'is set for the whole rollout, not per region (give it beside regions)',
      );
    const base = merged[key];
    const raw = isPlainObject(base) && isPlainObject(value) ? mergeInputs(base, value) : value;
    merged[key] = inRegion(prefix, () => spec.parse(raw, key));
  }
  return merged as DeployInputs;
}

/** Whether a deploy's input asks for a rollout (several regions, or AMIs per region). */
export function isRollout(inputs: DeployInputs): boolean {
  return inputs.regions !== undefined || inputs.amis !== undefined;
}

/**
 * The rollout a deploy's input asks for. `requestOf` turns one region's
 * inputs into its deploy request (the single-region deploy's validation).
 */
export function rolloutRequestOf(
  inputs: DeployInputs,
  requestOf: (inputs: DeployInputs, region: string, amiId: string) => DeployRequest,
): RolloutRequest {
  if (inputs.amiId !== undefined)
    throw new InputError('amiId', 'give amiId or amis, not both: a rollout takes an AMI per region (amis)');
  const amis = inputs.amis;
  if (amis === undefined)
    throw new InputError('amis', 'is required with regions: the AMI of each region, e.g. the amis output of bakeAmi');
  const overridesByRegion = inputs.regions ?? Object.fromEntries(Object.keys(amis).map((region) => [region, {}]));
  const names = Object.keys(overridesByRegion);
  const regions: RegionDeploy[] = names.map((region) => {
    const amiId = amis[region];
    if (amiId === undefined)
      throw new InputError(`amis.${region}`, `is required: regions names ${region}, amis has no AMI for it`);
    const own = regionInputs(inputs, region, overridesByRegion[region] ?? {});
    const role: AssumedRole | undefined =
      own.roleArn !== undefined
        ? { roleArn: own.roleArn, ...(own.externalId !== undefined ? { externalId: own.externalId } : {}) }
        : undefined;
    if (role === undefined && own.externalId !== undefined)
      throw new InputError(`regions.${region}.externalId`, 'is given without a roleArn to assume');
    return {
      region,
      request: inRegion(`regions.${region}.`, () => requestOf(own, region, amiId)),
      ...(role ? { role } : {}),
    };
  });
  return {
    cluster: regions[0]!.request.cluster,
    regions,
    waves: planWaves(names, inputs.waves),
    onFailure: inputs.onFailure,
    plan: inputs.plan,
  };
}
