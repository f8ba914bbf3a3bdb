// The notification centre's notices, derived from what the app already reads and proves
// from the ledger (access events, record anchors, emergency windows, grants). Nothing here
// writes state: `now` (the device clock) only decides what "ends within 7 days" means on
// screen, and "unread" is a mark kept on this device.
import type { AccessEvent, Grant, RecallNotice, RecordMeta } from '@medledger/client';
import { fromHex, sha256, toHex, utf8 } from '@medledger/crypto';
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

/**
 * The read marks are kept in plain local storage, which outlives sign-out and (in a copy
 * opened as a file) every local HTML file can read. A notice id names who opened the
 * patient's records on which day, emergency windows, and the GTIN and serial of a recalled
 * medicine the patient was given: patient data. So the device keeps only an HMAC-SHA-256 of
 * each id under a key derived from the account's secret encryption key, which exists only
 * while signed in: without it the marks say nothing (nor can the ids be guessed and tried).
 */
export function seenKey(encryptionPrivateKeyHex: string): Uint8Array {
  return sha256(utf8('medledger/notifications-seen/v1'), fromHex(encryptionPrivateKeyHex, 'encryption private key', 32));
}

const BLOCK = 64;

/** HMAC-SHA-256 (RFC 2104) of `id` under a 32-byte key, hex, first 128 bits. */
function markOf(key: Uint8Array, id: string): string {
  const pad = (b: number) => Uint8Array.from({ length: BLOCK }, (_, i) => (key[i] ?? 0) ^ b);
  return toHex(sha256(pad(0x5c), sha256(pad(0x36), utf8(id)))).slice(0, 32);
}

const MARK = /^[0-9a-f]{32}$/;

function storedMarks(account: string): string[] {
  const raw = localStorage.getItem(SEEN_KEY + account);
  const ids = raw === null ? [] : (JSON.parse(raw) as unknown);
  const all = Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
  const marks = all.filter((x) => MARK.test(x));
  // Marks written in the clear by earlier versions are erased, not kept beside the new ones.
  if (marks.length !== all.length) localStorage.setItem(SEEN_KEY + account, JSON.stringify(marks));
  return marks;
}

/** Whether this device has shown a notice as read, for this account (`key`: seenKey of its secret). */
export function seenNotices(account: string, key: Uint8Array): (id: string) => boolean {
  let marks: Set<string>;
  try {
    marks = new Set(storedMarks(account));
  } catch {
    marks = new Set();
  }
  return (id) => marks.has(markOf(key, id));
}

/** Mark notices read on this device (kept to the newest 500 marks). */
export function markSeen(account: string, key: Uint8Array, ids: readonly string[]): void {
  try {
    const all = [...new Set([...ids.map((id) => markOf(key, id)), ...storedMarks(account)])].slice(0, 500);
    localStorage.setItem(SEEN_KEY + account, JSON.stringify(all));
  } catch {
    // Storage full or blocked: notices simply stay unread.
  }
}
