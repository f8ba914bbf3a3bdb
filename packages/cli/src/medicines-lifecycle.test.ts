// The medicines life cycle on a real node over HTTP, through the SDK and the CLI, every answer
// proven against the genesis: a recall reaches the patient who was dispensed the lot (and only
// that patient), a saleable return ships again only once verified, verifications are logged
// for the regulator, an illegitimate determination is a notification the regulator and the
// manufacturer see, a GTIN moves to another company, and a destroyed package is refused.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  ClientError,
  dispense as dispenseRx,
  eventTimeNow,
  getProduct,
  listNotices,
  listVerifications,
  MedLedgerClient,
  medicinesTx,
  recallNotices,
  staffRegisterBody,
  type TrustedGenesis,
  traceProduct,
  verifyProduct,
} from '@medledger/client';
import { encryptKeystore, generateKeyBundle, type KeyBundle } from '@medledger/crypto';
import { type OrgKeyFile, readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';
import { type OrgNetwork, startOrgNetwork } from './testing/org-network.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const GTIN = '00036000291452';
const RXNORM = '308182';
const EXPIRY = `${new Date().getUTCFullYear() + 2}-12-31`;
let net: OrgNetwork;
let dir = '';
let home = '';
let url = '';
let trusted: TrustedGenesis;
let orgs: OrgKeyFile[] = [];

before(async () => {
  net = await startOrgNetwork('medicines-life', [
    { name: 'General Hospital', kind: 'hospital' },
    { name: 'Acme Pharma', kind: 'manufacturer' },
    { name: 'Beta Pharma', kind: 'manufacturer' },
    { name: 'Big Wholesale', kind: 'distributor' },
    { name: 'Corner Pharmacy', kind: 'pharmacy' },
    { name: 'Drug Agency', kind: 'regulator' },
  ]);
  ({ dir, home, url, trusted, orgs } = net);
});
after(async () => {
  await net?.stop();
});

const client = (keys: KeyBundle) => new MedLedgerClient({ url, keys, genesis: trusted, pollIntervalMs: 20 });
const cli = async (...args: string[]) => {
  const run = await runCli([...args, '--url', url, '--genesis', join(dir, 'genesis.json'), '--json']);
  return { ...run, json: () => JSON.parse(run.stdout) };
};

test('recall notices, saleable returns, the verification log, notifications, GTIN transfer and destruction on a real node', async () => {
  const [hospital, acme, beta, wholesale, pharmacy, agency] = orgs as [
    OrgKeyFile,
    OrgKeyFile,
    OrgKeyFile,
    OrgKeyFile,
    OrgKeyFile,
    OrgKeyFile,
  ];
  const orgKeys = (o: OrgKeyFile) => readOrgKey(home, { file: o.file });
  const keyPath = (o: OrgKeyFile) => join(home, o.file);
  const [maker, wholesaler, pharm, regulator] = [acme, wholesale, pharmacy, agency].map((o) => client(orgKeys(o))) as [
    MedLedgerClient,
    MedLedgerClient,
    MedLedgerClient,
    MedLedgerClient,
  ];
  const doctorKeys = generateKeyBundle();
  const pharmacistKeys = generateKeyBundle();
  const staff = (keys: KeyBundle, role: 'clinician' | 'pharmacy', name: string) =>
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name });
  await client(orgKeys(hospital)).submitAndWait('staff.register', staff(doctorKeys, 'clinician', 'Dr Rx'));
  await pharm.submitAndWait('staff.register', staff(pharmacistKeys, 'pharmacy', 'Pharmacist'));
  const [aliceKeys, bobKeys] = [generateKeyBundle(), generateKeyBundle()];
  const alice = (await client(aliceKeys).registerPatient()).id;
  const bob = (await client(bobKeys).registerPatient()).id;
  // rx.prescribe needs each patient's read-write consent covering a MedicationRequest.
  for (const keys of [aliceKeys, bobKeys])
    await client(keys).grant({
      grantee: client(doctorKeys).id,
      resourceTypes: ['MedicationRequest'],
      access: 'read-write',
      purpose: 'treatment',
    });
  const aliceFile = join(dir, 'alice.key');
  writeFileSync(aliceFile, JSON.stringify(encryptKeystore(aliceKeys, TEST_PASSPHRASE)), { mode: 0o600 });

  await medicinesTx(maker, 'product.register', {
    gtin: GTIN,
    ndc: '12345-678-90',
    name: 'Amoxicillin',
    strength: '500 mg',
    form: 'capsule',
    rxnorm: RXNORM,
  });
  for (const [lot, serials] of [
    ['L1', ['A1', 'A2', 'A3']],
    ['L2', ['B1']],
  ] as const)
    await medicinesTx(maker, 'supply.commission', { gtin: GTIN, lot, expiry: EXPIRY, serials: [...serials], eventTime: eventTimeNow() });
  const today = new Date().toISOString().slice(0, 10);
  const ship = (from: MedLedgerClient, to: string, serials: string[], inv: string) =>
    medicinesTx(from, 'supply.ship', {
      to,
      epcs: serials.map((serial) => ({ gtin: GTIN, serial })),
      eventTime: eventTimeNow(),
      transaction: inv,
      transactionDate: today,
      statement: true,
    });
  const receive = (by: MedLedgerClient, serials: string[]) =>
    medicinesTx(by, 'supply.receive', { epcs: serials.map((serial) => ({ gtin: GTIN, serial })), eventTime: eventTimeNow() });
  await ship(maker, wholesale.id, ['A1', 'A2', 'A3', 'B1'], 'INV-1');
  await receive(wholesaler, ['A1', 'A2', 'A3', 'B1']);
  await ship(wholesaler, pharmacy.id, ['A1', 'A2', 'A3', 'B1'], 'INV-2');
  await receive(pharm, ['A1', 'A2', 'A3', 'B1']);

  // Alice is dispensed A1 (lot L1), Bob B1 (lot L2).
  const prescribe = (patient: string) =>
    medicinesTx(client(doctorKeys), 'rx.prescribe', {
      requestHash: 'ab'.repeat(32),
      patient,
      pharmacy: pharmacy.id,
      rxnorm: RXNORM,
      quantity: 1,
      repeats: 0,
      validFrom: '2020-01-01',
      validTo: EXPIRY,
      minIntervalDays: 0,
    });
  // A3 goes back to the wholesaler before the recall (it is destroyed there below).
  await ship(pharm, wholesale.id, ['A3'], 'RET-1');
  await receive(wholesaler, ['A3']);
  const rxAlice = (await prescribe(alice)).id;
  const rxBob = (await prescribe(bob)).id;
  const pharmacist = client(pharmacistKeys);
  await dispenseRx(pharmacist, { rx: rxAlice, items: [{ gtin: GTIN, serial: 'A1', lot: 'L1', expiry: EXPIRY }] });
  await dispenseRx(pharmacist, { rx: rxBob, items: [{ gtin: GTIN, serial: 'B1', lot: 'L2', expiry: EXPIRY }] });

  // Recall of lot L1: Alice gets a notice in her app (SDK and CLI), Bob none; nobody else may ask for Alice's.
  await medicinesTx(maker, 'supply.recall', { gtin: GTIN, lot: 'L1', reason: 'sterility failure', eventTime: eventTimeNow() });
  const aliceNotices = await recallNotices(client(aliceKeys), alice);
  assert.deepEqual(
    aliceNotices.map((n) => [n.prescription, n.serial, n.lot, n.recall.reason]),
    [[rxAlice, 'A1', 'L1', 'sterility failure']],
  );
  assert.deepEqual(await recallNotices(client(bobKeys), bob), []);
  await assert.rejects(recallNotices(client(bobKeys), alice), (e: unknown) => e instanceof ClientError && e.code === 'ACCESS_DENIED');
  const viaCli = await cli('rx', 'notices', '--key', aliceFile, '--patient', alice);
  assert.equal(viaCli.code, 0, viaCli.stderr);
  assert.equal(viaCli.json().notices[0].lot, 'L1');

  // A recalled package cannot be sold on: A2 does not ship.
  await assert.rejects(ship(pharm, wholesale.id, ['A2'], 'RET-2'), (e: unknown) => e instanceof ClientError && e.code === 'NOT_VERIFIED');
  // A saleable return: a fresh package goes round and back to the wholesaler, who cannot sell
  // it on until it has verified it (a logged verification).
  await medicinesTx(maker, 'supply.commission', { gtin: GTIN, lot: 'L3', expiry: EXPIRY, serials: ['C1'], eventTime: eventTimeNow() });
  await ship(maker, wholesale.id, ['C1'], 'INV-3');
  await receive(wholesaler, ['C1']);
  await ship(wholesaler, pharmacy.id, ['C1'], 'INV-4');
  await receive(pharm, ['C1']);
  await ship(pharm, wholesale.id, ['C1'], 'RET-3');
  await receive(wholesaler, ['C1']);
  await assert.rejects(
    ship(wholesaler, pharmacy.id, ['C1'], 'INV-5'),
    (e: unknown) => e instanceof ClientError && e.code === 'RETURN_NOT_VERIFIED',
  );
  const checked = await verifyProduct(wholesaler, { gtin: GTIN, serial: 'C1', lot: 'L3' });
  assert.equal(checked.verified, true);
  await wholesaler.waitForTx(checked.logTx as string);
  await ship(wholesaler, pharmacy.id, ['C1'], 'INV-5');

  // The regulator reads the verification log, proven; a manufacturer may not.
  const log = await listVerifications(regulator);
  assert.ok(log.items.some((v) => v.requester === wholesale.id && v.serial === 'C1' && v.verified === true));
  await assert.rejects(listVerifications(maker), (e: unknown) => e instanceof ClientError && e.code === 'ACCESS_DENIED');

  // An illegitimate determination by the pharmacy on A2: a notification open for 24 hours, seen by the regulator and the maker.
  await medicinesTx(pharm, 'supply.quarantine', {
    gtin: GTIN,
    serial: 'A2',
    kind: 'illegitimate',
    reason: 'counterfeit seal',
    eventTime: eventTimeNow(),
  });
  const seen = await listNotices(regulator);
  assert.deepEqual(
    seen.items.map((n) => [n.serial, n.status, n.determinedBy]),
    [['A2', 'open', pharmacy.id]],
  );
  assert.equal((await listNotices(maker)).items.length, 1);
  assert.equal((await listNotices(wholesaler)).items.length, 0);
  // On a terminal, none is said in words, not an empty line.
  const noneForWholesaler = await runCli([
    'supply',
    'notices',
    '--key',
    keyPath(wholesale),
    '--url',
    url,
    '--genesis',
    join(dir, 'genesis.json'),
  ]);
  assert.equal(noneForWholesaler.code, 0, noneForWholesaler.stderr);
  assert.equal(noneForWholesaler.stdout, 'no illegitimate-product notifications\n');
  const notice = String(seen.items[0]?.id);
  // Without a session a notification is refused as any unknown one would be: its id is no oracle.
  for (const id of [notice, 'ab'.repeat(16)]) {
    const anonymous = await fetch(`${url}/v1/notices/${id}`);
    assert.equal(anonymous.status, 401, `GET /v1/notices/${id} without a session`);
    assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
  }
  const notified = await cli('supply', 'notify', '--key', keyPath(pharmacy), '--notice', notice);
  assert.equal(notified.code, 0, notified.stderr);
  assert.equal((await listNotices(regulator)).items[0]?.status, 'notified');
  const terminated = await cli('supply', 'terminate', '--key', keyPath(agency), '--notice', notice, '--reason', 'FDA consulted');
  assert.equal(terminated.code, 0, terminated.stderr);
  const overview = await cli('supply', 'notices', '--key', keyPath(agency));
  assert.equal(overview.json().items[0].status, 'terminated');

  // The recalled A3 is destroyed by its holder; it then answers Recalled, and the destruction is in its trace.
  const destroyed = await cli(
    'supply',
    'decommission',
    '--key',
    keyPath(wholesale),
    '--epc',
    `${GTIN}:A3`,
    '--destroy',
    '--reason',
    'recalled',
  );
  assert.equal(destroyed.code, 0, destroyed.stderr);
  const trace = await cli('supply', 'trace', '--key', keyPath(wholesale), '--gtin', GTIN, '--serial', 'A3');
  assert.equal(trace.json().items.at(-1).bizStep, 'destroying');

  // EPCIS 2.0 capture through the CLI: a document that violates the schema is refused whole
  // (nothing submitted); a valid one commissions E1 and E2 and ships them to the wholesaler.
  const epcisDoc = (events: unknown[]) => ({
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: new Date().toISOString(),
    epcisBody: { eventList: events },
  });
  const sgtin = (s: string) => `https://id.gs1.org/01/${GTIN}/21/${s}`;
  const commissioning = {
    type: 'ObjectEvent',
    eventTime: new Date().toISOString(),
    eventTimeZoneOffset: '+00:00',
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    epcList: [sgtin('E1'), sgtin('E2')],
    ilmd: { 'cbvmda:lotNumber': 'L5', 'cbvmda:itemExpirationDate': EXPIRY },
  };
  const shipping = {
    type: 'ObjectEvent',
    eventTime: new Date(Date.now() + 1000).toISOString(),
    eventTimeZoneOffset: '+00:00',
    action: 'OBSERVE',
    bizStep: 'shipping',
    disposition: 'in_transit',
    epcList: [sgtin('E1'), sgtin('E2')],
    bizTransactionList: [{ type: 'inv', bizTransaction: 'urn:acme:inv:INV-9' }],
    destinationList: [{ type: 'owning_party', destination: `urn:medledger:org:${wholesale.id}` }],
    'medledger:transactionDate': today,
    'medledger:transactionStatement': true,
  };
  const badFile = join(dir, 'bad-epcis.json');
  writeFileSync(badFile, JSON.stringify(epcisDoc([commissioning, { ...shipping, action: 'SHIP' }])));
  const badCapture = await cli('supply', 'capture', '--key', keyPath(acme), '--file', badFile);
  assert.equal(badCapture.code, 2, badCapture.stderr);
  assert.match(badCapture.stderr, /INVALID_ARGUMENT: the EPCIS document violates the EPCIS 2\.0 schema.*eventList\/1\/action/);
  // Valid EPCIS 2.0 that MedLedger does not record (a TransformationEvent) is refused with its own code.
  const transformation = {
    type: 'TransformationEvent',
    eventTime: new Date().toISOString(),
    eventTimeZoneOffset: '+00:00',
    inputEPCList: [sgtin('E1')],
    outputEPCList: [sgtin('E9')],
    transformationID: 'urn:acme:transformation:T1',
  };
  writeFileSync(badFile, JSON.stringify(epcisDoc([commissioning, transformation])));
  const unsupportedCapture = await cli('supply', 'capture', '--key', keyPath(acme), '--file', badFile);
  assert.equal(unsupportedCapture.code, 2, unsupportedCapture.stderr);
  assert.match(
    unsupportedCapture.stderr,
    /EPCIS_NOT_SUPPORTED: the EPCIS document is valid EPCIS 2\.0, but MedLedger does not support it: \/epcisBody\/eventList\/1\/type/,
  );
  const notCommissioned = await verifyProduct(maker, { gtin: GTIN, serial: 'E1' }, { log: false });
  assert.equal(notCommissioned.reason, 'No_match_GTIN_Serial', 'nothing of the refused document was recorded');
  const goodFile = join(dir, 'epcis.json');
  writeFileSync(goodFile, JSON.stringify(epcisDoc([commissioning, shipping])));
  const captured = await cli('supply', 'capture', '--key', keyPath(acme), '--file', goodFile);
  assert.equal(captured.code, 0, captured.stderr);
  // Both events in one transaction; each event's id was read back from the proven trace and recomputed by the client.
  const capturedIds = captured.json().eventIDs as string[];
  assert.equal(captured.json().events, 2);
  assert.equal(capturedIds.length, 2);
  const e1Trace = await traceProduct(maker, { gtin: GTIN, serial: 'E1' });
  assert.deepEqual(
    e1Trace.items.map((e) => e.eventID),
    capturedIds,
  );
  assert.deepEqual(
    e1Trace.items.map((e) => e['medledger:height']),
    [captured.json().height, captured.json().height],
  );
  await receive(wholesaler, ['E1', 'E2']);

  // The GTIN moves to Beta Pharma, with its history; Acme can no longer commission it.
  const moved = await cli('product', 'transfer', '--key', keyPath(acme), '--gtin', GTIN, '--to', beta.id);
  assert.equal(moved.code, 0, moved.stderr);
  const product = await getProduct(maker, GTIN);
  assert.equal(product.manufacturer, beta.id);
  assert.deepEqual(
    (product.transfers as Array<{ from: string; to: string }>).map((t) => [t.from, t.to]),
    [[acme.id, beta.id]],
  );
  await assert.rejects(
    medicinesTx(maker, 'supply.commission', { gtin: GTIN, lot: 'L4', expiry: EXPIRY, serials: ['D1'], eventTime: eventTimeNow() }),
    (e: unknown) => e instanceof ClientError && e.code === 'UNAUTHORIZED',
  );
});
