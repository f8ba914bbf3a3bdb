// Who writes a MedicationDispense record besides those with write consent (docs/medicines.md
// "The dispense record"): the staff of a pharmacy holding an active prescription of the
// patient, since `medication.dispense` anchors their record of the fill (ehr medicines/rx.ts).
// They need the patient's recipient set (the recipients route and its state proofs), and only
// for that record; the chain decides the dispense itself. One decision for both routes.
import { getPrescription, type Identity, partnerOf, prefixes, type StateReader } from '@medledger/ehr';

const SCAN_PAGE = 200;

/** The committed-state scan this needs (NodeStore.scanState). */
export interface StateScan {
  scanState(prefix: string, opts?: { limit?: number; after?: string }): Array<[string, string]>;
}

/** True when `caller` is pharmacy staff whose pharmacy holds an active prescription of `patient`. */
export function dispensesFor(state: StateReader, store: StateScan, caller: Identity, patient: string): boolean {
  const pharmacy = caller.role === 'pharmacy' ? partnerOf(state, caller) : undefined;
  if (pharmacy?.kind !== 'dispenser') return false;
  const prefix = prefixes.rxIndex('p', patient);
  let after: string | undefined;
  for (;;) {
    const batch = store.scanState(prefix, { limit: SCAN_PAGE, ...(after === undefined ? {} : { after }) });
    for (const [key] of batch) {
      const rx = getPrescription(state, key.slice(key.lastIndexOf('/') + 1));
      if (rx?.status === 'active' && rx.pharmacy === pharmacy.org) return true;
      after = key;
    }
    if (batch.length < SCAN_PAGE) return false;
  }
}
