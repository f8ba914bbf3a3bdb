// A patient's access log proven complete (docs/records.md "Access log"): the chain keeps it as
// a dense list, `accessidx/<log>/<patient>/<n>` holding the key of the n-th event and
// `accesscount/<log>/<patient>` how many there are. A page the node gives must then be exactly
// the proven entries from its top down, and the first page must start at the newest entry the
// proof sees: a node that hides a read (a break-glass one, say) is caught, not only one that
// alters it. Entries are append-only; a folded denial keeps its entry and grows its count.
import { canonicalJson } from './canonical.js';
import { ClientError } from './errors.js';
import type { AccessEvent } from './responses.js';
import { refuse } from './trust.js';
import { provenCount, type VerifiedReader } from './verified-reader.js';

export type AccessLogName = 'all' | 'emergency';

/** Committed-state keys of the dense log (ehr `keys.accessIndex`, `keys.accessCount`). */
export const accessLogKeys = {
  entry: (log: AccessLogName, patient: string, position: number) => `accessidx/${log}/${patient}/${String(position).padStart(12, '0')}`,
  count: (log: AccessLogName, patient: string) => `accesscount/${log}/${patient}`,
};

/** Most entries newer than the node's answer that a first page takes in (events committed meanwhile). */
const MAX_NEWER = 500;
const CURSOR_RE = /^[0-9]{12}$/;

/** What the node said for one page: its events newest first, `next`, and the list's length it saw. */
export interface ToldLogPage {
  events: readonly AccessEvent[];
  next: string | null;
  count: unknown;
}

/** Everything of an event but what a fold changes (its count and latest block). */
function fixedPart(e: AccessEvent): string {
  const { count: _count, last: _last, provenAt: _at, ...rest } = e;
  return canonicalJson(rest);
}

/**
 * Check the node's page of `log` of `patient` (asked with `cursor`) against the proven list and
 * return the proven events, newest first, with `provenAt`. On a first page, events committed
 * after the node answered (the proof sees a longer list) are added on top from the proof, so
 * nothing newer is dropped either. Throws ClientError FACT_NOT_PROVEN naming the position left
 * out or changed, INVALID_ARGUMENT for a bad cursor, MALFORMED_RESPONSE, or the reader's codes.
 */
export async function provenAccessLogPage(
  reader: VerifiedReader,
  patient: string,
  log: AccessLogName,
  cursor: string | undefined,
  told: ToldLogPage,
): Promise<{ events: AccessEvent[]; next: string | null; height: number }> {
  if (cursor !== undefined && !CURSOR_RE.test(cursor))
    throw new ClientError('INVALID_ARGUMENT', 'cursor must be the `next` of a previous page (12 digits)');
  if (typeof told.count !== 'number' || !Number.isSafeInteger(told.count) || told.count < 0)
    throw new ClientError('MALFORMED_RESPONSE', 'answer.count must be the length of the log');
  if (told.next !== null && !CURSOR_RE.test(told.next))
    throw new ClientError('MALFORMED_RESPONSE', 'answer.next must be a 12-digit position or null');
  // The positions the node's page covers: from its top down, one per event.
  const top = cursor === undefined ? told.count - 1 : Number(cursor);
  const bottom = top - told.events.length + 1;
  if (bottom < 0) refuse('FACT_NOT_PROVEN', `the node gives ${told.events.length} events from position ${top}`);
  const expectedNext = bottom > 0 ? bottom - 1 : null;
  if ((told.next === null ? null : Number(told.next)) !== expectedNext)
    refuse('FACT_NOT_PROVEN', `the page of the access log ends at position ${bottom}, but the node's next is ${told.next}`);
  if (told.events.length === 0 && bottom > 0) refuse('FACT_NOT_PROVEN', 'the node gives an empty page in the middle of the log');

  const countKey = accessLogKeys.count(log, patient);
  const span = (from: number, to: number) => {
    const keys: string[] = [];
    for (let p = from; p >= to; p--) keys.push(accessLogKeys.entry(log, patient, p));
    return keys;
  };
  const first = await reader.read([countKey, ...span(top, bottom)]);
  const count = provenCount(first, countKey);
  if (top >= count && told.events.length > 0)
    refuse('FACT_NOT_PROVEN', `the node lists position ${top}, but the proven log has ${count} entries at height ${first.height}`);
  if (cursor === undefined && count - told.count > MAX_NEWER)
    refuse('FACT_NOT_PROVEN', `the node's log is ${count - told.count} entries behind the proven one at height ${first.height}`);
  // A first page starts at the newest proven entry: take in what was committed after the node answered.
  const newer = cursor === undefined && count > told.count ? span(count - 1, told.count) : [];
  const extra = newer.length === 0 ? undefined : await reader.read(newer);
  const entryKeys = [...newer, ...span(top, bottom)];
  const logKeys = entryKeys.map((key) => {
    const logKey = (extra !== undefined && newer.includes(key) ? extra : first).value(key);
    if (logKey === null) return refuse('FACT_NOT_PROVEN', `entry ${key} of a log of ${count} is not in the proven state`);
    if (!logKey.startsWith(`access/${patient}/`)) return refuse('STATE_PROOF_INVALID', `entry ${key} names another patient's event`);
    return logKey;
  });
  if (logKeys.length === 0) return { events: [], next: told.next, height: first.height };
  const events = await reader.read(logKeys);
  const proven = logKeys.map((key) => {
    const raw = events.value(key);
    if (raw === null) return refuse('FACT_NOT_PROVEN', `the log names event ${key}, which is not in the proven state`);
    try {
      return { ...(JSON.parse(raw) as AccessEvent), provenAt: events.height };
    } catch {
      return refuse('STATE_PROOF_INVALID', `the proven value of ${key} is not JSON`);
    }
  });
  // The node's events are exactly the proven ones at their positions (a fold may have grown a count since).
  told.events.forEach((e, i) => {
    const want = proven[newer.length + i] as AccessEvent;
    if (fixedPart(e) !== fixedPart(want) || Number(e.count) > Number(want.count))
      refuse('FACT_NOT_PROVEN', `the node's access-log entry at position ${top - i} is not the committed one (left out, added or changed)`);
  });
  return { events: proven, next: told.next, height: events.height };
}
