// A patient's own list of records proven complete (docs/records.md "Listing"): the chain keeps
// it as a dense list in anchor order, `recordidx/<patient>/<n>` holding the n-th record's id
// and `recordcount/<patient>` how many there are. A page the node gives the patient (or a
// delegate) must be exactly the proven entries from its cursor on: a node that hides a record
// from its patient is caught. (Another reader's list is filtered by their grants, and only
// each record in it is proven.)
import { ClientError } from './errors.js';
import { nextAt, type Page } from './paging.js';
import { provenRecords } from './proven-facts.js';
import { arrayAt, objectAt, parseRecordMeta, type RecordMeta } from './responses.js';
import { refuse } from './trust.js';
import { provenCount, type VerifiedReader } from './verified-reader.js';

/** Committed-state keys of the list (ehr `keys.recordIndex`, `keys.recordCount`). */
export const recordListKeys = {
  entry: (patient: string, position: number) => `recordidx/${patient}/${String(position).padStart(12, '0')}`,
  count: (patient: string) => `recordcount/${patient}`,
};

const CURSOR_RE = /^r[0-9]{12}$/;
const cursorAt = (position: number) => `r${String(position).padStart(12, '0')}`;

/**
 * Check that the node's page of `patient`'s records (asked with `cursor`; `ids` in the order
 * given) is the proven list's entries from the cursor on. Resolves to the cursor to page on:
 * the node's `next`, or where the proof sees more entries than the node's last page (records
 * anchored after it answered) the position after the page, so nothing is dropped. Throws
 * ClientError FACT_NOT_PROVEN naming what was left out, INVALID_ARGUMENT for a bad cursor,
 * MALFORMED_RESPONSE, or the reader's codes.
 */
export async function checkRecordListPage(
  reader: VerifiedReader,
  patient: string,
  cursor: string | undefined,
  told: { ids: readonly string[]; next: string | null; count: unknown },
): Promise<string | null> {
  if (cursor !== undefined && !CURSOR_RE.test(cursor))
    throw new ClientError('INVALID_ARGUMENT', 'cursor must be the `next` of a previous page of this list');
  if (typeof told.count !== 'number' || !Number.isSafeInteger(told.count) || told.count < 0)
    refuse('FACT_NOT_PROVEN', "the node's list of the patient's records does not say how long it is");
  if (told.next !== null && !CURSOR_RE.test(told.next))
    throw new ClientError('MALFORMED_RESPONSE', 'answer.next is not a cursor of this list');
  const from = cursor === undefined ? 0 : Number(cursor.slice(1));
  const end = from + told.ids.length;
  if (told.next !== null && (told.ids.length === 0 || Number(told.next.slice(1)) !== end))
    refuse('FACT_NOT_PROVEN', `the page of records ends at position ${end}, but the node's next is ${told.next}`);
  const countKey = recordListKeys.count(patient);
  const keys = told.ids.map((_, i) => recordListKeys.entry(patient, from + i));
  const state = await reader.read([countKey, ...keys]);
  const count = provenCount(state, countKey);
  if (end > count) refuse('FACT_NOT_PROVEN', `the node lists ${end} records, the proven list has ${count} at height ${state.height}`);
  keys.forEach((key, i) => {
    if (state.value(key) !== told.ids[i])
      refuse('FACT_NOT_PROVEN', `the node's record at position ${from + i} is not the proven one (left out, added or reordered)`);
  });
  if (told.next !== null || end === count) return told.next;
  // The node ends the list before the proof does: page on from there (a node that then gives nothing is refused).
  if (told.ids.length === 0) refuse('FACT_NOT_PROVEN', `the node ends the patient's records at ${from}, the proven list has ${count}`);
  return cursorAt(end);
}

/**
 * A page of `GET /v1/patients/:id/records` (`body`, asked with `cursor`) as its patient or a
 * delegate relies on it: no record of another patient, each anchor proven (status and
 * envelopes included), and the page exactly the proven list's entries from the cursor on.
 * Resolves to the records and the cursor to page on. Throws ClientError as
 * checkRecordListPage and provenRecords do.
 */
export async function provenOwnRecordsPage(
  reader: VerifiedReader,
  patient: string,
  cursor: string | undefined,
  body: unknown,
): Promise<Page<RecordMeta>> {
  const answer = objectAt(body, 'answer');
  const told = listedRecords(answer, patient);
  const next = await checkRecordListPage(reader, patient, cursor, {
    ids: told.map((r) => r.record),
    next: nextAt(answer, 'answer'),
    count: answer.count,
  });
  return { items: (await provenRecords(reader, told)).value, next };
}

/** The records a page's `answer` lists for `patient`, parsed; a record of another patient in it is refused (FACT_NOT_PROVEN). */
export function listedRecords(answer: Record<string, unknown>, patient: string): RecordMeta[] {
  const told = arrayAt(answer, 'records', 'answer').map(parseRecordMeta);
  const stranger = told.find((r) => r.patient !== patient);
  if (stranger !== undefined) refuse('FACT_NOT_PROVEN', `the node lists record ${stranger.record} of another patient among ${patient}'s`);
  return told;
}
