import { InputError } from '../core/errors';
import { checkObject, checkBoolean, checkStringList, checkString } from '../core/validate';
import { checkStringMap, optionalNonBlank } from '../core/validate';
import type { ResolvedBake } from './types';

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

/** `sourceAmi`: an AMI id, or a DescribeImages filter with owners (anyone could publish a match otherwise). */
export function resolveSourceAmi(value: unknown): ResolvedBake['sourceAmi'] {
  if (value === undefined || value === null || typeof value !== 'object') {
    throw new InputError('sourceAmi', 'required: { id } or { filter: { name, owners } }');
  }
  const src = value as Record<string, unknown>;
  if (src['id'] !== undefined) {
    const id = checkString('sourceAmi.id', src['id']);
    if (!AMI_ID.test(id)) throw new InputError('sourceAmi.id', `"${id}" is not an AMI id (ami-…)`);
    return { id, mostRecent: false };
  }
  if (src['filter'] === undefined) throw new InputError('sourceAmi', 'give either id or filter');
  const filter = checkObject('sourceAmi.filter', src['filter']);
  const owners =
    filter['owners'] === undefined || filter['owners'] === null
      ? []
      : checkStringList('sourceAmi.filter.owners', filter['owners']);
  if (owners.length === 0) {
    throw new InputError(
      'sourceAmi.filter.owners',
      'required: at least one owner account id or alias (e.g. "amazon"), or anyone could publish a matching image',
    );
  }
  const filters = { ...checkStringMap('sourceAmi.filter.filters', filter['filters']) };
  const name = optionalNonBlank('sourceAmi.filter.name', filter['name']);
  if (name !== undefined) filters['name'] = name;
  if (Object.keys(filters).length === 0) throw new InputError('sourceAmi.filter.name', 'required (or filters)');
  if (filters['root-device-type'] === undefined) filters['root-device-type'] = 'ebs';
  const mostRecent =
    filter['mostRecent'] === undefined ? true : checkBoolean('sourceAmi.filter.mostRecent', filter['mostRecent']);
  return { filters, owners, mostRecent };
}
