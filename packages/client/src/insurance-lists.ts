// Complete insurance lists (docs/insurance.md "Complete lists"): each list (an insurer's claims
// queue, a patient's coverages, a provider's prior authorizations, …) is kept on chain as a
// count and dense entries, entry n being item n mod 16 of the JSON array at
// `ins-<list>/<party>/<n div 16>`. A page from cursor c to `next` must then be exactly the
// proven entries c…next−1 (or c…count−1 on the last page) that match the filter: a node that
// leaves one out is caught, not only one that alters an entry. Entries are append-only (a
// chunk only grows, its items never change), so entries proven at one height are still the
// list's entries at a later one.
import { ClientError } from './errors.js';
import { insuranceKeys, preauthStatusAt } from './insurance-proofs.js';
import { refuse } from './trust.js';
import { provenCount, type VerifiedReader } from './verified-reader.js';

/** The on-chain lists (ehr `InsuranceIndex`), by who lists what. */
export const INSURANCE_LISTS = {
  insurers: { claims: 'iclaim', preauths: 'ipa', coverages: 'icov', plans: 'iplan' },
  patients: { claims: 'pclaim', preauths: 'ppa', coverages: 'pcov' },
  providers: { claims: 'rclaim', preauths: 'rpa' },
} as const;
export type InsuranceListOwner = keyof typeof INSURANCE_LISTS;
export type InsuranceListKind = 'claims' | 'preauths' | 'coverages' | 'plans';

/** Entries per key of a list (ehr `INSURANCE_LIST_CHUNK`). */
export const INSURANCE_LIST_CHUNK = 16;

/** Committed-state keys of a list (ehr `keys.insuranceIndex`, `keys.insuranceIndexCount`): the chunk holding entry `position`, and the count. */
export const insuranceListKeys = {
  chunk: (list: string, party: string, position: number) =>
    `ins-${list}/${party}/${String(Math.floor(position / INSURANCE_LIST_CHUNK)).padStart(12, '0')}`,
  count: (list: string, party: string) => `inscount/${list}/${party}`,
};

/** Positions one page may span (the node's MAX_SCAN): more is refused, so a node cannot make a client prove a whole list at once. */
export const MAX_LIST_SPAN = 500;
const POSITION_RE = /^[0-9]{12}$/;

/** The list name of `of` listed by `by`, or ClientError INVALID_ARGUMENT for a list that does not exist. */
export function insuranceListOf(by: InsuranceListOwner, of: InsuranceListKind): string {
  const list = (INSURANCE_LISTS[by] as Partial<Record<InsuranceListKind, string>>)[of];
  if (list === undefined) throw new ClientError('INVALID_ARGUMENT', `there is no list of ${of} by ${by}`);
  return list;
}

/** Position a cursor stands for; ClientError INVALID_ARGUMENT for anything but a `next` value. */
function positionOf(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  if (!POSITION_RE.test(cursor)) throw new ClientError('INVALID_ARGUMENT', 'cursor must be the `next` of a previous page (12 digits)');
  return Number(cursor);
}

/**
 * The ids at positions [from, to) of a list, proven, and the list's proven count. Throws
 * ClientError FACT_NOT_PROVEN for a span the count does not allow, or the reader's codes.
 */
export async function provenListSpan(
  reader: VerifiedReader,
  list: string,
  party: string,
  from: number,
  to: number | 'end',
): Promise<{ ids: string[]; count: number }> {
  const count = provenCount(await reader.read([insuranceListKeys.count(list, party)]), insuranceListKeys.count(list, party));
  const end = to === 'end' ? count : to;
  if (from > end || end > count) refuse('FACT_NOT_PROVEN', `the page ends at entry ${end}, but the proven list has ${count} from ${from}`);
  if (end - from > MAX_LIST_SPAN)
    refuse('FACT_NOT_PROVEN', `a page may span at most ${MAX_LIST_SPAN} entries, this one spans ${end - from}`);
  if (end === from) return { ids: [], count };
  const positions = Array.from({ length: end - from }, (_, i) => from + i);
  const keys = [...new Set(positions.map((p) => insuranceListKeys.chunk(list, party, p)))];
  const state = await reader.read(keys);
  const chunks = new Map(keys.map((key) => [key, provenChunk(state.value(key), key, count)]));
  const ids = positions.map((p) => {
    const key = insuranceListKeys.chunk(list, party, p);
    const id = (chunks.get(key) as string[])[p % INSURANCE_LIST_CHUNK];
    if (id === undefined) return refuse('FACT_NOT_PROVEN', `entry ${p} of a list of ${count} is not in the proven state (${key})`);
    return id;
  });
  return { ids, count };
}

/** A proven chunk's ids: a JSON array of at most INSURANCE_LIST_CHUNK ids, or STATE_PROOF_INVALID / FACT_NOT_PROVEN. */
function provenChunk(value: string | null, key: string, count: number): string[] {
  if (value === null) return refuse('FACT_NOT_PROVEN', `${key} of a list of ${count} is not in the proven state`);
  let ids: unknown;
  try {
    ids = JSON.parse(value);
  } catch {
    return refuse('STATE_PROOF_INVALID', `the proven value of ${key} is not JSON`);
  }
  if (
    !Array.isArray(ids) ||
    ids.length > INSURANCE_LIST_CHUNK ||
    !ids.every((id): id is string => typeof id === 'string' && /^[0-9a-f]{32}$/.test(id))
  )
    return refuse('STATE_PROOF_INVALID', `the proven value of ${key} is not a list of at most ${INSURANCE_LIST_CHUNK} ids`);
  return ids;
}

type Json = Record<string, unknown>;

/** Does a proven claim or prior authorization match the list's status filter (as the node filters)? */
function matchesStatus(of: InsuranceListKind, stored: Json, status: string, time: number): boolean {
  if (of === 'claims') {
    const open = Array.isArray(stored.disputes) && (stored.disputes as Json[]).some((d) => d.resolution === null);
    return stored.status === status || (status === 'disputed' && open);
  }
  return preauthStatusAt(stored as unknown as Parameters<typeof preauthStatusAt>[0], time) === status;
}

/**
 * Check that a page the node gave of list `by`/`of` of `party` skipped nothing: its items are
 * the proven entries from `cursor` to where the page stopped, in order, except, with a
 * `status` filter, entries whose proven state does not match it. The page stopped at `next`,
 * or on the last page at `end` (the count the node saw) or, from a node that does not say, the
 * proven count. Items themselves are proven by the caller (insurance-proofs.ts). Resolves to
 * the cursor the caller pages on with: `next`, or on a last page whose proof sees a longer list
 * (entries committed after the node answered) the node's `end`, so nothing is dropped; null
 * when the proven list ends there. Throws ClientError FACT_NOT_PROVEN naming the entry left
 * out, INVALID_ARGUMENT for a bad cursor, or the reader's codes.
 */
export async function checkListPage(
  reader: VerifiedReader,
  q: { by: InsuranceListOwner; of: InsuranceListKind; party: string; status?: string; cursor?: string },
  page: { items: readonly Json[]; next: string | null; end?: string },
): Promise<string | null> {
  const list = insuranceListOf(q.by, q.of);
  const from = positionOf(q.cursor);
  const stop = page.next ?? page.end;
  if (stop !== undefined && (!POSITION_RE.test(stop) || Number(stop) < from))
    refuse('FACT_NOT_PROVEN', `the page's end ${stop} is not a position after its cursor ${from}`);
  if (page.next !== null && Number(page.next) === from) refuse('FACT_NOT_PROVEN', `the page's next cursor does not move past ${from}`);
  const { ids, count } = await provenListSpan(reader, list, q.party, from, stop === undefined ? 'end' : Number(stop));
  const end = from + ids.length;
  let next: string | null = page.next;
  if (next === null && end < count) {
    // The node saw a shorter list than the proof: page on from where it stopped, never drop the rest.
    if (end === from) refuse('FACT_NOT_PROVEN', `the node ends the list at ${from}, but the proven list has ${count} entries`);
    next = String(end).padStart(12, '0');
  }
  await checkEntries(reader, q, page.items, ids);
  return next;
}

/** The shown items are exactly `ids` (in order), or with a status filter the matching ones. */
async function checkEntries(
  reader: VerifiedReader,
  q: { of: InsuranceListKind; party: string; status?: string },
  items: readonly Json[],
  ids: readonly string[],
): Promise<void> {
  const shown = items.map((x) => String(x.id));
  const what = `${q.of} of ${q.party}`;
  if (q.status === undefined || q.of === 'coverages' || q.of === 'plans') {
    const left = ids.filter((id) => !shown.includes(id));
    if (left.length > 0) refuse('FACT_NOT_PROVEN', `the node left out ${left.length} of the ${what} (first: ${left[0]})`);
    if (shown.join() !== ids.join()) refuse('FACT_NOT_PROVEN', `the page of ${what} is not the proven list's entries in order`);
    return;
  }
  // Shown items must be proven entries, in list order; every skipped entry must not match.
  let at = 0;
  for (const id of shown) {
    const found = ids.indexOf(id, at);
    if (found < 0) refuse('FACT_NOT_PROVEN', `the page of ${what} shows ${id}, which is not an entry in its place`);
    at = found + 1;
  }
  const skipped = ids.filter((id) => !shown.includes(id));
  if (skipped.length === 0) return;
  const key = (id: string) => (q.of === 'claims' ? insuranceKeys.claim(id) : insuranceKeys.preauth(id));
  const state = await reader.read(skipped.map(key));
  for (const id of skipped) {
    const raw = state.value(key(id));
    if (raw === null) refuse('FACT_NOT_PROVEN', `entry ${id} of the ${what} is not in the proven state`);
    let stored: Json;
    try {
      stored = JSON.parse(raw) as Json;
    } catch {
      return refuse('STATE_PROOF_INVALID', `the proven value of ${key(id)} is not JSON`);
    }
    if (matchesStatus(q.of, stored, q.status, state.time))
      refuse('FACT_NOT_PROVEN', `the node left out ${id} of the ${what}, which is ${q.status}`);
  }
}
