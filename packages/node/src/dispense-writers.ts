// Who writes a MedicationDispense record besides those with write consent (docs/medicines.md
// "The dispense record"): the staff of a pharmacy holding a prescription of the patient it can
// still fill (active, within its dates, fills left), since `medication.dispense` anchors their
// record of the fill (ehr medicines/rx.ts).
// They need the patient's recipient set (the recipients route and its state proofs), and only
// for that record; the chain decides the dispense itself. One decision for both routes.
import {
  dateOf,
  getPrescription,
  type Identity,
  type Prescription,
  partnerOf,
  prefixes,
  prescriberLapsed,
  type StateReader,
} from '@medledger/ehr';

const SCAN_PAGE = 200;

/** The committed-state scan this needs (NodeStore.scanState). */
export interface StateScan {
  scanState(prefix: string, opts?: { limit?: number; after?: string }): Array<[string, string]>;
}

/**
 * Whether `rx` can still be dispensed on `day` (YYYY-MM-DD): what medication.dispense checks
 * of the prescription itself (its prescriber still active included), without the interval
 * since the last fill, which only delays.
 */
function fillable(state: StateReader, rx: Prescription, day: string): boolean {
  return (
    rx.status === 'active' &&
    day >= rx.validFrom &&
    day <= rx.validTo &&
    rx.fills < 1 + rx.repeats &&
    prescriberLapsed(state, rx) === undefined
  );
}

/**
 * True when `caller` is pharmacy staff whose pharmacy holds a prescription of `patient` it can
 * still fill at `time` (ms; the read's access time): an expired or used-up prescription no
 * longer shows the pharmacy whom the patient shares records with.
 */
export function dispensesFor(state: StateReader, store: StateScan, caller: Identity, patient: string, time: number): boolean {
  const pharmacy = caller.role === 'pharmacy' ? partnerOf(state, caller) : undefined;
  if (pharmacy?.kind !== 'dispenser') return false;
  const day = dateOf(time);
  const prefix = prefixes.rxIndex('p', patient);
  let after: string | undefined;
  for (;;) {
    const batch = store.scanState(prefix, { limit: SCAN_PAGE, ...(after === undefined ? {} : { after }) });
    for (const [key] of batch) {
      const rx = getPrescription(state, key.slice(key.lastIndexOf('/') + 1));
      if (rx !== undefined && rx.pharmacy === pharmacy.org && fillable(state, rx, day)) return true;
      after = key;
    }
    if (batch.length < SCAN_PAGE) return false;
  }
}
