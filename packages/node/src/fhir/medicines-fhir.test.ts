// Medicines on the FHIR endpoint of a real node: the pharmacy's system reads a ledger
// prescription as a MedicationRequest and its fill as a MedicationDispense whose
// authorizingPrescription points back; searching a prescription's dispenses answers a
// searchset; an organization that is no party to the prescription gets 404.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dispense as dispenseRx, eventTimeNow, MedLedgerClient, medicinesTx, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, type KeyBundle } from '@medledger/crypto';
import { readOrgKey } from '../home.js';
import { signClientAssertion } from './auth.js';
import { type FhirTestNode, requestToken, startFhirNode, tokenFor } from './testing.js';

let t: FhirTestNode;
const GTIN = '00036000291452';
const EXPIRY = `${new Date().getUTCFullYear() + 2}-12-31`;

before(async () => {
  // The endpoint serves the first organization: the pharmacy.
  t = await startFhirNode({
    organizations: [
      { name: 'Corner Pharmacy', kind: 'pharmacy' },
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Acme Pharma', kind: 'manufacturer' },
    ],
  });
});
after(async () => {
  await t.cleanup();
});

// biome-ignore lint/suspicious/noExplicitAny: FHIR answers are read field by field below
type AnyJson = any;
const fhir = async (token: string, path: string) => {
  const res = await fetch(`${t.base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, json: (await res.json()) as AnyJson };
};

test('a ledger prescription reads as a MedicationRequest and its fill as a MedicationDispense, only for its parties', async () => {
  const genesis = TrustedGenesis.fromDocument(t.node.chain.genesis);
  const client = (keys: KeyBundle) => new MedLedgerClient({ url: t.url, keys, genesis, pollIntervalMs: 20 });
  const hospitalKeys = readOrgKey(join(t.dir, 'node0'), { file: 'org-general-hospital.key' });
  const makerKeys = readOrgKey(join(t.dir, 'node0'), { file: 'org-acme-pharma.key' });
  const pharmacy = client(t.orgKeys);
  const maker = client(makerKeys);
  const [doctorKeys, pharmacistKeys, patientKeys] = [generateKeyBundle(), generateKeyBundle(), generateKeyBundle()];
  const staff = (keys: KeyBundle, role: 'clinician' | 'pharmacy', name: string) =>
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name });
  await client(hospitalKeys).submitAndWait('staff.register', staff(doctorKeys, 'clinician', 'Dr Rx'));
  await pharmacy.submitAndWait('staff.register', staff(pharmacistKeys, 'pharmacy', 'Pharmacist'));
  const patient = (await client(patientKeys).registerPatient()).id;
  // rx.prescribe needs the patient's read-write consent covering a MedicationRequest.
  await client(patientKeys).grant({
    grantee: client(doctorKeys).id,
    resourceTypes: ['MedicationRequest'],
    access: 'read-write',
    purpose: 'treatment',
  });
  await medicinesTx(maker, 'product.register', {
    gtin: GTIN,
    ndc: '12345-678-90',
    name: 'Amoxicillin',
    strength: '500 mg',
    form: 'capsule',
    rxnorm: '308182',
  });
  const epcs = [{ gtin: GTIN, serial: 'S1' }];
  await medicinesTx(maker, 'supply.commission', { gtin: GTIN, lot: 'L1', expiry: EXPIRY, serials: ['S1'], eventTime: eventTimeNow() });
  const today = new Date().toISOString().slice(0, 10);
  await medicinesTx(maker, 'supply.ship', {
    to: t.orgId,
    epcs,
    eventTime: eventTimeNow(),
    transaction: 'INV-1',
    transactionDate: today,
    statement: true,
  });
  await medicinesTx(pharmacy, 'supply.receive', { epcs, eventTime: eventTimeNow() });
  const rx = (
    await medicinesTx(client(doctorKeys), 'rx.prescribe', {
      requestHash: 'ab'.repeat(32),
      patient,
      pharmacy: t.orgId,
      rxnorm: '308182',
      quantity: 1,
      repeats: 1,
      validFrom: '2020-01-01',
      validTo: EXPIRY,
      minIntervalDays: 14,
    })
  ).id;
  await dispenseRx(client(pharmacistKeys), {
    rx,
    items: [{ gtin: GTIN, serial: 'S1', lot: 'L1', expiry: EXPIRY }],
  });

  const token = await tokenFor(t.base, t.orgKeys);
  const request = await fhir(token, `/MedicationRequest/rx-${rx}`);
  assert.equal(request.status, 200, JSON.stringify(request.json));
  assert.equal(request.json.resourceType, 'MedicationRequest');
  assert.equal(request.json.status, 'active');
  assert.equal(request.json.subject.reference, `Patient/${patient}`);
  assert.equal(request.json.medicationCodeableConcept.coding[0].code, '308182');
  assert.equal(request.json.dispenseRequest.numberOfRepeatsAllowed, 1);
  assert.equal(request.json.dispenseRequest.dispenseInterval.value, 14);
  assert.equal(request.json.dispenseRequest.performer.reference, `Organization/${t.orgId}`);

  const dispense = await fhir(token, `/MedicationDispense/rx-${rx}-1`);
  assert.equal(dispense.status, 200, JSON.stringify(dispense.json));
  assert.deepEqual(dispense.json.authorizingPrescription, [{ reference: `MedicationRequest/rx-${rx}` }]);
  assert.deepEqual(dispense.json.identifier, [{ system: 'https://www.gs1.org/gtin', value: `(01)${GTIN}(21)S1(10)L1` }]);
  assert.equal((await fhir(token, `/MedicationDispense/rx-${rx}-2`)).status, 404, 'no second fill yet');

  const search = await fhir(token, `/MedicationDispense?prescription=MedicationRequest/rx-${rx}`);
  assert.equal(search.status, 200);
  // A search takes the search scope: a token that may read MedicationDispense (SMART v2 `r`) but not search it is refused.
  const readOnly = async (scope: string) => {
    const client_assertion = await signClientAssertion({
      clientId: t.orgId,
      privateKey: t.orgKeys.signing.privateKey,
      tokenUrl: `${t.base}/auth/token`,
    });
    const { json } = await requestToken(t.base, {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion,
      scope,
    });
    return json.access_token as string;
  };
  const readScoped = await readOnly('system/MedicationDispense.r');
  assert.equal((await fhir(readScoped, `/MedicationDispense/rx-${rx}-1`)).status, 200);
  assert.equal((await fhir(readScoped, `/MedicationDispense?prescription=MedicationRequest/rx-${rx}`)).status, 403);
  assert.equal((await fhir(await readOnly('system/MedicationDispense.s'), `/MedicationDispense?prescription=rx-${rx}`)).status, 200);
  assert.equal(search.json.total, 1);
  assert.equal(search.json.entry[0].resource.id, `rx-${rx}-1`);

  // A clinician of the pharmacy's organization is no party to the prescription (only its
  // pharmacy staff are): 404, as for a prescription that does not exist.
  const outsiderKeys = generateKeyBundle();
  await pharmacy.submitAndWait('staff.register', staff(outsiderKeys, 'clinician', 'Dr Outsider'));
  const makerToken = await tokenFor(t.base, outsiderKeys);
  assert.equal((await fhir(makerToken, `/MedicationRequest/rx-${rx}`)).status, 404);
  assert.equal((await fhir(makerToken, `/MedicationDispense?prescription=rx-${rx}`)).status, 404);
  assert.equal((await fhir(token, `/MedicationRequest/rx-${'0'.repeat(32)}`)).status, 404);
});

test('the fills of a prescription page by _count and _offset: following next links gives each fill once; bad paging is 400', async () => {
  const genesis = TrustedGenesis.fromDocument(t.node.chain.genesis);
  const client = (keys: KeyBundle) => new MedLedgerClient({ url: t.url, keys, genesis, pollIntervalMs: 20 });
  const pharmacy = client(t.orgKeys);
  const maker = client(readOrgKey(join(t.dir, 'node0'), { file: 'org-acme-pharma.key' }));
  const [doctorKeys, pharmacistKeys, patientKeys] = [generateKeyBundle(), generateKeyBundle(), generateKeyBundle()];
  const staff = (keys: KeyBundle, role: 'clinician' | 'pharmacy', name: string) =>
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name });
  await client(readOrgKey(join(t.dir, 'node0'), { file: 'org-general-hospital.key' })).submitAndWait(
    'staff.register',
    staff(doctorKeys, 'clinician', 'Dr Repeat'),
  );
  await pharmacy.submitAndWait('staff.register', staff(pharmacistKeys, 'pharmacy', 'Pharmacist Repeat'));
  const patient = (await client(patientKeys).registerPatient()).id;
  await client(patientKeys).grant({
    grantee: client(doctorKeys).id,
    resourceTypes: ['MedicationRequest'],
    access: 'read-write',
    purpose: 'treatment',
  });
  const gtin = '00036000291469';
  await medicinesTx(maker, 'product.register', {
    gtin,
    ndc: '12345-678-91',
    name: 'Metformin',
    strength: '500 mg',
    form: 'tablet',
    rxnorm: '861007',
  });
  const serials = ['P1', 'P2', 'P3', 'P4', 'P5'];
  const epcs = serials.map((serial) => ({ gtin, serial }));
  await medicinesTx(maker, 'supply.commission', { gtin, lot: 'L2', expiry: EXPIRY, serials, eventTime: eventTimeNow() });
  await medicinesTx(maker, 'supply.ship', {
    to: t.orgId,
    epcs,
    eventTime: eventTimeNow(),
    transaction: 'INV-2',
    transactionDate: new Date().toISOString().slice(0, 10),
    statement: true,
  });
  await medicinesTx(pharmacy, 'supply.receive', { epcs, eventTime: eventTimeNow() });
  const rx = (
    await medicinesTx(client(doctorKeys), 'rx.prescribe', {
      requestHash: 'cd'.repeat(32),
      patient,
      pharmacy: t.orgId,
      rxnorm: '861007',
      quantity: 1,
      repeats: 4,
      validFrom: '2020-01-01',
      validTo: EXPIRY,
      minIntervalDays: 0,
    })
  ).id;
  // Five fills, one pack each: more than one page of two.
  for (const serial of serials) await dispenseRx(client(pharmacistKeys), { rx, items: [{ gtin, serial, lot: 'L2', expiry: EXPIRY }] });

  const token = await tokenFor(t.base, t.orgKeys);
  const first = await fhir(token, `/MedicationDispense?prescription=MedicationRequest/rx-${rx}&_count=2`);
  assert.equal(first.status, 200, JSON.stringify(first.json));
  assert.equal(first.json.total, 5);
  assert.equal(first.json.entry.length, 2, '_count is honoured');
  const link = (b: AnyJson, relation: string) => b.link.find((l: AnyJson) => l.relation === relation)?.url as string | undefined;
  assert.equal(link(first.json, 'self'), `${t.base}/MedicationDispense?prescription=MedicationRequest%2Frx-${rx}&_count=2&_offset=0`);
  assert.equal(link(first.json, 'previous'), undefined);
  // Follow next links to the end: every fill exactly once, oldest first, pages of at most two.
  const seen: string[] = [];
  let page = first.json;
  let pages = 0;
  for (;;) {
    pages++;
    assert.ok(page.entry.length <= 2);
    seen.push(...page.entry.map((e: AnyJson) => e.resource.id));
    const next = link(page, 'next');
    if (next === undefined) break;
    assert.ok(next.startsWith(`${t.base}/MedicationDispense?`), next);
    const got = await fhir(token, next.slice(t.base.length));
    assert.equal(got.status, 200);
    assert.equal(got.json.total, 5);
    page = got.json;
  }
  assert.equal(pages, 3);
  assert.deepEqual(
    seen,
    [1, 2, 3, 4, 5].map((n) => `rx-${rx}-${n}`),
  );
  assert.ok(link(page, 'previous')?.endsWith('_count=2&_offset=2'));
  // Without _count, the default page (50) holds them all.
  const whole = await fhir(token, `/MedicationDispense?prescription=rx-${rx}`);
  assert.equal(whole.json.entry.length, 5);
  assert.equal(link(whole.json, 'next'), undefined);
  // Past the end: an empty page, no next.
  const past = await fhir(token, `/MedicationDispense?prescription=rx-${rx}&_count=2&_offset=5`);
  assert.equal(past.status, 200);
  assert.equal(past.json.entry.length, 0);
  assert.equal(link(past.json, 'next'), undefined);

  // Bad paging and parameters this search does not support are 400 OperationOutcomes, as on every search.
  for (const bad of ['_count=0', '_count=501', '_count=abc', '_count=-1', '_offset=x', `patient=${patient}`, 'status=completed']) {
    const res = await fhir(token, `/MedicationDispense?prescription=rx-${rx}&${bad}`);
    assert.equal(res.status, 400, bad);
    assert.equal(res.json.resourceType, 'OperationOutcome', bad);
  }
  const twice = await fhir(token, `/MedicationDispense?prescription=rx-${rx}&prescription=rx-${rx}`);
  assert.equal(twice.status, 400);
  assert.equal(twice.json.resourceType, 'OperationOutcome');

  // The CapabilityStatement names the prescription search on MedicationDispense.
  const meta = await fhir(token, '/metadata');
  const dispense = meta.json.rest[0].resource.find((r: AnyJson) => r.type === 'MedicationDispense');
  assert.ok(dispense.searchParam.some((p: AnyJson) => p.name === 'prescription'));
  assert.ok(dispense.searchParam.some((p: AnyJson) => p.name === '_count'));
});
