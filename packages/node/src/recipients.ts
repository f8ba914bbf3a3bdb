// Who a new record must be sealed to (docs/records.md "Who a record is sealed to"): the
// patient, the patient's emergency key, every accepted delegate, and every active grantee
// whose grant covers it. One list for the /v1 recipients route and the FHIR endpoint's writes.
import { EMERGENCY_RECIPIENT, getIdentity, type RecordTarget, requiredRecipients } from '@medledger/ehr';
import type { RouteDeps } from './route-deps.js';

export interface Recipient {
  to: string;
  encryptionKey: string;
  why: 'patient' | 'emergency' | 'delegate' | 'grantee';
}

const SCAN_PAGE = 5_000;

/** Every key/value under `prefix` in committed state, page by page. */
export function scanAllState(node: RouteDeps, prefix: string): Array<[string, string]> {
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
export function idsUnder(node: RouteDeps, prefix: string): string[] {
  return scanAllState(node, prefix).map(([k]) => k.slice(k.lastIndexOf('/') + 1));
}

/**
 * The recipients of a new record of `target` for `patientId` other than its author, each
 * once, judged at the node's access time by the ledger's own rule (ehr `requiredRecipients`),
 * so what a writer is told and what record.anchor requires agree; empty when `patientId` is
 * not a registered identity. A recipient's key comes from its committed identity.
 */
export function recordRecipients(node: RouteDeps, patientId: string, target: RecordTarget): Recipient[] {
  const state = node.chain.state;
  const patient = getIdentity(state, patientId);
  if (patient === undefined) return [];
  return requiredRecipients(state, patient, target, node.accessTime()).map(({ to, why }) => ({
    to,
    why: why as Recipient['why'],
    encryptionKey: to === EMERGENCY_RECIPIENT ? (patient.emergencyKey as string) : (getIdentity(state, to)?.encryptionKey as string),
  }));
}
