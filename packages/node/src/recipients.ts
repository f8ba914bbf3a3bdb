// Who a new record must be sealed to (docs/records.md "Records"): the patient, the patient's
// emergency key, every active delegate, and every active grantee whose grant covers it. One
// list for the /v1 recipients route and for the FHIR endpoint's own writes.
import {
  EMERGENCY_RECIPIENT,
  getIdentity,
  grantCoversRecord,
  grantIsActive,
  grantsFrom,
  prefixes,
  type RecordTarget,
} from '@medledger/ehr';
import type { MedLedgerNode } from './node.js';

export interface Recipient {
  to: string;
  encryptionKey: string;
  why: 'patient' | 'emergency' | 'delegate' | 'grantee';
}

const SCAN_PAGE = 5_000;

/** Every key/value under `prefix` in committed state, page by page. */
export function scanAllState(node: MedLedgerNode, prefix: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let after: string | undefined;
  for (;;) {
    const page = node.chain.store.scanState(prefix, after === undefined ? { limit: SCAN_PAGE } : { limit: SCAN_PAGE, after });
    out.push(...page);
    if (page.length < SCAN_PAGE) return out;
    after = page[page.length - 1]?.[0];
  }
}

/** The last path segment of each key under `prefix` (ids kept in index keys). */
export function idsUnder(node: MedLedgerNode, prefix: string): string[] {
  return scanAllState(node, prefix).map(([k]) => k.slice(k.lastIndexOf('/') + 1));
}

/**
 * The recipients of a new record of `target` for `patientId`, each once, judged at the node's
 * access time; empty when `patientId` is not a registered identity.
 */
export function recordRecipients(node: MedLedgerNode, patientId: string, target: RecordTarget): Recipient[] {
  const state = node.chain.state;
  const patient = getIdentity(state, patientId);
  if (patient === undefined) return [];
  const time = node.accessTime();
  const out = new Map<string, Recipient>();
  const add = (r: Recipient) => {
    if (!out.has(r.to)) out.set(r.to, r);
  };
  add({ to: patient.id, encryptionKey: patient.encryptionKey, why: 'patient' });
  if (patient.emergencyKey !== undefined) add({ to: EMERGENCY_RECIPIENT, encryptionKey: patient.emergencyKey, why: 'emergency' });
  for (const id of idsUnder(node, prefixes.delegates(patientId))) {
    const d = getIdentity(state, id);
    if (d?.status === 'active') add({ to: d.id, encryptionKey: d.encryptionKey, why: 'delegate' });
  }
  for (const granteeId of idsUnder(node, prefixes.grantsOfPatient(patientId))) {
    const covering = grantsFrom(state, patientId, [granteeId]).some((g) => grantIsActive(g, time) && grantCoversRecord(g, target));
    const g = getIdentity(state, granteeId);
    if (covering && g?.status === 'active') add({ to: g.id, encryptionKey: g.encryptionKey, why: 'grantee' });
  }
  return [...out.values()];
}
