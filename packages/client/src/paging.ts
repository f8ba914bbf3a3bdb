// Cursor paging of the node's lists (docs/api.md "Paging"): every list answers a page of
// items and `next`, the cursor of the following page (null at the end). Page functions
// return one page; `eachItem` and `allItems` follow the cursors to the end.
import { ClientError } from './errors.js';

/** Which page to ask for: at most `limit` items (node default 100, at most 500), after `cursor`. */
export interface PageRequest {
  limit?: number;
  cursor?: string;
}

/** One page of a list and the cursor of the next one (null at the end). */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** `?limit=…&cursor=…` (plus `extra`) for a list route; empty when nothing is set. */
export function pageQuery(page: PageRequest = {}, extra: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) q.set(k, v);
  if (page.limit !== undefined) q.set('limit', String(page.limit));
  if (page.cursor !== undefined) q.set('cursor', page.cursor);
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** `o.next` as a cursor or null; throws ClientError('MALFORMED_RESPONSE') otherwise. */
export function nextAt(o: Record<string, unknown>, what: string, field = 'next'): string | null {
  const v = o[field];
  if (v === null) return null;
  if (typeof v !== 'string' || v === '') throw new ClientError('MALFORMED_RESPONSE', `${what}.${field} must be a cursor or null`);
  return v;
}

/**
 * Every item of a list, page after page, following `next` until it is null. A node that
 * hands back a cursor it already gave would loop forever: that is refused as MALFORMED_RESPONSE.
 */
export async function* eachItem<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.items;
    if (page.next === null) return;
    if (seen.has(page.next)) throw new ClientError('MALFORMED_RESPONSE', 'the node repeated a page cursor');
    seen.add(page.next);
    cursor = page.next;
  }
}

/** Every item of a list (see eachItem), in the list's order. */
export async function allItems<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of eachItem(fetchPage)) out.push(item);
  return out;
}
