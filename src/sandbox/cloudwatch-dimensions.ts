/**
 * Puts the dimensions of every CloudWatch request in one order (by name).
 * CloudWatch treats a metric's dimensions as a set; moto compares them as a
 * list (its sort of dimensions is broken), so `[LoadBalancer, TargetGroup]`
 * would not find datums put as `[TargetGroup, LoadBalancer]`. The gateway
 * sorts them in every request (Query and JSON protocols), and the sandbox
 * puts its own datums sorted, so any client order finds them.
 */

interface Dimension {
  Name?: unknown;
  Value?: unknown;
}

const byName = (a: Dimension, b: Dimension): number => String(a.Name ?? '').localeCompare(String(b.Name ?? ''));

/** Dimensions sorted by name (a copy). */
export function sortedDimensions<T extends Dimension>(dimensions: T[]): T[] {
  return [...dimensions].sort(byName);
}

/** Query protocol: reorders each `….Dimensions.member.N.Name/Value` list; undefined when nothing moved. */
export function sortQueryDimensions(body: string): string | undefined {
  const params = new URLSearchParams(body);
  const lists = new Map<string, Map<string, Dimension>>();
  for (const [key, value] of params) {
    const match = /^(.*\bDimensions\.member\.)(\d+)\.(Name|Value)$/.exec(key);
    if (!match) continue;
    const [, prefix = '', index = '', field = ''] = match;
    let list = lists.get(prefix);
    if (!list) lists.set(prefix, (list = new Map()));
    const entry = list.get(index) ?? {};
    entry[field as 'Name' | 'Value'] = value;
    list.set(index, entry);
  }
  let moved = false;
  for (const [prefix, list] of lists) {
    const inOrder = [...list.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([, d]) => d);
    const sorted = sortedDimensions(inOrder);
    if (sorted.every((d, i) => d === inOrder[i])) continue;
    moved = true;
    sorted.forEach((d, i) => {
      params.set(`${prefix}${i + 1}.Name`, String(d.Name ?? ''));
      if (d.Value === undefined) params.delete(`${prefix}${i + 1}.Value`);
      else params.set(`${prefix}${i + 1}.Value`, String(d.Value));
    });
  }
  return moved ? params.toString() : undefined;
}

function sortJson(node: unknown): boolean {
  if (Array.isArray(node)) return node.map(sortJson).some(Boolean);
  if (!node || typeof node !== 'object') return false;
  let moved = false;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === 'Dimensions' && Array.isArray(value)) {
      const sorted = sortedDimensions(value as Dimension[]);
      if (sorted.some((d, i) => d !== value[i])) {
        (node as Record<string, unknown>)[key] = sorted;
        moved = true;
      }
    } else if (sortJson(value)) moved = true;
  }
  return moved;
}

/** JSON protocol: reorders every `Dimensions` array; undefined when nothing moved (or not JSON). */
export function sortJsonDimensions(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  return sortJson(parsed) ? JSON.stringify(parsed) : undefined;
}
