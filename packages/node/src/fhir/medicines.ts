// Medicines on the FHIR endpoint (docs/medicines.md "FHIR"): a ledger prescription read as a
// FHIR R4 MedicationRequest (id `rx-<prescription id>`, with dispenseRequest from the chain's
// quantity, repeats, validity and interval), and each fill as a MedicationDispense
// (`rx-<id>-<fill>`) whose authorizingPrescription points back to it. Built from committed
// state; the same people see them as see the prescription (ehr `maySeePrescription`).
import { getPrescription, getProduct, type Identity, maySeePrescription, type Prescription, type StateReader } from '@medledger/ehr';
import { FhirError } from './outcome.js';
import { parsePaging } from './search.js';

type Json = Record<string, unknown>;
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const GTIN_SYSTEM = 'https://www.gs1.org/gtin';
const RX_ID = /^rx-([0-9a-f]{32})$/;
const FILL_ID = /^rx-([0-9a-f]{32})-([1-9][0-9]{0,2})$/;

/** Is `id` a ledger-backed id of this resource type (else it is an ordinary record)? */
export function isLedgerMedicationId(type: string, id: string): boolean {
  return (type === 'MedicationRequest' && RX_ID.test(id)) || (type === 'MedicationDispense' && FILL_ID.test(id));
}

function visiblePrescription(state: StateReader, caller: Identity, id: string): Prescription {
  const rx = getPrescription(state, id);
  if (rx === undefined || !maySeePrescription(state, caller, rx))
    throw new FhirError(404, 'not-found', `no prescription rx-${id}, or it is not yours to see`);
  return rx;
}

const medication = (rxnorm: string) => ({ coding: [{ system: RXNORM, code: rxnorm }] });

/** The MedicationRequest a ledger prescription reads as. */
export function medicationRequestOf(rx: Prescription): Json {
  const used = rx.fills >= 1 + rx.repeats;
  return {
    resourceType: 'MedicationRequest',
    id: `rx-${rx.id}`,
    identifier: [{ system: 'urn:medledger:prescription', value: rx.id }],
    status: rx.status === 'cancelled' ? 'cancelled' : used ? 'completed' : 'active',
    intent: 'order',
    medicationCodeableConcept: medication(rx.rxnorm),
    subject: { reference: `Patient/${rx.patient}` },
    authoredOn: new Date(rx.createdAt.time).toISOString(),
    requester: { reference: `Practitioner/${rx.prescriber}` },
    dispenseRequest: {
      validityPeriod: { start: rx.validFrom, end: rx.validTo },
      numberOfRepeatsAllowed: rx.repeats,
      quantity: { value: rx.quantity, unit: 'package' },
      dispenseInterval: { value: rx.minIntervalDays, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' },
      performer: { reference: `Organization/${rx.pharmacy}` },
    },
    // The full resource (dosage, notes) is the encrypted record whose vault hash this is.
    extension: [{ url: 'urn:medledger:request-hash', valueString: rx.requestHash }],
  };
}

/** Each fill of a prescription as a MedicationDispense, oldest first (fills are the dispenses' heights). */
export function medicationDispensesOf(state: StateReader, rx: Prescription): Json[] {
  const heights = [...new Set(rx.dispensed.map((d) => d.height))].sort((a, b) => a - b);
  return heights.map((height, i) => {
    const items = rx.dispensed.filter((d) => d.height === height);
    const first = items[0] as (typeof items)[number];
    return {
      resourceType: 'MedicationDispense',
      id: `rx-${rx.id}-${i + 1}`,
      status: 'completed',
      medicationCodeableConcept: {
        ...medication(rx.rxnorm),
        ...(getProduct(state, first.gtin) === undefined ? {} : { text: getProduct(state, first.gtin)?.name }),
      },
      subject: { reference: `Patient/${rx.patient}` },
      performer: [{ actor: { reference: `Organization/${rx.pharmacy}` } }],
      authorizingPrescription: [{ reference: `MedicationRequest/rx-${rx.id}` }],
      quantity: { value: items.length, unit: 'package' },
      // The serialized packages handed over (GS1 GTIN, serial, lot).
      identifier: items.map((d) => ({ system: GTIN_SYSTEM, value: `(01)${d.gtin}(21)${d.serial}(10)${d.lot}` })),
      extension: [{ url: 'urn:medledger:block-height', valueInteger: height }],
    };
  });
}

/** Read `MedicationRequest/rx-<id>` or `MedicationDispense/rx-<id>-<n>`. Throws FhirError 404. */
export function readLedgerMedication(state: StateReader, caller: Identity, type: string, id: string): Json {
  if (type === 'MedicationRequest') {
    const m = RX_ID.exec(id) as RegExpExecArray;
    return medicationRequestOf(visiblePrescription(state, caller, m[1] as string));
  }
  const m = FILL_ID.exec(id) as RegExpExecArray;
  const rx = visiblePrescription(state, caller, m[1] as string);
  const fill = medicationDispensesOf(state, rx)[Number(m[2]) - 1];
  if (fill === undefined) throw new FhirError(404, 'not-found', `prescription rx-${rx.id} has no fill ${m[2]}`);
  return fill;
}

const DISPENSE_SEARCH = new Set(['prescription', '_count', '_offset', '_format']);

/**
 * `GET MedicationDispense?prescription=[MedicationRequest/]rx-<id>[&_count=&_offset=]`: the
 * fills of one prescription, oldest first, as a searchset Bundle paged as every search here
 * (`_count` 1–500, default 50; `_offset` a position among the fills) with `total` and
 * self/next/previous links. Any other parameter is refused (400), as elsewhere.
 */
export function searchLedgerDispenses(
  state: StateReader,
  caller: Identity,
  query: Record<string, string | string[] | undefined>,
  base: string,
): Json {
  for (const key of Object.keys(query))
    if (!DISPENSE_SEARCH.has(key))
      throw new FhirError(400, 'not-supported', `MedicationDispense?prescription= supports prescription, _count and _offset, not '${key}'`);
  const prescription = query.prescription;
  if (typeof prescription !== 'string') throw new FhirError(400, 'invalid', 'give one prescription');
  const m = RX_ID.exec(prescription.replace(/^MedicationRequest\//, ''));
  if (m === null) throw new FhirError(400, 'invalid', 'prescription must be MedicationRequest/rx-<prescription id>');
  const { count, offset } = parsePaging(query);
  const fills = medicationDispensesOf(state, visiblePrescription(state, caller, m[1] as string));
  const page = fills.slice(offset, offset + count);
  const linkAt = (at: number) => {
    const params = new URLSearchParams({ prescription: `MedicationRequest/rx-${m[1]}`, _count: String(count), _offset: String(at) });
    return `${base}/MedicationDispense?${params}`;
  };
  const link = [{ relation: 'self', url: linkAt(offset) }];
  if (offset + count < fills.length) link.push({ relation: 'next', url: linkAt(offset + count) });
  if (offset > 0) link.push({ relation: 'previous', url: linkAt(Math.max(0, offset - count)) });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: fills.length,
    link,
    entry: page.map((resource) => ({ fullUrl: `${base}/MedicationDispense/${String(resource.id)}`, resource, search: { mode: 'match' } })),
  };
}
