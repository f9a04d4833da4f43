import { InputError } from '../core/errors';
import { checkRegion } from '../core/validate';

/**
 * The order of a rollout: waves of regions. Regions of one wave deploy at the
 * same time; a wave starts when the one before it has succeeded everywhere.
 * Pure: no AWS.
 */

/** Parses `waves`: a list of lists of regions (`[["us-east-1"], ["eu-west-1", "ap-south-1"]]`). */
export function parseWaves(value: unknown, field: string): string[][] {
  if (!Array.isArray(value) || value.length === 0)
    throw new InputError(field, 'must be a non-empty list of lists of regions, e.g. [["us-east-1"], ["eu-west-1"]]');
  return value.map((wave, index) => {
    const where = `${field}[${index}]`;
    const regions = typeof wave === 'string' ? [wave] : wave;
    if (!Array.isArray(regions) || regions.length === 0)
      throw new InputError(where, 'must be a non-empty list of regions');
    return regions.map((region, inner) => checkRegion(`${where}[${inner}]`, region));
  });
}

/**
 * The waves of a rollout over `regions` (in the order given): the declared
 * waves, checked to name every region exactly once, or one region per wave.
 * Throws InputError naming `waves[i][j]` (a region not in `regions`, or twice)
 * or `waves` (a region left out).
 */
export function planWaves(regions: readonly string[], waves?: readonly (readonly string[])[]): string[][] {
  if (waves === undefined) return regions.map((region) => [region]);
  const seen = new Set<string>();
  waves.forEach((wave, index) =>
    wave.forEach((region, inner) => {
      const where = `waves[${index}][${inner}]`;
      if (!regions.includes(region))
        throw new InputError(where, `${region} is not one of the rollout's regions (${regions.join(', ')})`);
      if (seen.has(region)) throw new InputError(where, `${region} is in more than one wave`);
      seen.add(region);
    }),
  );
  const missing = regions.filter((region) => !seen.has(region));
  if (missing.length > 0)
    throw new InputError('waves', `leaves out ${missing.join(', ')}: every region must be in a wave`);
  return waves.map((wave) => [...wave]);
}
