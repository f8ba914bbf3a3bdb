// Prescribing (issue 14 item 6, docs/medicines.md): the clinician's one call writes the full FHIR
// MedicationRequest into the patient's encrypted records (sealed to the patient and to every
// grantee in scope: the pharmacy the patient consented to for medications) and puts on chain
// only its hash and the coded fields the dispense rule needs. The CLI and the web app both use
// this, so a prescription reads the same whichever wrote it.
import type { MedLedgerClient } from './api.js';
import { ClientError } from './errors.js';
import { type MedicinesTxResult, medicinesTx } from './medicines.js';

export interface PrescribeOptions {
  patient: string;
  /** The dispensing pharmacy (organization id) the patient chose. */
  pharmacy: string;
  rxnorm: string;
  /** The medication's name as the clinician sees it (kept only in the encrypted resource). */
  display?: string;
  /** Packages per fill, 1–100. */
  quantity: number;
  /** Fills after the first, 0–12 (a controlled substance gets 0). */
  repeats: number;
  /** Minimum days between fills. */
  daysBetween: number;
  /** First and last day the prescription may be filled, `YYYY-MM-DD`; default today and a year on. */
  validFrom?: string;
  validTo?: string;
  /** Dosage instructions in words (kept only in the encrypted resource). */
  instructions?: string;
}

export interface Prescribed extends MedicinesTxResult {
  /** The encrypted MedicationRequest record in the patient's records. */
  recordId: string;
  /** SHA-256 of its ciphertext: the prescription's `requestHash` on chain. */
  requestHash: string;
  validFrom: string;
  validTo: string;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

/** The day before `date`'s anniversary a year on, a UTC calendar date (29 February: 28 February). */
export function oneYearOn(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  // Day 0 of a month is the last day of the month before, so 1 January gives 31 December.
  const next = new Date(Date.UTC(d.getUTCFullYear() + 1, d.getUTCMonth(), d.getUTCDate() - 1));
  return next.toISOString().slice(0, 10);
}

function checked(o: PrescribeOptions): { validFrom: string; validTo: string } {
  const int = (v: number, name: string, max: number) => {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new ClientError('INVALID_ARGUMENT', `${name} must be an integer from 0 to ${max}`);
  };
  int(o.quantity, 'quantity', 100);
  if (o.quantity < 1) throw new ClientError('INVALID_ARGUMENT', 'quantity must be at least 1');
  int(o.repeats, 'repeats', 12);
  int(o.daysBetween, 'daysBetween', 365);
  if (!/^\d{1,10}$/.test(o.rxnorm)) throw new ClientError('INVALID_ARGUMENT', 'rxnorm must be an RxNorm code (digits)');
  const validFrom = o.validFrom ?? new Date().toISOString().slice(0, 10);
  if (!DATE_RE.test(validFrom)) throw new ClientError('INVALID_ARGUMENT', 'validFrom must be a date YYYY-MM-DD');
  const validTo = o.validTo ?? oneYearOn(validFrom);
  if (!DATE_RE.test(validTo) || validTo < validFrom)
    throw new ClientError('INVALID_ARGUMENT', 'validTo must be a date YYYY-MM-DD not before validFrom');
  return { validFrom, validTo };
}

/** The FHIR R4 MedicationRequest a prescription carries (dispenseRequest as issue 14 names it). */
export function medicationRequestOf(
  prescriber: string,
  o: PrescribeOptions,
  validFrom: string,
  validTo: string,
): { resourceType: string; [field: string]: unknown } {
  return {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: {
      coding: [{ system: RXNORM, code: o.rxnorm, ...(o.display === undefined ? {} : { display: o.display }) }],
    },
    subject: { reference: `Patient/${o.patient}` },
    authoredOn: new Date().toISOString().slice(0, 10),
    requester: { reference: `Practitioner/${prescriber}` },
    ...(o.instructions === undefined || o.instructions === '' ? {} : { dosageInstruction: [{ text: o.instructions }] }),
    dispenseRequest: {
      validityPeriod: { start: validFrom, end: validTo },
      numberOfRepeatsAllowed: o.repeats,
      quantity: { value: o.quantity, unit: 'package' },
      dispenseInterval: { value: o.daysBetween, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' },
      performer: { reference: `Organization/${o.pharmacy}` },
    },
  };
}

/**
 * Prescribe: write the MedicationRequest record, then `rx.prescribe` with its hash. Throws
 * ClientError INVALID_ARGUMENT for a bad option, or the chain's code (UNAUTHORIZED for a
 * non-clinician, CONTROLLED_NO_REPEATS, …); if the chain refuses, the written record stays in the
 * patient's records as an unfilled request (it grants nothing: only the chain's prescription dispenses).
 */
export async function prescribe(client: MedLedgerClient, o: PrescribeOptions): Promise<Prescribed> {
  const { validFrom, validTo } = checked(o);
  const resource = medicationRequestOf(client.id, o, validFrom, validTo);
  const written = await client.writeRecord({ patient: o.patient, resource, category: 'medications' });
  const done = await medicinesTx(client, 'rx.prescribe', {
    requestHash: written.contentHash,
    patient: o.patient,
    pharmacy: o.pharmacy,
    rxnorm: o.rxnorm,
    quantity: o.quantity,
    repeats: o.repeats,
    validFrom,
    validTo,
    minIntervalDays: o.daysBetween,
  });
  return { ...done, recordId: written.recordId, requestHash: written.contentHash, validFrom, validTo };
}
