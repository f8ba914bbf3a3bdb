// Issue 14 item 5: the chain may not tell who was given a pack. On a real node over HTTP, after a
// pack is dispensed against a prescription, no one but the prescription's parties (the patient,
// the prescriber, the pharmacy) and the validators can follow the pack's serial to the prescription
// or the patient: not the manufacturer, the wholesaler, another pharmacy, the regulator, another
// patient or an anonymous caller, through packages, events, verification, state proofs, blocks or
// transaction lookups.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  dispense as dispenseRx,
  eventTimeNow,
  MedLedgerClient,
  medicinesKeys,
  medicinesTx,
  staffRegisterBody,
  type TrustedGenesis,
} from '@medledger/client';
import { generateKeyBundle, type KeyBundle } from '@medledger/crypto';
import { type OrgKeyFile, readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { type OrgNetwork, startOrgNetwork } from './testing/org-network.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const GTIN = '00036000291452';
const RXNORM = '308182';
const EXPIRY = `${new Date().getUTCFullYear() + 2}-12-31`;
let net: OrgNetwork;
let home = '';
let url = '';
let trusted: TrustedGenesis;
let orgs: OrgKeyFile[] = [];

before(async () => {
  net = await startOrgNetwork('medicines-privacy', [
    { name: 'General Hospital', kind: 'hospital' },
    { name: 'Acme Pharma', kind: 'manufacturer' },
    { name: 'Big Wholesale', kind: 'distributor' },
    { name: 'Corner Pharmacy', kind: 'pharmacy' },
    { name: 'Other Pharmacy', kind: 'pharmacy' },
    { name: 'Drug Agency', kind: 'regulator' },
  ]);
  ({ home, url, trusted, orgs } = net);
});
after(async () => {
  await net?.stop();
});

const client = (keys: KeyBundle) => new MedLedgerClient({ url, keys, genesis: trusted, pollIntervalMs: 20 });
const orgClient = (o: OrgKeyFile) => client(readOrgKey(home, { file: o.file }));

async function staff(org: OrgKeyFile, role: 'clinician' | 'pharmacy') {
  const keys = generateKeyBundle();
  await orgClient(org).submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name: `${role} of ${org.id}` }),
  );
  return client(keys);
}

type Seen = { serial: string; dispenseTx: string; prescribeTx: string; dispenseHeight: number; prescribeHeight: number; rx: string };

/** `who` (undefined: anonymous) GETs `path`: the answer as text, or `refused <status>`. */
async function read(who: MedLedgerClient | undefined, path: string): Promise<string> {
  if (who === undefined) {
    const res = await fetch(`${url}${path}`);
    return res.ok ? await res.text() : `refused ${res.status}`;
  }
  try {
    return JSON.stringify(await who.get(path, { auth: true }));
  } catch (err) {
    return `refused ${(err as { code?: string }).code ?? 'error'}`;
  }
}

/** Everything `who` can read about the pack without knowing the prescription: its package, events, verification, proofs, blocks and transactions. */
async function seenByPack(who: MedLedgerClient | undefined, at: Seen): Promise<string> {
  const paths = [
    `/v1/packages/${GTIN}/${at.serial}`,
    `/v1/packages/${GTIN}/${at.serial}/events`,
    `/v1/packages/${GTIN}/${at.serial}/verify`,
    '/v1/verifications',
    `/v1/state/proof?key=${encodeURIComponent(medicinesKeys.package(GTIN, at.serial))}`,
    `/v1/blocks/${at.dispenseHeight}`,
    `/v1/blocks/${at.prescribeHeight}`,
    `/v1/txs/${at.dispenseTx}`,
    `/v1/txs/${at.prescribeTx}`,
  ];
  // A prescription's id is its transaction hash's first half, so the lookup of that hash (which
  // this test, not an outsider, knows: blocks show leaf hashes) echoes it; the echo is no leak.
  const texts = await Promise.all(paths.map(async (p) => (await read(who, p)).replaceAll(at.prescribeTx, '(the hash asked for)')));
  return texts.join('\n');
}

test('a dispensed pack cannot be followed to its prescription or patient by anyone outside the prescription', async () => {
  const [hospital, acme, wholesale, pharmacy, otherPharmacy, agency] = orgs as [
    OrgKeyFile,
    OrgKeyFile,
    OrgKeyFile,
    OrgKeyFile,
    OrgKeyFile,
    OrgKeyFile,
  ];
  const maker = orgClient(acme);
  await medicinesTx(maker, 'product.register', {
    gtin: GTIN,
    ndc: '12345-678-90',
    name: 'Amoxicillin',
    strength: '500 mg',
    form: 'capsule',
    rxnorm: RXNORM,
  });
  await medicinesTx(maker, 'supply.commission', { gtin: GTIN, lot: 'L1', expiry: EXPIRY, serials: ['P1'], eventTime: eventTimeNow() });
  const epcs = [{ gtin: GTIN, serial: 'P1' }];
  await medicinesTx(maker, 'supply.ship', {
    to: pharmacy.id,
    epcs,
    eventTime: eventTimeNow(),
    transaction: 'INV-1',
    transactionDate: eventTimeNow().slice(0, 10),
    statement: true,
  });
  await medicinesTx(orgClient(pharmacy), 'supply.receive', { epcs, eventTime: eventTimeNow() });

  const patient = client(generateKeyBundle());
  const { id: patientId } = await patient.registerPatient();
  const doctor = await staff(hospital, 'clinician');
  // rx.prescribe needs the patient's read-write consent covering a MedicationRequest.
  await patient.grant({ grantee: doctor.id, resourceTypes: ['MedicationRequest'], access: 'read-write', purpose: 'treatment' });
  const pharmacist = await staff(pharmacy, 'pharmacy');
  const today = eventTimeNow().slice(0, 10);
  const rx = await medicinesTx(doctor, 'rx.prescribe', {
    requestHash: 'ab'.repeat(32),
    patient: patientId,
    pharmacy: pharmacy.id,
    rxnorm: RXNORM,
    quantity: 1,
    repeats: 0,
    validFrom: today,
    validTo: `${new Date().getUTCFullYear() + 1}-12-31`,
    minIntervalDays: 0,
  });
  const dispensed = await dispenseRx(pharmacist, {
    rx: rx.id,
    items: [{ gtin: GTIN, serial: 'P1', lot: 'L1', expiry: EXPIRY }],
  });
  const at = {
    serial: 'P1',
    rx: rx.id,
    dispenseTx: dispensed.txHash,
    prescribeTx: rx.txHash,
    dispenseHeight: dispensed.height,
    prescribeHeight: rx.height,
  };

  const otherPatient = client(generateKeyBundle());
  await otherPatient.registerPatient();
  const outsiders: Array<[string, MedLedgerClient | undefined]> = [
    ['the manufacturer', maker],
    ['the wholesaler', orgClient(wholesale)],
    ['another pharmacy', orgClient(otherPharmacy)],
    ['the regulator', orgClient(agency)],
    ['another patient', otherPatient],
    ['an anonymous caller', undefined],
  ];
  for (const [name, who] of outsiders) {
    const seen = await seenByPack(who, at);
    assert.equal(seen.includes(patientId), false, `${name} can read the patient's id`);
    assert.equal(seen.includes(rx.id), false, `${name} can read the prescription the pack was dispensed against`);
    assert.equal(seen.includes('medication.dispense'), false, `${name} can read the dispense transaction`);
    // Even knowing the prescription id, they cannot open it.
    assert.match(await read(who, `/v1/prescriptions/${rx.id}`), /^refused/, `${name} opens the prescription`);
    assert.match(
      await read(who, `/v1/state/proof?key=${encodeURIComponent(medicinesKeys.prescription(rx.id))}`),
      /^refused/,
      `${name} reads the prescription's state`,
    );
  }
  // The trading partners still see the pack as dispensed: verification and custody need no link.
  const asMaker = JSON.parse(await read(maker, `/v1/packages/${GTIN}/P1/verify`));
  assert.deepEqual([asMaker.verified, asMaker.reason], [false, 'Dispensed']);

  // The prescription's parties do see the link: the pharmacy through its dispense, the patient
  // through their prescription, which lists the pack.
  const asPharmacy = await seenByPack(orgClient(pharmacy), at);
  assert.ok(asPharmacy.includes('medication.dispense') && asPharmacy.includes(patientId));
  const rxSeen = JSON.parse(await read(patient, `/v1/prescriptions/${rx.id}`)) as { dispensed: Array<{ serial: string }> };
  assert.deepEqual(
    rxSeen.dispensed.map((d) => d.serial),
    ['P1'],
  );
});
