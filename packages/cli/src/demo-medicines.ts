// The demo's medicines (docs/medicines.md): Acme Pharmaceuticals registers a product for each
// medication the demo patients' Synthea records prescribe, commissions a lot of each, and ships
// it through Cardinal Wholesale to Main Street Pharmacy; the Drug Safety Agency lists
// clonazepam as a controlled substance; Dr Doug Ross prescribes Garrett Thompson's
// amoxicillin/clavulanate to Main Street Pharmacy (the full MedicationRequest an encrypted
// record, sealed to Garrett and to the pharmacy he consented to), ready for the pharmacist.
import { eventTimeNow, MedLedgerClient, medicinesTx, type TrustedGenesis } from '@medledger/client';
import type { KeyBundle } from '@medledger/crypto';

interface DemoProduct {
  rxnorm: string;
  name: string;
  strength: string;
  form: string;
  /** GTIN-14 without its check digit. */
  gtin13: string;
  ndc: string;
}

/** The RxNorm codes of the Synthea fixtures' MedicationRequests. */
const PRODUCTS: DemoProduct[] = [
  {
    rxnorm: '562251',
    name: 'Amoxicillin / Clavulanate',
    strength: '250 mg / 125 mg',
    form: 'oral tablet',
    gtin13: '0030001000001',
    ndc: '30001-001-01',
  },
  {
    rxnorm: '1153378',
    name: 'Clonazepam [Klonopin]',
    strength: '0.5 mg',
    form: 'oral tablet',
    gtin13: '0030001000002',
    ndc: '30001-002-01',
  },
  { rxnorm: '243670', name: 'Aspirin', strength: '81 mg', form: 'oral tablet', gtin13: '0030001000003', ndc: '30001-003-01' },
  { rxnorm: '316049', name: 'Hydrochlorothiazide', strength: '25 mg', form: 'oral tablet', gtin13: '0030001000004', ndc: '30001-004-01' },
];
/** Clonazepam (Schedule IV): listed by the regulator, so it is prescribed without repeats. */
const CONTROLLED = ['1153378'];
const SERIALS_PER_LOT = 6;

/** A GTIN-13 body with its GS1 mod-10 check digit appended (a GTIN-14). */
export function gtinWithCheckDigit(data: string): string {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += Number(data[i]) * ((data.length - i) % 2 === 1 ? 3 : 1);
  return `${data}${(10 - (sum % 10)) % 10}`;
}

export interface MedicinesDemo {
  manufacturer: string;
  wholesaler: string;
  pharmacy: string;
  regulator: string;
  products: Array<{ gtin: string; rxnorm: string; name: string; lot: string; expiry: string; serials: string[] }>;
  /** The active prescription waiting at Main Street Pharmacy, and the patient it is for. */
  prescription: { id: string; patient: string; rxnorm: string };
  /** A package of the prescribed product on the pharmacy's shelf, as its DataMatrix reads. */
  scan: string;
}

type Party = { id: string; keys: KeyBundle };

/** Seed the medicines demo through the node at `url`; every client trusts `genesis`. */
export async function seedMedicinesDemo(opts: {
  url: string;
  genesis: TrustedGenesis;
  manufacturer: Party;
  wholesaler: Party;
  pharmacy: Party;
  regulator: Party;
  prescriber: KeyBundle;
  patient: { id: string; name: string };
  log: (line: string) => void;
}): Promise<MedicinesDemo> {
  const client = (keys: KeyBundle) => new MedLedgerClient({ url: opts.url, keys, genesis: opts.genesis });
  const [maker, wholesaler, pharmacy, regulator] = [opts.manufacturer, opts.wholesaler, opts.pharmacy, opts.regulator].map((p) =>
    client(p.keys),
  ) as [MedLedgerClient, MedLedgerClient, MedLedgerClient, MedLedgerClient];
  await medicinesTx(regulator, 'rx.schedule', { add: CONTROLLED, remove: [] });
  opts.log('Drug Safety Agency listed clonazepam (RxNorm 1153378) as a controlled substance');

  const now = new Date();
  const expiry = `${now.getUTCFullYear() + 2}-12-31`;
  const lotSuffix = now.toISOString().slice(2, 10).replaceAll('-', '');
  const products: MedicinesDemo['products'] = [];
  for (const [i, p] of PRODUCTS.entries()) {
    const gtin = gtinWithCheckDigit(p.gtin13);
    await medicinesTx(maker, 'product.register', { gtin, ndc: p.ndc, name: p.name, strength: p.strength, form: p.form, rxnorm: p.rxnorm });
    const lot = `L${i + 1}-${lotSuffix}`;
    const serials = Array.from({ length: SERIALS_PER_LOT }, (_, k) => `SN${i + 1}${String(k + 1).padStart(4, '0')}`);
    await medicinesTx(maker, 'supply.commission', { gtin, lot, expiry, serials, eventTime: eventTimeNow() });
    products.push({ gtin, rxnorm: p.rxnorm, name: p.name, lot, expiry, serials });
  }
  opts.log(`Acme Pharmaceuticals registered ${products.length} products and commissioned a lot of each`);

  const epcs = products.flatMap((p) => p.serials.map((serial) => ({ gtin: p.gtin, serial })));
  const today = now.toISOString().slice(0, 10);
  const ship = (from: MedLedgerClient, to: string, invoice: string) =>
    medicinesTx(from, 'supply.ship', {
      to,
      epcs,
      eventTime: eventTimeNow(),
      transaction: invoice,
      transactionDate: today,
      statement: true,
    });
  await ship(maker, opts.wholesaler.id, 'ACME-INV-1001');
  await medicinesTx(wholesaler, 'supply.receive', { epcs, eventTime: eventTimeNow() });
  await ship(wholesaler, opts.pharmacy.id, 'CARD-INV-2001');
  await medicinesTx(pharmacy, 'supply.receive', { epcs, eventTime: eventTimeNow() });
  opts.log('shipped the lots Acme → Cardinal Wholesale → Main Street Pharmacy, with DSCSA transaction information');

  // Dr Ross writes the full MedicationRequest into Garrett's encrypted records (sealed to him and
  // to Main Street Pharmacy, which he consented to for medications); the chain holds its hash.
  const amox = products[0] as MedicinesDemo['products'][number];
  const validTo = `${now.getUTCFullYear() + 1}-12-31`;
  const doctor = client(opts.prescriber);
  const request = {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: {
      coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: amox.rxnorm, display: amox.name }],
    },
    subject: { reference: `Patient/${opts.patient.id}` },
    authoredOn: today,
    requester: { reference: `Practitioner/${doctor.id}` },
    dispenseRequest: {
      validityPeriod: { start: today, end: validTo },
      numberOfRepeatsAllowed: 1,
      quantity: { value: 1, unit: 'package' },
      dispenseInterval: { value: 7, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' },
      performer: { reference: `Organization/${opts.pharmacy.id}` },
    },
  };
  const written = await doctor.writeRecord({ patient: opts.patient.id, resource: request, category: 'medications' });
  const rx = await medicinesTx(doctor, 'rx.prescribe', {
    requestHash: written.contentHash,
    patient: opts.patient.id,
    pharmacy: opts.pharmacy.id,
    rxnorm: amox.rxnorm,
    quantity: 1,
    repeats: 1,
    validFrom: today,
    validTo,
    minIntervalDays: 7,
  });
  opts.log(`Dr Doug Ross prescribed ${amox.name} for ${opts.patient.name} to Main Street Pharmacy: prescription ${rx.id}`);
  const yymmdd = `${expiry.slice(2, 4)}${expiry.slice(5, 7)}${expiry.slice(8, 10)}`;
  return {
    manufacturer: opts.manufacturer.id,
    wholesaler: opts.wholesaler.id,
    pharmacy: opts.pharmacy.id,
    regulator: opts.regulator.id,
    products,
    prescription: { id: rx.id, patient: opts.patient.id, rxnorm: amox.rxnorm },
    scan: `(01)${amox.gtin}(21)${amox.serials[0]}(10)${amox.lot}(17)${yymmdd}`,
  };
}
