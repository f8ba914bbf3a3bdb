// Cursor paging for every /v1 list (docs/api.md "Paging"): a page of at most `limit` items
// and `next`, an opaque cursor for the following page (null at the end), so no list is ever
// cut short without saying so. Items come from committed state keys, ascending or (for
// newest-first logs) descending; one key may stand for several items (a grantee's grants).
import type { NodeStore } from '@medledger/storage';
import { Type } from '@sinclair/typebox';
import { ApiError } from './errors.js';

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 500;
/** Keys read from the store per step while filling a page. */
const SCAN_STEP = 256;

/** The `limit` and `cursor` query parameters every list route accepts (api-schemas.ts). */
/**
 * `limit` as the document states it: exactly the integers 1 to 500 the lists accept (MAX_PAGE_LIMIT),
 * so a generated client or a fuzzer never sends a limit the schema allows and the list refuses.
 */
export const PageLimitSchema = Type.String({
  pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$',
  description: `items per page, 1 to ${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT})`,
});

export const PageQuerySchema = {
  limit: Type.Optional(PageLimitSchema),
  cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,1024}$', description: '`next` of the previous page, as given (opaque)' })),
};

export interface PageQuery {
  limit?: string;
  cursor?: string;
}

/** A page of a list: its items, and the cursor of the next page or null at the end. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** Where a page stopped: which prefix, which key, and how many of that key's items were given. */
type Position = [segment: number, key: string, given: number];

/** The page size asked for, checked: 1 to MAX_PAGE_LIMIT. Throws ApiError INVALID_PARAM. */
export function pageLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_LIMIT;
  const n = /^[1-9][0-9]{0,2}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= MAX_PAGE_LIMIT)) throw new ApiError('INVALID_PARAM', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  return n;
}

function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify(p), 'utf8').toString('base64url');
}

/** Decode a cursor this list gave; anything else is INVALID_PARAM, never a silent restart. */
function decodeCursor(raw: string, segments: readonly string[]): Position {
  const bad = () => new ApiError('INVALID_PARAM', 'cursor is not one this list gave: pass `next` from the previous page unchanged');
  let p: unknown;
  try {
    p = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(p) || p.length !== 3) throw bad();
  const [segment, key, given] = p as [unknown, unknown, unknown];
  if (!Number.isSafeInteger(segment) || (segment as number) < 0 || (segment as number) >= segments.length) throw bad();
  if (typeof key !== 'string' || !key.startsWith(segments[segment as number] as string)) throw bad();
  if (!Number.isSafeInteger(given) || (given as number) < 1) throw bad();
  return [segment as number, key, given as number];
}

/**
 * One page of the items under `segments` (state key prefixes, listed one after another),
 * each key's value turned into zero or more items by `expand` (which may filter). Keys are
 * ascending, or descending with `reverse`. Throws ApiError INVALID_PARAM for a bad limit or cursor.
 */
export function pageState<T>(
  store: Pick<NodeStore, 'scanState' | 'getState'>,
  segments: readonly string[],
  query: PageQuery,
  expand: (key: string, value: string) => T[],
  opts: { reverse?: boolean } = {},
): Page<T> {
  const limit = pageLimit(query.limit);
  const start: Position | undefined = query.cursor === undefined ? undefined : decodeCursor(query.cursor, segments);
  const found: Array<{ item: T; at: Position }> = [];
  const take = (segment: number, key: string, value: string, skip: number) => {
    const items = expand(key, value);
    for (let i = skip; i < items.length && found.length <= limit; i++) found.push({ item: items[i] as T, at: [segment, key, i + 1] });
  };
  for (let segment = start?.[0] ?? 0; segment < segments.length && found.length <= limit; segment++) {
    const prefix = segments[segment] as string;
    let after: string | undefined;
    if (start !== undefined && segment === start[0]) {
      // Resume inside the key the last page stopped in, then after it.
      after = start[1];
      const value = store.getState(after);
      if (value !== undefined) take(segment, after, value, start[2]);
    }
    while (found.length <= limit) {
      const batch = store.scanState(prefix, {
        limit: SCAN_STEP,
        reverse: opts.reverse === true,
        ...(after === undefined ? {} : { after }),
      });
      for (const [key, value] of batch) {
        if (found.length > limit) break;
        take(segment, key, value, 0);
      }
      if (batch.length < SCAN_STEP) break;
      after = (batch[batch.length - 1] as [string, string])[0];
    }
  }
  if (found.length <= limit) return { items: found.map((f) => f.item), next: null };
  return { items: found.slice(0, limit).map((f) => f.item), next: encodeCursor((found[limit - 1] as { at: Position }).at) };
}

/** A position in a dense list as a cursor: 12 digits. */
export const positionCursor = (position: number) => String(position).padStart(12, '0');

/**
 * One page of a dense list newest first (ehr keys.accessIndex): positions `cursor` (or the
 * newest, count − 1) down, at most `limit` of them. `next` is the position below the page, null
 * once position 0 was given; `count` is how long the list was, so a client can prove the page
 * began at the newest entry and left none out. Throws ApiError INVALID_PARAM for a bad limit or
 * cursor.
 */
export function pageDenseNewestFirst<T>(
  store: Pick<NodeStore, 'getState'>,
  list: { count: string; entry: (position: number) => string },
  query: PageQuery,
  item: (entryValue: string) => T,
): Page<T> & { count: number } {
  const limit = pageLimit(query.limit);
  const count = Number(store.getState(list.count) ?? '0');
  let top = count - 1;
  if (query.cursor !== undefined) {
    if (!/^[0-9]{12}$/.test(query.cursor) || Number(query.cursor) >= count)
      throw new ApiError('INVALID_PARAM', 'cursor is not one this list gave: pass `next` from the previous page unchanged');
    top = Number(query.cursor);
  }
  const items: T[] = [];
  for (let p = top; p >= 0 && p > top - limit; p--) {
    const value = store.getState(list.entry(p));
    if (value === undefined) throw new ApiError('INTERNAL', `entry ${p} of a list of ${count} is missing`);
    items.push(item(value));
  }
  const bottom = top - items.length + 1;
  return { items, next: bottom > 0 ? positionCursor(bottom - 1) : null, count };
}

/**
 * One page of a dense list oldest first: positions from `cursor` (a `tag` and 12 digits, so a
 * cursor of one list is no key to another) up, at most `limit`. `count` is how long the list
 * was, so a client can prove the page left none out. Throws ApiError INVALID_PARAM for a bad
 * limit or cursor.
 */
export function pageDenseAscending<T>(
  store: Pick<NodeStore, 'getState'>,
  list: { tag: string; count: string; entry: (position: number) => string },
  query: PageQuery,
  item: (entryValue: string) => T,
): Page<T> & { count: number } {
  const limit = pageLimit(query.limit);
  const count = Number(store.getState(list.count) ?? '0');
  let from = 0;
  if (query.cursor !== undefined) {
    const m = new RegExp(`^${list.tag}([0-9]{12})$`).exec(query.cursor);
    if (m === null || Number(m[1]) >= count)
      throw new ApiError('INVALID_PARAM', 'cursor is not one this list gave: pass `next` from the previous page unchanged');
    from = Number(m[1]);
  }
  const items: T[] = [];
  for (let p = from; p < count && p < from + limit; p++) {
    const value = store.getState(list.entry(p));
    if (value === undefined) throw new ApiError('INTERNAL', `entry ${p} of a list of ${count} is missing`);
    items.push(item(value));
  }
  const end = from + items.length;
  return { items, next: end < count ? `${list.tag}${positionCursor(end)}` : null, count };
}
