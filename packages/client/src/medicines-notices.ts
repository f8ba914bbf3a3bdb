// Medicines notices on the client (docs/medicines.md): recall notices for a patient, derived
// from the patient's proven prescriptions (the packages dispensed on them) and the proven
// recalls of their lots; illegitimate-product notifications and the verification log for the
// regulator and the partners concerned. Every item is proven against the trusted genesis.
import type { NodeConnection } from './connection.js';
import { listPrescriptions, pageOf } from './medicines.js';
import { medicinesKeys, provenCopies, provenCopiesAt } from './medicines-proven.js';
import { refuse } from './trust.js';

type Json = Record<string, unknown>;
const MAX_PAGES = 1000;

/** One recall notice: a package of a recalled lot that was dispensed to the patient. */
export interface RecallNotice {
  prescription: string;
  gtin: string;
  serial: string;
  lot: string;
  /** Height of the dispense. */
  dispensedAt: number;
  recall: { reason: string; by: string; at: { height: number; time: number } };
}

/**
 * Every recall notice of `patient` (the patient or a delegate asks): for each of the patient's
 * prescriptions, proven, each dispensed package whose lot is recalled in the proven state.
 */
export async function recallNotices(conn: NodeConnection, patient: string): Promise<RecallNotice[]> {
  const reader = conn.verified('showing recall notices');
  const prescriptions: Json[] = [];
  let cursor: string | undefined;
  for (let pages = 0; ; pages++) {
    if (pages === MAX_PAGES) refuse('FACT_NOT_PROVEN', `the node keeps paging ${patient}'s prescriptions past ${MAX_PAGES} pages`);
    const page = await listPrescriptions(conn, { by: 'patients', id: patient, limit: 500, ...(cursor === undefined ? {} : { cursor }) });
    prescriptions.push(...page.items);
    if (page.next === null) break;
    cursor = page.next;
  }
  const dispensed = prescriptions.flatMap((rx) =>
    (Array.isArray(rx.dispensed) ? (rx.dispensed as Array<{ gtin: string; serial: string; lot: string; height: number }>) : []).map(
      (d) => ({
        rx: String(rx.id),
        ...d,
      }),
    ),
  );
  const lots = [...new Set(dispensed.map((d) => medicinesKeys.recall(d.gtin, d.lot)))];
  if (lots.length === 0) return [];
  const state = await reader.read(lots);
  const recalls = new Map<string, RecallNotice['recall']>();
  for (const key of lots) {
    const raw = state.value(key);
    if (raw !== null) {
      const r = JSON.parse(raw) as RecallNotice['recall'];
      recalls.set(key, { reason: r.reason, by: r.by, at: r.at });
    }
  }
  return dispensed.flatMap((d) => {
    const recall = recalls.get(medicinesKeys.recall(d.gtin, d.lot));
    return recall === undefined ? [] : [{ prescription: d.rx, gtin: d.gtin, serial: d.serial, lot: d.lot, dispensedAt: d.height, recall }];
  });
}

/**
 * One page of illegitimate-product notifications the caller may see, each proven; `status`
 * (open, overdue, notified, notified-late, terminated) is recomputed at the proven block's time.
 */
export async function listNotices(conn: NodeConnection, opts: { limit?: number; cursor?: string } = {}) {
  const reader = conn.verified('listing notifications');
  const page = await pageOf(conn, '/v1/notices', 'notices', opts);
  // The node adds `status`; the rest is the stored notification, proven.
  const told = page.items.map(({ status: _status, ...stored }) => ({
    key: medicinesKeys.illegitimateNotice(String(stored.id)),
    value: stored,
  }));
  const proven = await provenCopiesAt(reader, told, 'notification');
  const items: Json[] = proven.items.map((n) => ({ ...n, status: noticeStatusAt(n, proven.time as number) }));
  return { items, next: page.next };
}

/** ehr `noticeStatus`: overdue once 24 hours pass un-notified (medicines-proven.test.ts checks both agree). */
export function noticeStatusAt(n: Json, time: number): string {
  const notifiedAt = n.notifiedAt as { time: number } | null;
  if (n.terminated !== null) return 'terminated';
  if (notifiedAt !== null) return notifiedAt.time > Number(n.notifyBy) ? 'notified-late' : 'notified';
  return time > Number(n.notifyBy) ? 'overdue' : 'open';
}

/** One page of the verification log (the regulator), each entry proven. */
export async function listVerifications(conn: NodeConnection, opts: { limit?: number; cursor?: string } = {}) {
  const reader = conn.verified('reading the verification log');
  const page = await pageOf(conn, '/v1/verifications', 'verifications', opts);
  const told = page.items.map((v) => ({
    key: medicinesKeys.verification(Number(v.height), String(v.id)),
    value: v,
  }));
  return { items: await provenCopies(reader, told, 'verification log entry'), next: page.next };
}
