// The access log as people read it: "Dr Grey opened 12 records on Dec 4", one line per
// person, day and kind of event, instead of one card per read (a clinician browsing a list
// of 75 records is one line that counts them). Records a clinician added, on chain as their
// `record.anchor` with its author and block time, are events of their own. Pure functions;
// the day is the viewer's local day (display only, never state).
import type { AccessEvent, RecordMeta } from '@medledger/client';

export type LogKind = 'opened' | 'refused' | 'added';

/** One thing that happened to one record. */
export interface LogEntry {
  kind: LogKind;
  /** The accessor or author id; null for someone who was not signed in. */
  who: string | null;
  record: string | null;
  /** How many times (a folded refusal stands for many). */
  times: number;
  at: number;
  /** The latest time, for a folded refusal. */
  last: number;
  purpose: string | null;
  reason: string | null;
  emergency: boolean;
}

/** Everything one person did of one kind on one day. */
export interface LogGroup {
  key: string;
  kind: LogKind;
  who: string | null;
  emergency: boolean;
  /** Local midnight of the day, ms. */
  day: number;
  first: number;
  last: number;
  entries: LogEntry[];
  /** Distinct records (an unknown record counts once per entry). */
  records: number;
  /** Total times, counting folded refusals. */
  times: number;
  reasons: string[];
  purposes: string[];
}

export function entriesFromEvents(events: readonly AccessEvent[]): LogEntry[] {
  return events.map((e) => {
    const times = typeof e.count === 'number' && e.count > 1 ? e.count : 1;
    return {
      kind: e.decision === 'allowed' ? 'opened' : 'refused',
      who: e.accessor,
      record: e.record,
      times,
      at: e.at,
      last: times > 1 && e.last !== undefined ? e.last.time : e.at,
      purpose: e.purpose,
      reason: e.decision === 'allowed' ? null : e.reason,
      emergency: e.emergency === true,
    };
  });
}

/** Records someone other than the patient wrote: each is an "added" event at its block time. */
export function entriesFromRecords(metas: readonly RecordMeta[], patient: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const m of metas) {
    const author = typeof m.author === 'string' ? m.author : undefined;
    const time = (m.anchoredAt as { time?: number } | undefined)?.time;
    if (author === undefined || author === patient || time === undefined) continue;
    out.push({
      kind: 'added',
      who: author,
      record: m.record,
      times: 1,
      at: time,
      last: time,
      purpose: null,
      reason: null,
      emergency: false,
    });
  }
  return out;
}

function localDay(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** Group by person, local day, kind and emergency; newest group first, entries newest first. */
export function groupByPersonAndDay(entries: readonly LogEntry[]): LogGroup[] {
  const groups = new Map<string, LogGroup>();
  for (const e of entries) {
    const day = localDay(e.at);
    const key = `${e.kind}|${e.who ?? '-'}|${day}|${e.emergency ? 'e' : ''}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        key,
        kind: e.kind,
        who: e.who,
        emergency: e.emergency,
        day,
        first: e.at,
        last: e.last,
        entries: [],
        records: 0,
        times: 0,
        reasons: [],
        purposes: [],
      };
      groups.set(key, g);
    }
    g.entries.push(e);
    g.first = Math.min(g.first, e.at);
    g.last = Math.max(g.last, e.last);
    g.times += e.times;
    if (e.reason !== null && !g.reasons.includes(e.reason)) g.reasons.push(e.reason);
    if (e.purpose !== null && !g.purposes.includes(e.purpose)) g.purposes.push(e.purpose);
  }
  const out = [...groups.values()];
  for (const g of out) {
    g.entries.sort((a, b) => b.at - a.at);
    const known = new Set(g.entries.map((e) => e.record).filter((r) => r !== null));
    g.records = known.size + g.entries.filter((e) => e.record === null).length;
    g.reasons.sort();
    g.purposes.sort();
  }
  return out.sort((a, b) => b.last - a.last || a.key.localeCompare(b.key));
}

/** "opened 12 records", "tried to open a record — 300 times", "added 2 records". */
export function groupVerb(g: LogGroup, oneRecordName: string): string {
  const what = g.records === 1 ? `a record: ${oneRecordName}` : `${g.records} records`;
  const verb = g.kind === 'opened' ? 'opened' : g.kind === 'refused' ? 'tried to open' : 'added';
  const extra = g.times > g.records ? ` — ${g.times} times` : '';
  return `${verb} ${what}${extra}`;
}

/** More emergency reads than this are summarised, the list behind a disclosure. */
export const READS_INLINE = 5;

/**
 * An emergency window's reads in one line when there are many: how many records, how many
 * reads, first and last time; undefined when they are few enough to list.
 */
export function readsSummary(
  accesses: ReadonlyArray<{ record?: unknown; at?: unknown }>,
): { records: number; reads: number; first?: number; last?: number } | undefined {
  if (accesses.length <= READS_INLINE) return undefined;
  const times = accesses.map((a) => a.at).filter((t): t is number => typeof t === 'number');
  return {
    records: new Set(accesses.map((a) => a.record)).size,
    reads: accesses.length,
    ...(times.length > 0 ? { first: Math.min(...times), last: Math.max(...times) } : {}),
  };
}
