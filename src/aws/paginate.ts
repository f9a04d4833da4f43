/**
 * Drains an SDK paginator (`paginateDescribeAutoScalingGroups(…)` and friends)
 * into one list, so no caller forgets a page.
 */
export async function collectPages<Page, Item>(
  pages: AsyncIterable<Page>,
  pick: (page: Page) => Item[] | undefined,
): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of pages) items.push(...(pick(page) ?? []));
  return items;
}

/** Splits a list into chunks of at most `size` (APIs that cap list lengths). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
