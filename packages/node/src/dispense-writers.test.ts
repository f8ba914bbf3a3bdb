// Which pharmacy staff see a patient's recipient set to seal a dispense record (dispense-writers.ts):
// only while their pharmacy holds a prescription of the patient it can still fill.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Identity, keys, type Prescription } from '@medledger/ehr';
import { dispensesFor } from './dispense-writers.js';

const PATIENT = 'a'.repeat(40);
const PHARMACY = 'b'.repeat(40);
const HOSPITAL = '9'.repeat(40);
const PRESCRIBER = 'd'.repeat(40);
const OTHER_PHARMACY = 'c'.repeat(40);
const day = (iso: string) => Date.parse(`${iso}T12:00:00Z`);

function identity(id: string, role: Identity['role'], extra: Partial<Identity> = {}): Identity {
  return {
    id,
    role,
    publicKey: '1'.repeat(64),
    encryptionKey: '2'.repeat(64),
    registeredAt: { height: 1, time: 0 },
    status: 'active',
    ...extra,
  };
}

function world(rx: Partial<Prescription>, prescriber: Partial<Identity> = {}, hospital: Partial<Identity> = {}) {
  const state = new Map<string, string>();
  const put = (i: Identity) => state.set(keys.identity(i.id), JSON.stringify(i));
  put(identity(HOSPITAL, 'organization', { orgKind: 'hospital', name: 'General Hospital', ...hospital }));
  put(identity(PRESCRIBER, 'clinician', { org: HOSPITAL, name: 'Dr Rx', ...prescriber }));
  put(identity(PHARMACY, 'pharmacy', { orgKind: 'pharmacy', name: 'Corner Pharmacy' }));
  put(identity(OTHER_PHARMACY, 'pharmacy', { orgKind: 'pharmacy', name: 'Other Pharmacy' }));
  const prescription: Prescription = {
    id: 'r'.repeat(32),
    requestHash: '3'.repeat(64),
    patient: PATIENT,
    prescriber: PRESCRIBER,
    pharmacy: PHARMACY,
    rxnorm: '308182',
    quantity: 1,
    repeats: 1,
    fills: 0,
    validFrom: '2026-12-01',
    validTo: '2026-12-31',
    minIntervalDays: 0,
    lastFillTime: null,
    dispensed: [],
    status: 'active',
    controlled: false,
    createdAt: { height: 2, time: day('2026-12-01') },
    ...rx,
  };
  state.set(keys.prescription(prescription.id), JSON.stringify(prescription));
  state.set(keys.rxIndex('p', PATIENT, 2, prescription.id), '');
  const reader = { getState: (k: string) => state.get(k) };
  const store = {
    scanState: (prefix: string, opts: { limit?: number; after?: string } = {}) =>
      [...state.entries()]
        .filter(([k]) => k.startsWith(prefix) && (opts.after === undefined || k > opts.after))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .slice(0, opts.limit ?? Number.MAX_SAFE_INTEGER),
  };
  return { reader, store };
}

const staffOf = (org: string) => identity('e'.repeat(40), 'pharmacy', { org });

test('the holding pharmacy’s staff may seal a dispense record while the prescription can be filled', () => {
  const { reader, store } = world({});
  assert.equal(dispensesFor(reader, store, staffOf(PHARMACY), PATIENT, day('2026-12-10')), true);
  assert.equal(dispensesFor(reader, store, staffOf(PHARMACY), PATIENT, day('2026-12-31')), true, 'its last day');
});

test('another pharmacy, a patient without prescriptions, and a clinician are refused', () => {
  const { reader, store } = world({});
  assert.equal(dispensesFor(reader, store, staffOf(OTHER_PHARMACY), PATIENT, day('2026-12-10')), false);
  assert.equal(dispensesFor(reader, store, staffOf(PHARMACY), 'f'.repeat(40), day('2026-12-10')), false);
  assert.equal(dispensesFor(reader, store, identity('e'.repeat(40), 'clinician', { org: PHARMACY }), PATIENT, day('2026-12-10')), false);
});

test('an expired, not yet valid, used-up or cancelled prescription no longer opens the recipient set', () => {
  assert.equal(dispensesFor(...args(world({}), '2027-01-01')), false, 'after validTo');
  assert.equal(dispensesFor(...args(world({}), '2026-11-30')), false, 'before validFrom');
  assert.equal(dispensesFor(...args(world({ fills: 2 }), '2026-12-10')), false, 'no fills left (1 + 1 repeat)');
  assert.equal(dispensesFor(...args(world({ fills: 1 }), '2026-12-10')), true, 'one fill left');
  assert.equal(dispensesFor(...args(world({ status: 'cancelled' }), '2026-12-10')), false, 'cancelled');
});

test('a prescription whose prescriber was revoked, or whose organization is suspended, no longer opens it', () => {
  assert.equal(dispensesFor(...args(world({}, { status: 'revoked' }), '2026-12-10')), false, 'prescriber revoked');
  assert.equal(dispensesFor(...args(world({}, {}, { status: 'suspended' }), '2026-12-10')), false, 'organization suspended');
});

function args(w: ReturnType<typeof world>, iso: string): Parameters<typeof dispensesFor> {
  return [w.reader, w.store, staffOf(PHARMACY), PATIENT, day(iso)];
}
