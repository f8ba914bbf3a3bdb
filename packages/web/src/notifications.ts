// The notification centre's notices, derived from what the app already reads and proves
// from the ledger (access events, record anchors, emergency windows, grants). Nothing here
// writes state: `now` (the device clock) only decides what "ends within 7 days" means on
// screen, and "unread" is a mark kept on this device.
import type { AccessEvent, Grant, RecallNotice, RecordMeta } from '@medledger/client';
import { entriesFromEvents, entriesFromRecords, groupByPersonAndDay, type LogGroup } from './access-groups.js';

export type NoticeKind = 'opened' | 'refused' | 'added' | 'emergency' | 'share-ending' | 'recall';

export interface Notice {
  /** Stable across loads, so a notice read stays read. */
  id: string;
  kind: NoticeKind;
  /** When it happened (block time), or when a share entered its last 7 days. */
  at: number;
  /** For grouped events: the group (who, how many, which records). */
  group?: LogGroup;
  /** For share-ending: the grant; for emergency: the window's facts. */
  grant?: Grant;
  emergency?: { window: string; clinician: string; active: boolean; expiresAt: number; records: number };
  /** For recall: the recalled pack dispensed to the patient (proven, client/medicines-notices.ts). */
  recall?: RecallNotice;
}

export const SOON_MS = 7 * 86_400_000;

/** The window fields a notice needs (EmergencyWindow from the SDK has them). */
export interface WindowFacts {
  id: string;
  clinician: string;
  openedAt: { time: number };
  expiresAt: number;
  active: boolean;
  accesses?: ReadonlyArray<Record<string, unknown>>;
}

/** Grants that end within 7 days of `now` (and have not ended), soonest first. */
export function sharesEndingSoon(grants: readonly Grant[], now: number): Grant[] {
  return grants
    .filter((g) => g.active !== false && typeof g.expiresAt === 'number' && g.expiresAt > now && g.expiresAt - now <= SOON_MS)
    .sort((a, b) => (a.expiresAt as number) - (b.expiresAt as number));
}

/** A patient's notices, newest first. */
export function patientNotices(
  input: {
    me: string;
    events: readonly AccessEvent[];
    records: readonly RecordMeta[];
    windows: readonly WindowFacts[];
    grants: readonly Grant[];
    /** Recalled packs dispensed to the patient; one notice each, at the recall's block time. */
    recalls?: readonly RecallNotice[];
  },
  now: number,
): Notice[] {
  const notices: Notice[] = [];
  // Emergency reads are told by their window, once, not as ordinary opens.
  const ordinary = input.events.filter((e) => e.accessor !== input.me && e.emergency !== true);
  const groups = groupByPersonAndDay([...entriesFromEvents(ordinary), ...entriesFromRecords(input.records, input.me)]);
  for (const g of groups) notices.push({ id: `g:${g.key}:${g.entries.length}:${g.times}`, kind: g.kind, at: g.last, group: g });
  for (const w of input.windows)
    notices.push({
      id: `e:${w.id}:${w.active ? 'open' : 'closed'}`,
      kind: 'emergency',
      at: w.openedAt.time,
      emergency: {
        window: w.id,
        clinician: w.clinician,
        active: w.active,
        expiresAt: w.expiresAt,
        records: new Set((w.accesses ?? []).map((a) => a.record)).size,
      },
    });
  for (const r of input.recalls ?? [])
    notices.push({ id: `r:${r.gtin}/${r.serial}:${r.recall.at.height}`, kind: 'recall', at: r.recall.at.time, recall: r });
  notices.push(...endingNotices(input.grants, now));
  return notices.sort((a, b) => b.at - a.at || a.id.localeCompare(b.id));
}

/** A clinician's notices: their shares ending within 7 days. */
export function clinicianNotices(grants: readonly Grant[], now: number): Notice[] {
  return endingNotices(grants, now);
}

function endingNotices(grants: readonly Grant[], now: number): Notice[] {
  return sharesEndingSoon(grants, now).map((g) => ({
    id: `s:${g.id}:${g.expiresAt}`,
    kind: 'share-ending' as const,
    at: (g.expiresAt as number) - SOON_MS,
    grant: g,
  }));
}

const SEEN_KEY = 'medledger.notificationsSeen.';

/** Ids of notices this device has shown as read, for this account. */
export function seenNotices(account: string): Set<string> {
  try {
    const raw = localStorage.getItem(SEEN_KEY + account);
    const ids = raw === null ? [] : (JSON.parse(raw) as unknown);
    return new Set(Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}

/** Mark notices read on this device (kept to the newest 500 ids). */
export function markSeen(account: string, ids: readonly string[]): void {
  const all = [...new Set([...ids, ...seenNotices(account)])].slice(0, 500);
  try {
    localStorage.setItem(SEEN_KEY + account, JSON.stringify(all));
  } catch {
    // Storage full or blocked: notices simply stay unread.
  }
}
