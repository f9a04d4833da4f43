import { checkExternalId, checkRoleArn } from '../../aws/assume-role';
import { InputError } from '../../core/errors';
import { checkObject, checkPattern, checkRegion } from '../../core/validate';
import { AMI_ID } from '../../deploy/request';
import { parseWaves } from '../../rollout/waves';
import { input } from './declare';

/**
 * The deploy inputs of a rollout to several regions and accounts (issue #24):
 * the regions with their overrides, the AMI of each, the waves, what a failed
 * region does to the others, and the role each region's calls assume.
 * Each region's overrides are checked as deploy inputs in `src/stages/rollout-input.ts`.
 */

/**
 * A map keyed by region (absent: undefined): each key checked as a region and
 * each value by `item`, both naming `field.<region>`.
 */
function regionMap<T>(
  field: string,
  value: unknown,
  item: (value: unknown, field: string) => T,
): Record<string, T> | undefined {
  if (value === undefined) return undefined;
  const map = checkObject(field, value);
  if (Object.keys(map).length === 0) throw new InputError(field, 'must name at least one region');
  return Object.fromEntries(
    Object.entries(map).map(([region, entry]) => {
      const where = `${field}.${region}`;
      checkRegion(where, region);
      return [region, item(entry, where)];
    }),
  );
}

/** The role a deploy's calls assume (per region in a rollout). */
export const ROLE_INPUTS = {
  roleArn: input({
    kind: 'string',
    describe:
      "IAM role assumed with STS for this deploy's AWS calls (another account); per region in regions.<region>.roleArn",
    defaultText: 'the credentials of the environment',
    parse: (value, field) => (value === undefined ? undefined : checkRoleArn(field, value)),
  }),
  externalId: input({
    kind: 'string',
    describe: "External id the role's trust policy asks for (never logged)",
    secret: true,
    parse: (value, field) => (value === undefined ? undefined : checkExternalId(field, value)),
  }),
};

/** The inputs a rollout adds to `deploy`. */
export const ROLLOUT_INPUTS = {
  amis: input({
    kind: 'object',
    describe: 'AMI per region {region: ami-…}, the amis output of bake, in place of amiId; deploys to each region',
    docType: 'Map',
    parse: (value, field) =>
      regionMap(field, value, (ami, where) => checkPattern(where, ami, AMI_ID, 'ami-0123456789abcdef0')),
  }),
  regions: input({
    kind: 'object',
    describe:
      'Regions to deploy to, in order, each with overrides of any deploy input {region: {targetGroups, subnets, capacity, roleArn, …}} (JSON)',
    defaultText: 'the regions of amis',
    docType: 'Map',
    parse: (value, field) =>
      regionMap(field, value, (overrides, where) =>
        overrides === null || overrides === undefined ? {} : checkObject(where, overrides),
      ),
  }),
  waves: input({
    kind: 'object',
    describe:
      'Order of the rollout: lists of regions deployed at the same time, each wave after the one before succeeded (JSON)',
    defaultText: 'one region per wave, in the order of regions',
    docType: 'List of Lists',
    parse: (value, field) => (value === undefined ? undefined : parseWaves(value, field)),
  }),
  onFailure: input({
    kind: 'string',
    describe:
      'When a region fails: rollback puts the regions already done back on what they served before (their previous groups stay warm until the rollout ends); stop leaves them on the new release',
    default: 'rollback',
    choices: ['rollback', 'stop'],
    parse: (value, field) => {
      if (value !== 'rollback' && value !== 'stop')
        throw new InputError(field, `must be rollback or stop (got ${JSON.stringify(value)})`);
      return value;
    },
  }),
  ...ROLE_INPUTS,
};
