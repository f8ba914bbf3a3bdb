// The dispense (issue 14 item 7, docs/medicines.md): the pharmacist's one call writes the FHIR R4
// MedicationDispense of the fill into the patient's encrypted records and submits it with
// `medication.dispense`, whose one rule checks the prescription and every pack and anchors the
// record in the same transaction. So the patient sees what was dispensed (packs, serials, lots,
// expiry, pharmacy) in their own records, sealed like any record of theirs. The CLI and the web
// app both use this.
import type { MedLedgerClient } from './api.js';
import { txHash } from './canonical.js';
import { ClientError, hasClientCode } from './errors.js';
import { type DispenseItem, getPrescription, getProduct, type MedicinesTxResult } from './medicines.js';
import { provenIdentity } from './proven-facts.js';

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
/** The system the ledger's derived MedicationDispense names packs by (node fhir/medicines.ts). */
export const GS1_PACK_SYSTEM = 'https://www.gs1.org/gtin';

/** A pack as a GS1 element string: GTIN (01), serial (21), lot (10), expiry (17, YYMMDD). */
export function packElementString(item: DispenseItem): string {
  const yymmdd = `${item.expiry.slice(2, 4)}${item.expiry.slice(5, 7)}${item.expiry.slice(8, 10)}`;
  return `(01)${item.gtin}(21)${item.serial}(10)${item.lot}(17)${yymmdd}`;
}

/**
 * The FHIR R4 MedicationDispense of one fill: the prescribed RxNorm medication, the patient,
 * the pharmacy and its pharmacist as performers, `authorizingPrescription` (the ledger's
 * MedicationRequest `rx-<id>`), the packs as GS1 identifiers, and each pack's lot and expiry
 * as a contained Medication `batch`.
 */
export function medicationDispenseOf(o: {
  rx: { id: string; patient: string; pharmacy: string; rxnorm: string };
  /** The product's and the pharmacy's names, as the patient reads them. */
  productName?: string;
  pharmacyName?: string;
  pharmacist: string;
  items: DispenseItem[];
  handedOver: string;
}): { resourceType: string; [field: string]: unknown } {
  const coding = [{ system: RXNORM, code: o.rx.rxnorm, ...(o.productName === undefined ? {} : { display: o.productName }) }];
  return {
    resourceType: 'MedicationDispense',
    status: 'completed',
    contained: o.items.map((item, i) => ({
      resourceType: 'Medication',
      id: `pack${i + 1}`,
      code: { coding: [...coding, { system: GS1_PACK_SYSTEM, code: item.gtin }] },
      batch: { lotNumber: item.lot, expirationDate: item.expiry },
    })),
    medicationCodeableConcept: { coding, ...(o.productName === undefined ? {} : { text: o.productName }) },
    subject: { reference: `Patient/${o.rx.patient}` },
    performer: [
      { actor: { reference: `Organization/${o.rx.pharmacy}`, ...(o.pharmacyName === undefined ? {} : { display: o.pharmacyName }) } },
      { actor: { reference: `Practitioner/${o.pharmacist}` } },
    ],
    authorizingPrescription: [{ reference: `MedicationRequest/rx-${o.rx.id}` }],
    quantity: { value: o.items.length, unit: 'package' },
    whenHandedOver: o.handedOver,
    identifier: o.items.map((item) => ({ system: GS1_PACK_SYSTEM, value: packElementString(item) })),
    // Each contained pack is named from the dispense (FHIR dom-3: contained resources are referenced).
    extension: o.items.map((_, i) => ({ url: 'urn:medledger:dispensed-pack', valueReference: { reference: `#pack${i + 1}` } })),
  };
}

export interface Dispensed extends MedicinesTxResult {
  /** The MedicationDispense record now in the patient's encrypted records. */
  recordId: string;
}

/**
 * Dispense packs against a prescription: read the prescription (proven against the trusted
 * genesis: its patient and product are what the record says), write the MedicationDispense
 * record and submit `medication.dispense` carrying it. Throws ClientError: INVALID_ARGUMENT for
 * no packs, a TrustErrorCode, or the chain's refusal (NOT_VERIFIED, TOO_EARLY, NOT_HOLDER, …);
 * a refused dispense anchors no record (the uploaded ciphertext expires unanchored).
 */
export async function dispense(client: MedLedgerClient, o: { rx: string; items: DispenseItem[] }): Promise<Dispensed> {
  if (o.items.length === 0) throw new ClientError('INVALID_ARGUMENT', 'give the dispensed packs');
  const rx = await getPrescription(client, o.rx).catch((err: unknown) => {
    // Only the pharmacy holding a prescription sees it (and its patient, whom the record is for):
    // to any other pharmacy the chain's answer would be NOT_HOLDER, so that is the reason given.
    if (hasClientCode(err, 'NOT_FOUND'))
      throw new ClientError(
        'NOT_HOLDER',
        `prescription ${o.rx} is not held by your pharmacy (or does not exist): only the pharmacy holding it dispenses it`,
        403,
      );
    throw err;
  });
  const facts = { id: String(rx.id), patient: String(rx.patient), pharmacy: String(rx.pharmacy), rxnorm: String(rx.rxnorm) };
  const product = await getProduct(client, (o.items[0] as DispenseItem).gtin);
  const pharmacy = await provenIdentity(client.verified('naming the pharmacy'), facts.pharmacy);
  const resource = medicationDispenseOf({
    rx: facts,
    productName: typeof product.name === 'string' ? product.name : undefined,
    pharmacyName: typeof pharmacy.value.name === 'string' ? pharmacy.value.name : undefined,
    pharmacist: client.id,
    items: o.items,
    handedOver: new Date().toISOString(),
  });
  const written = await client.sealAndAnchor({ patient: facts.patient, resource, category: 'medications' }, (anchor) =>
    client.submitAndWait('medication.dispense', {
      rx: o.rx,
      items: o.items,
      record: { record: anchor.record, contentHash: anchor.contentHash, size: anchor.size, envelopes: anchor.envelopes },
    }),
  );
  const done = written.done;
  return { id: txHash(done.tx).slice(0, 32), txHash: done.hash, height: done.height, recordId: written.recordId };
}
