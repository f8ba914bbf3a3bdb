// Loading records for display: list the metadata the caller may see, then read and decrypt
// each (the node logs every read), keeping what was opened in the session's cache.
import type { Purpose, RecordMeta } from '@medledger/client';
import { type RecordSummary, type ResourceLookup, summarize } from './fhir-view.js';
import type { SignedIn } from './session.js';

/** A record ready to show: its chain metadata and, when it could be opened, its summary. */
export interface ShownRecord {
  meta: RecordMeta;
  resource?: object;
  summary?: RecordSummary;
  /** Why it could not be opened. */
  error?: unknown;
  /** When it happened, else when it was added to the ledger. */
  time: number;
}

export function anchoredTime(meta: RecordMeta): number {
  return (meta.anchoredAt as { time?: number } | undefined)?.time ?? 0;
}

/**
 * Finds an opened resource by its FHIR id among what this session has read, so a panel can
 * show its members (a DiagnosticReport's `result` references them by id).
 */
export function resourceLookup(user: SignedIn): ResourceLookup {
  const byId = new Map<string, object>();
  for (const resource of user.cache.values()) {
    const id = (resource as { id?: unknown }).id;
    if (typeof id === 'string') byId.set(id, resource);
  }
  return (id) => byId.get(id);
}

/** Read one record (cached for the session). Throws ClientError or CryptoError. */
export async function openRecord(user: SignedIn, meta: RecordMeta, purpose?: Purpose): Promise<object> {
  const hit = user.cache.get(meta.record);
  if (hit !== undefined) return hit;
  const { resource } = await user.client.readRecord(meta.record, purpose);
  user.cache.set(meta.record, resource);
  return resource;
}

// A patient imported from a full history has hundreds of records: a few reads at a time.
const READ_CONCURRENCY = 6;

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The records of `patient` the user may see, newest first, opened where possible. Throws ClientError for the list. */
export async function loadRecords(user: SignedIn, patient: string, purpose?: Purpose): Promise<ShownRecord[]> {
  const metas = await user.client.listRecords(patient);
  const shown = await mapLimited(metas, READ_CONCURRENCY, async (meta): Promise<ShownRecord> => {
    if (meta.status === 'erased') return { meta, time: anchoredTime(meta) };
    try {
      const resource = await openRecord(user, meta, purpose);
      return { meta, resource, time: anchoredTime(meta) };
    } catch (error) {
      return { meta, error, time: anchoredTime(meta) };
    }
  });
  // Summaries once everything is open: a panel reads its members from the others.
  const lookup = resourceLookup(user);
  for (const r of shown) {
    if (r.resource === undefined) continue;
    r.summary = summarize(r.resource, lookup);
    r.time = r.summary.when ?? r.time;
  }
  return shown.sort((a, b) => b.time - a.time);
}
