// Bounded parallelism: many requests to one node, a few at a time, so a long list (records to
// import, readers to name) neither floods the node nor trips its rate limit.

/** Run `work` over `items` with at most `limit` in flight; results in item order. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i] as T, i);
    }
  });
  await Promise.all(runners);
  return out;
}
