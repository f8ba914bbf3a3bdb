// The dispense writes the pharmacy's FHIR MedicationDispense into the patient's encrypted records
// in the same transaction (issue 14 item 7), on a real node over HTTP through the SDK and the
// CLI: the patient opens it (packs, serials, lot, expiry, pharmacy, the prescription), the
// pharmacy the patient consented to can too, an outsider cannot; a dispense whose record is
// sealed to an outsider, or is missing, is refused and dispenses nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  ClientError,
  dispense,
  eventTimeNow,
  getPackage,
  getPrescription,
  MedLedgerClient,
  medicinesTx,
  staffRegisterBody,
  type TrustedGenesis,
} from '@medledger/client';
import { encryptKeystore, generateKeyBundle, type KeyBundle, toHex } from '@medledger/crypto';
import { type OrgKeyFile, readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';
import { type OrgNetwork, startOrgNetwork } from './testing/org-network.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const GTIN = '00036000291452';
const RXNORM = '308182';
const EXPIRY = `${new Date().getUTCFullYear() + 2}-12-31`;
let net: OrgNetwork;
let trusted: TrustedGenesis;

before(async () => {
  net = await startOrgNetwork('medicines-dispense-record', [
    { name: 'General Hospital', kind: 'hospital' },
    { name: 'Acme Pharma', kind: 'manufacturer' },
    { name: 'Corner Pharmacy', kind: 'pharmacy' },
  ]);
  trusted = net.trusted;
});
after(async () => {
  await net?.stop();
});

const client = (keys: KeyBundle) => new MedLedgerClient({ url: net.url, keys, genesis: trusted, pollIntervalMs: 20 });
/** The fields of the opened MedicationDispense the test reads. */
interface MedicationDispenseJson {
  resourceType: string;
  status: string;
  authorizingPrescription: unknown;
  subject: { reference: string };
  medicationCodeableConcept: { text: string; coding: Array<{ code: string }> };
  performer: Array<{ actor: unknown }>;
  identifier: Array<{ value: string }>;
  contained: Array<{ batch: unknown }>;
}
const code = (e: unknown) => (e instanceof ClientError ? e.code : String(e));

test('a dispense anchors the MedicationDispense in the patient’s records; an outsider-sealed or missing record dispenses nothing', async () => {
  const [hospital, acme, corner] = net.orgs as [OrgKeyFile, OrgKeyFile, OrgKeyFile];
  const orgKeys = (o: OrgKeyFile) => readOrgKey(net.home, { file: o.file });
  const [maker, pharmacy] = [client(orgKeys(acme)), client(orgKeys(corner))];
  const doctorKeys = generateKeyBundle();
  const pharmacistKeys = generateKeyBundle();
  const staff = (keys: KeyBundle, role: 'clinician' | 'pharmacy', name: string) =>
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name });
  await client(orgKeys(hospital)).submitAndWait('staff.register', staff(doctorKeys, 'clinician', 'Dr Rx'));
  await pharmacy.submitAndWait('staff.register', staff(pharmacistKeys, 'pharmacy', 'Pharmacist'));
  const aliceKeys = generateKeyBundle();
  const alice = client(aliceKeys);
  const aliceId = (await alice.registerPatient()).id;
  // Alice lets her pharmacy read her medications: the record must be sealed to it as well.
  await alice.grant({ grantee: pharmacy.id, categories: ['medications'], access: 'read', purpose: 'treatment' });
  // The doctor may write her MedicationRequests (rx.prescribe needs it); not her dispense records.
  await alice.grant({ grantee: client(doctorKeys).id, resourceTypes: ['MedicationRequest'], access: 'read-write', purpose: 'treatment' });

  await medicinesTx(maker, 'product.register', {
    gtin: GTIN,
    name: 'Amoxicillin 500 mg',
    strength: '500 mg',
    form: 'capsule',
    rxnorm: RXNORM,
  });
  await medicinesTx(maker, 'supply.commission', {
    gtin: GTIN,
    lot: 'L7',
    expiry: EXPIRY,
    serials: ['D1', 'D2'],
    eventTime: eventTimeNow(),
  });
  await medicinesTx(maker, 'supply.ship', {
    to: pharmacy.id,
    epcs: ['D1', 'D2'].map((serial) => ({ gtin: GTIN, serial })),
    eventTime: eventTimeNow(),
    transaction: 'INV-1',
    transactionDate: new Date().toISOString().slice(0, 10),
    statement: true,
  });
  await medicinesTx(pharmacy, 'supply.receive', {
    epcs: ['D1', 'D2'].map((serial) => ({ gtin: GTIN, serial })),
    eventTime: eventTimeNow(),
  });
  const rx = (
    await medicinesTx(client(doctorKeys), 'rx.prescribe', {
      requestHash: 'ab'.repeat(32),
      patient: aliceId,
      pharmacy: pharmacy.id,
      rxnorm: RXNORM,
      quantity: 1,
      repeats: 1,
      validFrom: '2020-01-01',
      validTo: EXPIRY,
      minIntervalDays: 0,
    })
  ).id;
  const pharmacist = client(pharmacistKeys);
  const d1 = { gtin: GTIN, serial: 'D1', lot: 'L7', expiry: EXPIRY };

  // Attack: the pharmacist seals the dispense record to an outsider (the manufacturer) too.
  const sealedTo = (to: string[]) => ({
    record: toHex(randomBytes(16)),
    contentHash: toHex(randomBytes(32)),
    size: 10,
    envelopes: to.map((t) => ({ to: t, hash: toHex(randomBytes(32)) })),
  });
  await assert.rejects(
    medicinesTx(pharmacist, 'medication.dispense', {
      rx,
      items: [d1],
      record: sealedTo([aliceId, 'emergency', pharmacy.id, pharmacist.id, maker.id]),
    }),
    (e: unknown) => ['RECIPIENT_NOT_ALLOWED', 'OBJECT_NOT_HELD'].includes(code(e)),
  );
  // Without the record at all, the ledger refuses the dispense.
  await assert.rejects(
    pharmacist.submitAndWait('medication.dispense', { rx, items: [d1] } as never),
    (e: unknown) => code(e) === 'INVALID_BODY',
  );
  assert.equal((await getPackage(pharmacist, GTIN, 'D1')).status, 'active');
  assert.equal((await getPrescription(pharmacist, rx)).fills, 0);

  // The honest dispense: one transaction, the record anchored with it.
  const done = await dispense(pharmacist, { rx, items: [d1] });
  const filled = await getPrescription(alice, rx);
  assert.equal(filled.fills, 1);
  assert.deepEqual(
    (filled.dispensed as Array<{ serial: string; record: string }>).map((d) => [d.serial, d.record]),
    [['D1', done.recordId]],
  );
  // Alice finds it in her records and opens it.
  const mine = (await alice.listRecords(aliceId)).find((r) => r.record === done.recordId);
  assert.equal(mine?.resourceType, 'MedicationDispense');
  assert.equal(mine?.category, 'medications');
  assert.equal(mine?.author, pharmacist.id);
  assert.equal(
    (mine?.anchoredAt as { height: number } | undefined)?.height,
    done.height,
    'the record is anchored by the dispense transaction itself',
  );
  const opened = (await alice.readRecord(done.recordId)).resource as MedicationDispenseJson;
  assert.equal(opened.resourceType, 'MedicationDispense');
  assert.equal(opened.status, 'completed');
  assert.deepEqual(opened.authorizingPrescription, [{ reference: `MedicationRequest/rx-${rx}` }]);
  assert.equal(opened.subject.reference, `Patient/${aliceId}`);
  assert.equal(opened.medicationCodeableConcept.text, 'Amoxicillin 500 mg');
  assert.equal(opened.medicationCodeableConcept.coding[0]?.code, RXNORM);
  assert.deepEqual(opened.performer[0]?.actor, { reference: `Organization/${pharmacy.id}`, display: 'Corner Pharmacy' });
  assert.equal(opened.identifier[0]?.value, `(01)${GTIN}(21)D1(10)L7(17)${EXPIRY.slice(2, 4)}1231`);
  assert.deepEqual(opened.contained[0]?.batch, { lotNumber: 'L7', expirationDate: EXPIRY });
  // The pharmacy Alice consented to reads it; the manufacturer cannot.
  assert.equal(((await pharmacy.readRecord(done.recordId)).resource as { resourceType: string }).resourceType, 'MedicationDispense');
  await assert.rejects(maker.readRecord(done.recordId), (e: unknown) => code(e) === 'ACCESS_DENIED');

  // The CLI's dispense writes the record too.
  const keyFile = join(net.dir, 'pharmacist.key');
  writeFileSync(keyFile, JSON.stringify(encryptKeystore(pharmacistKeys, TEST_PASSPHRASE)), { mode: 0o600 });
  const run = await runCli([
    'rx',
    'dispense',
    '--key',
    keyFile,
    '--rx',
    rx,
    '--item',
    `${GTIN}:D2:L7:${EXPIRY}`,
    '--url',
    net.url,
    '--genesis',
    join(net.dir, 'genesis.json'),
    '--json',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const viaCli = JSON.parse(run.stdout) as { record: string };
  assert.equal(
    ((await alice.readRecord(viaCli.record)).resource as { identifier: Array<{ value: string }> }).identifier[0]?.value.includes('(21)D2'),
    true,
  );
});
