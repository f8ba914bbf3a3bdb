// The medicines test world shared by the medicines rule tests: a genesis with a manufacturer,
// a wholesaler, two pharmacies, a regulator and a hospital, a block driver, and stock on the shelf.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey, toHex } from '@medledger/crypto';
import { type Genesis, type SignedTx, signTx, type TxResult, txHash } from '@medledger/ledger';
import { EhrApp, initChain } from '../app.js';
import { MemoryCommittedState } from '../committed.js';
import type { StateWrite } from '../state.js';

export const CHAIN = 'medicines-test';
export const T0 = Date.parse('2026-01-10T00:00:00Z');

export function actor() {
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  let nonce = 0;
  return {
    signing,
    encryption,
    id: idFromPublicKey(signing.publicKey),
    tx: (kind: string, body: Record<string, unknown>): SignedTx =>
      signTx({ v: 1, chain: CHAIN, kind, signer: signing.publicKey, nonce: nonce++, body }, signing.privateKey),
  };
}
export const idOf = (tx: SignedTx) => txHash(tx).slice(0, 32);

/** Append the GS1 mod-10 check digit to `data` (13 digits for a GTIN-14, 17 for an SSCC). */
export function withCheck(data: string): string {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += Number(data[i]) * ((data.length - i) % 2 === 1 ? 3 : 1);
  return `${data}${(10 - (sum % 10)) % 10}`;
}
export const GTIN = withCheck('0036000291452'.slice(0, 13));
export const OTHER_GTIN = withCheck('0030000000017'.slice(0, 13));
export const CASE = withCheck('00361414100000001');
export const RXNORM = '197361';

export function world() {
  const [maker, wholesaler, pharmA, pharmB, regulator, hospital, validator, maker2] = Array.from({ length: 8 }, actor);
  const org = (name: string, kind: string, a: ReturnType<typeof actor>) => ({
    name,
    kind,
    adminKey: a.signing.publicKey,
    adminEncryptionKey: a.encryption.publicKey,
  });
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: T0,
    validators: [{ name: 'v0', publicKey: validator.signing.publicKey, encryptionKey: validator.encryption.publicKey, power: 1 }],
    organizations: [
      org('Acme Pharma', 'manufacturer', maker),
      org('Big Wholesale', 'distributor', wholesaler),
      org('Corner Pharmacy', 'pharmacy', pharmA),
      org('Other Pharmacy', 'pharmacy', pharmB),
      org('Drug Agency', 'regulator', regulator),
      org('Beta Pharma', 'manufacturer', maker2),
      org('General Hospital', 'hospital', hospital),
    ],
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
  };
  const state = new MemoryCommittedState();
  state.apply(initChain(genesis));
  const app = new EhrApp(CHAIN, state);
  let height = 0;
  let now = T0;
  const log: Array<{ time: number; txs: SignedTx[] }> = [];
  const writes: StateWrite[][] = [];
  /** Each block's results (code and reason), in order. */
  const results: TxResult[][] = [];
  const block = (txs: SignedTx[], advanceMs = 1000): string[] => {
    height += 1;
    now += advanceMs;
    log.push({ time: now, txs });
    const exec = app.finalizeBlock({ height, time: now, txs });
    writes.push(exec.writes);
    results.push(exec.results);
    state.apply(exec);
    app.commit();
    return exec.results.map((r) => r.code);
  };
  const [doctor, pharmacistA, pharmacistB, patient] = Array.from({ length: 4 }, actor);
  const staff = (a: ReturnType<typeof actor>, role: string) => ({
    publicKey: a.signing.publicKey,
    encryptionKey: a.encryption.publicKey,
    role,
  });
  assert.deepEqual(
    block([
      patient.tx('identity.register', { role: 'patient', encryptionKey: patient.encryption.publicKey }),
      hospital.tx('staff.register', staff(doctor, 'clinician')),
      pharmA.tx('staff.register', staff(pharmacistA, 'pharmacy')),
      pharmB.tx('staff.register', staff(pharmacistB, 'pharmacy')),
      // The patient lets the doctor write their MedicationRequests (rx.prescribe needs it); only
      // that resource type, so a dispense's MedicationDispense is not sealed to the doctor.
      patient.tx('consent.grant', {
        patient: patient.id,
        grantee: doctor.id,
        scope: { resourceTypes: ['MedicationRequest'] },
        access: 'read-write',
        purpose: 'treatment',
      }),
    ]),
    ['ok', 'ok', 'ok', 'ok', 'ok'],
  );
  const iso = () => new Date(now).toISOString();
  return {
    state,
    block,
    log,
    writes,
    results,
    genesis,
    maker,
    maker2,
    wholesaler,
    pharmA,
    pharmB,
    regulator,
    hospital,
    doctor,
    pharmacistA,
    pharmacistB,
    patient,
    iso,
    now: () => now,
  };
}
export type World = ReturnType<typeof world>;

export const product = (gtin = GTIN, rxnorm = RXNORM) => ({
  gtin,
  ndc: '12345-678-90',
  name: 'Amoxicillin',
  strength: '500 mg',
  form: 'capsule',
  rxnorm,
});
export const pkg = (serial: string, lot = 'L1', expiry = '2027-12-31') => ({ gtin: GTIN, serial, lot, expiry });

/**
 * Product registered (`registration`, by default with every detail), serials S1–S4 (lot L1)
 * commissioned; S1, S2 packed in CASE; all shipped to pharmacy A via the wholesaler.
 */
export function stocked(w: World, registration: Record<string, unknown> = product()) {
  assert.deepEqual(w.block([w.maker.tx('product.register', registration)]), ['ok']);
  assert.deepEqual(
    w.block([
      w.maker.tx('supply.commission', {
        gtin: GTIN,
        lot: 'L1',
        expiry: '2027-12-31',
        serials: ['S1', 'S2', 'S3', 'S4'],
        eventTime: w.iso(),
      }),
    ]),
    ['ok'],
  );
  assert.deepEqual(
    w.block([
      w.maker.tx('supply.pack', {
        sscc: CASE,
        epcs: [
          { gtin: GTIN, serial: 'S1' },
          { gtin: GTIN, serial: 'S2' },
        ],
        eventTime: w.iso(),
      }),
    ]),
    ['ok'],
  );
  const ship = (from: ReturnType<typeof actor>, to: string, n: string) =>
    from.tx('supply.ship', {
      to,
      cases: [CASE],
      epcs: [
        { gtin: GTIN, serial: 'S3' },
        { gtin: GTIN, serial: 'S4' },
      ],
      eventTime: w.iso(),
      transaction: `INV-${n}`,
      transactionDate: '2026-01-10',
      statement: true,
    });
  const receive = (by: ReturnType<typeof actor>) =>
    by.tx('supply.receive', {
      cases: [CASE],
      epcs: [
        { gtin: GTIN, serial: 'S3' },
        { gtin: GTIN, serial: 'S4' },
      ],
      eventTime: w.iso(),
    });
  assert.deepEqual(w.block([ship(w.maker, w.wholesaler.id, '1')]), ['ok']);
  assert.deepEqual(w.block([receive(w.wholesaler)]), ['ok']);
  assert.deepEqual(w.block([ship(w.wholesaler, w.pharmA.id, '2')]), ['ok']);
  assert.deepEqual(w.block([receive(w.pharmA)]), ['ok']);
}

export const rxBody = (w: World, extra: Record<string, unknown> = {}) => ({
  requestHash: toHex(randomBytes(32)),
  patient: w.patient.id,
  pharmacy: w.pharmA.id,
  rxnorm: RXNORM,
  quantity: 1,
  repeats: 1,
  validFrom: '2026-01-01',
  validTo: '2026-12-31',
  minIntervalDays: 28,
  ...extra,
});
export const prescribe = (w: World, extra: Record<string, unknown> = {}) => w.doctor.tx('rx.prescribe', rxBody(w, extra));
/**
 * The anchor fields of the MedicationDispense record a dispense writes: sealed to the patient
 * and the author, the recipients of a patient with no grants or emergency key. Hashes are
 * random (the rules check who the envelopes are for, not the vault's objects).
 */
export const dispenseRecord = (patient: string, author: string, to: string[] = [patient, author]) => ({
  record: toHex(randomBytes(16)),
  contentHash: toHex(randomBytes(32)),
  size: 200,
  envelopes: to.map((t) => ({ to: t, hash: toHex(randomBytes(32)) })),
});
export const dispense = (by: ReturnType<typeof actor>, rx: SignedTx, items: unknown[], record?: Record<string, unknown>) =>
  by.tx('medication.dispense', {
    rx: idOf(rx),
    items,
    record: record ?? dispenseRecord(String((rx.body as { patient: string }).patient), by.id),
  });
