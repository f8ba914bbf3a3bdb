// The medicines commands end to end against a real node: a manufacturer registers a product
// and commissions serials, ships them through a wholesaler to a pharmacy, a clinician
// prescribes, the pharmacy verifies and dispenses; a second pharmacy, a fill too early and a
// double dispense of the same serial are refused.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { getPackage, govPropose, govVote, MedLedgerClient, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { encryptKeystore, generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { initNetwork, loadHome, MedLedgerNode, type OrgKeyFile, readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-medicines-cli-'));
/** The genesis the SDK clients of this file trust: the test network's own file. */
const trusted = () => TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));
let home = '';
let orgs: OrgKeyFile[] = [];
let node: MedLedgerNode;
let url = '';

before(async () => {
  const init = initNetwork({
    validators: 1,
    out: dir,
    chainId: 'medicines-cli',
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Acme Pharma', kind: 'manufacturer' },
      { name: 'Big Wholesale', kind: 'distributor' },
      { name: 'Corner Pharmacy', kind: 'pharmacy' },
      { name: 'Other Pharmacy', kind: 'pharmacy' },
    ],
  });
  home = init.homes[0] as string;
  orgs = init.orgKeys;
  const loaded = loadHome(home);
  loaded.config.api.port = 0;
  loaded.config.p2p.port = 0;
  loaded.config.consensus.blockIntervalMs = 20;
  node = new MedLedgerNode(loaded, { logger: () => {} });
  url = await node.start();
});
after(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

function keyFile(name: string, keys: KeyBundle): string {
  const path = join(dir, `${name}.key`);
  writeFileSync(path, JSON.stringify(encryptKeystore(keys, TEST_PASSPHRASE)), { mode: 0o600 });
  return path;
}

async function staff(org: OrgKeyFile, role: 'clinician' | 'pharmacy', name: string) {
  const keys = generateKeyBundle();
  await new MedLedgerClient({ url, keys: readOrgKey(home, { file: org.file }) }).submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name }),
  );
  return { id: idFromPublicKey(keys.signing.publicKey), keys, file: keyFile(name.replace(/\W/g, ''), keys) };
}

const cli = async (...args: string[]) => {
  const run = await runCli([...args, '--url', url, '--genesis', join(dir, 'genesis.json')]);
  return { ...run, json: () => JSON.parse(run.stdout) };
};
const ok = async (...args: string[]) => {
  const r = await cli(...args);
  assert.equal(r.code, 0, `${args.slice(0, 2).join(' ')}: ${r.stderr}`);
  return r;
};

// 00036000291452: a real UPC-A (036000291452) as a GTIN-14; its check digit is right.
const GTIN = '00036000291452';

test('medicines through the CLI: product, commission, ship, receive, verify, trace, prescribe, dispense and its refusals', async () => {
  const [hospital, maker, wholesaler, pharmacy, other] = orgs as [OrgKeyFile, OrgKeyFile, OrgKeyFile, OrgKeyFile, OrgKeyFile];
  const key = (o: OrgKeyFile) => join(home, o.file);
  const doctor = await staff(hospital, 'clinician', 'Dr Rx');
  const pharmacist = await staff(pharmacy, 'pharmacy', 'Corner Pharmacist');
  const rival = await staff(other, 'pharmacy', 'Other Pharmacist');
  const patientKeys = generateKeyBundle();
  const { id: patientId } = await new MedLedgerClient({ url, keys: patientKeys, genesis: trusted() }).registerPatient();
  const patientFile = keyFile('patient', patientKeys);
  const today = new Date().toISOString().slice(0, 10);
  const year = Number(today.slice(0, 4));

  const badGtin = await cli(
    'product',
    'register',
    '--key',
    key(maker),
    '--gtin',
    '00036000291453',
    '--ndc',
    '12345-678-90',
    '--name',
    'Amoxicillin',
    '--strength',
    '500 mg',
    '--form',
    'capsule',
    '--rxnorm',
    '308182',
  );
  assert.equal(badGtin.code, 2, badGtin.stderr);
  assert.match(badGtin.stderr, /INVALID_BODY/);
  await ok(
    'product',
    'register',
    '--key',
    key(maker),
    '--gtin',
    GTIN,
    '--ndc',
    '12345-678-90',
    '--name',
    'Amoxicillin',
    '--strength',
    '500 mg',
    '--form',
    'capsule',
    '--rxnorm',
    '308182',
    '--json',
  );
  const lot = ['--lot', 'L1', '--expiry', `${year + 2}-12-31`];
  await ok('supply', 'commission', '--key', key(maker), '--gtin', GTIN, ...lot, '--serial', 'S1', '--serial', 'S2', '--json');
  const epcs = ['--epc', `${GTIN}:S1`, '--epc', `${GTIN}:S2`];
  const ship = (from: OrgKeyFile, to: OrgKeyFile, inv: string) =>
    cli(
      'supply',
      'ship',
      '--key',
      key(from),
      '--to',
      to.id,
      ...epcs,
      '--transaction',
      inv,
      '--transaction-date',
      today,
      '--statement',
      '--json',
    );
  const notHolder = await ship(wholesaler, pharmacy, 'INV-0');
  assert.notEqual(notHolder.code, 0);
  assert.match(notHolder.stderr, /NOT_HOLDER/);
  const shipped = await ship(maker, wholesaler, 'INV-1');
  assert.equal(shipped.code, 0, shipped.stderr);
  const wrongAddressee = await cli('supply', 'receive', '--key', key(pharmacy), ...epcs);
  assert.match(wrongAddressee.stderr, /NOT_ADDRESSEE/);
  await ok('supply', 'receive', '--key', key(wholesaler), ...epcs, '--json');
  const onward = await ship(wholesaler, pharmacy, 'INV-2');
  assert.equal(onward.code, 0, onward.stderr);
  await ok('supply', 'receive', '--key', key(pharmacy), ...epcs, '--json');

  // As scanned from the DataMatrix: the printed element string (parsed by the GS1 library).
  const yymmdd = `${String((year + 2) % 100).padStart(2, '0')}1231`;
  const verified = await ok('supply', 'verify', '--key', key(pharmacy), '--code', `(01)${GTIN}(21)S1(10)L1(17)${yymmdd}`, '--json');
  assert.equal(verified.json().verified, true);
  const counterfeit = await cli('supply', 'verify', '--key', key(pharmacy), '--gtin', GTIN, '--serial', 'FAKE1', '--json');
  assert.equal(counterfeit.code, 5);
  assert.equal(counterfeit.json().reason, 'No_match_GTIN_Serial');
  const trace = await ok('supply', 'trace', '--key', key(pharmacy), '--gtin', GTIN, '--serial', 'S1', '--json');
  assert.deepEqual(
    trace.json().items.map((e: { bizStep: string }) => e.bizStep),
    ['commissioning', 'shipping', 'receiving', 'shipping', 'receiving'],
  );
  const page1 = await ok('supply', 'trace', '--key', key(pharmacy), '--gtin', GTIN, '--serial', 'S1', '--limit', '2', '--json');
  assert.equal(page1.json().items.length, 2);
  const page2 = await ok(
    'supply',
    'trace',
    '--key',
    key(pharmacy),
    '--gtin',
    GTIN,
    '--serial',
    'S1',
    '--limit',
    '2',
    '--cursor',
    page1.json().next,
    '--json',
  );
  assert.equal(page2.json().items[0].bizStep, 'receiving');

  const prescribeArgs = [
    'rx',
    'prescribe',
    '--key',
    doctor.file,
    '--patient',
    patientId,
    '--pharmacy',
    pharmacy.id,
    '--rxnorm',
    '308182',
    '--request-hash',
    'ab'.repeat(32),
    '--quantity',
    '1',
    '--repeats',
    '1',
    '--from',
    `${year - 1}-01-01`,
    '--to',
    `${year + 1}-12-31`,
    '--interval',
    '28',
    '--json',
  ];
  const prescribe = () => ok(...prescribeArgs);
  // The chain asks for the patient's read-write consent covering a MedicationRequest, even
  // with --request-hash (no record written by the CLI).
  const unconsented = await cli(...prescribeArgs);
  assert.notEqual(unconsented.code, 0);
  assert.match(unconsented.stderr, /NO_CONSENT/);
  await new MedLedgerClient({ url, keys: patientKeys, genesis: trusted() }).grant({
    grantee: doctor.id,
    resourceTypes: ['MedicationRequest'],
    access: 'read-write',
    purpose: 'treatment',
  });
  const rx = (await prescribe()).json().rx as string;
  const elsewhere = await cli('rx', 'dispense', '--key', rival.file, '--rx', rx, '--item', `${GTIN}:S1:L1:${year + 2}-12-31`);
  assert.match(elsewhere.stderr, /NOT_HOLDER/);
  const badScan = await cli(
    'rx',
    'dispense',
    '--key',
    pharmacist.file,
    '--rx',
    rx,
    '--code',
    `(01)00036000291453(21)S1(10)L1(17)${yymmdd}`,
  );
  assert.equal(badScan.code, 2, badScan.stderr);
  assert.match(badScan.stderr, /check digit/);
  // A GS1 Digital Link URI, as a phone camera reads it.
  await ok(
    'rx',
    'dispense',
    '--key',
    pharmacist.file,
    '--rx',
    rx,
    '--code',
    `https://id.gs1.org/01/${GTIN}/21/S1?10=L1&17=${yymmdd}`,
    '--json',
  );
  const early = await cli('rx', 'dispense', '--key', pharmacist.file, '--rx', rx, '--item', `${GTIN}:S2:L1:${year + 2}-12-31`);
  assert.match(early.stderr, /TOO_EARLY/);
  const rx2 = (await prescribe()).json().rx as string;
  const again = await cli('rx', 'dispense', '--key', pharmacist.file, '--rx', rx2, '--item', `${GTIN}:S1:L1:${year + 2}-12-31`);
  assert.match(again.stderr, /NOT_VERIFIED.*Dispensed/);
  const dispensed = await cli('supply', 'verify', '--key', key(pharmacy), '--gtin', GTIN, '--serial', 'S1', '--json');
  assert.equal(dispensed.json().reason, 'Dispensed');

  const mine = await ok('rx', 'list', '--key', patientFile, '--patient', patientId, '--json');
  assert.deepEqual(
    mine.json().items.map((x: { id: string; fills: number }) => [x.id, x.fills]),
    [
      [rx, 1],
      [rx2, 0],
    ],
  );
  const heldBy = async (staffFile: string, org: string) =>
    (await ok('rx', 'list', '--key', staffFile, '--pharmacy', org, '--json')).json().items.map((x: { id: string }) => x.id);
  assert.deepEqual(await heldBy(pharmacist.file, pharmacy.id), [rx, rx2]);
  const nosy = await cli('rx', 'list', '--key', rival.file, '--pharmacy', pharmacy.id);
  assert.equal(nosy.code, 5, nosy.stderr);
  // The patient moves the unfilled one to the other pharmacy and back: each pharmacy lists
  // exactly what it holds, once, and a prescription that came back is listed last.
  await ok('rx', 'transfer', '--key', patientFile, '--rx', rx2, '--pharmacy', other.id);
  assert.deepEqual(await heldBy(pharmacist.file, pharmacy.id), [rx]);
  assert.deepEqual(await heldBy(rival.file, other.id), [rx2]);
  await ok('rx', 'transfer', '--key', patientFile, '--rx', rx2, '--pharmacy', pharmacy.id);
  assert.deepEqual(await heldBy(pharmacist.file, pharmacy.id), [rx, rx2]);
  assert.deepEqual(await heldBy(rival.file, other.id), []);
  const onePerPage = await ok('rx', 'list', '--key', pharmacist.file, '--pharmacy', pharmacy.id, '--limit', '1', '--json');
  const rest = await ok('rx', 'list', '--key', pharmacist.file, '--pharmacy', pharmacy.id, '--cursor', onePerPage.json().next, '--json');
  assert.deepEqual(
    [...onePerPage.json().items, ...rest.json().items].map((x: { id: string }) => x.id),
    [rx, rx2],
  );
  assert.equal(rest.json().next, null);
  // Custody is for trading partners; a prescription only for its patient, prescriber and pharmacy.
  const patientVerify = await cli('supply', 'verify', '--key', patientFile, '--gtin', GTIN, '--serial', 'S2');
  assert.equal(patientVerify.code, 5, patientVerify.stderr);
  assert.match(patientVerify.stderr, /ACCESS_DENIED/);
  await ok('rx', 'show', '--key', patientFile, '--rx', rx, '--json');
  const hidden = await cli('rx', 'show', '--key', rival.file, '--rx', rx);
  assert.match(hidden.stderr, /NOT_FOUND/);
});

// A second product (its GS1 check digit is right), so this test is independent of the first.
const GTIN2 = '00012345600012';

test('the CLI lines of issue 14 as written: --org-key, commission --count, ship and receive --serial S…, rx prescribe writes the MedicationRequest', async () => {
  const [hospital, maker, wholesaler, pharmacy] = orgs as [OrgKeyFile, OrgKeyFile, OrgKeyFile, OrgKeyFile];
  const orgKey = (o: OrgKeyFile) => join(home, o.file);
  const doctor = await staff(hospital, 'clinician', 'Dr Issue');
  const pharmacist = await staff(pharmacy, 'pharmacy', 'Issue Pharmacist');
  const patientKeys = generateKeyBundle();
  const patient = new MedLedgerClient({ url, keys: patientKeys, genesis: trusted() });
  const { id: patientId } = await patient.registerPatient();
  const patientFile = keyFile('patient2', patientKeys);
  // The patient lets the clinician write medications and the chosen pharmacy read them.
  await patient.grant({ grantee: doctor.id, categories: ['medications'], access: 'read-write', purpose: 'treatment' });
  await patient.grant({ grantee: pharmacy.id, categories: ['medications'], purpose: 'treatment' });
  const year = new Date().getUTCFullYear();

  await ok(
    'product',
    'register',
    '--org-key',
    orgKey(maker),
    '--gtin',
    GTIN2,
    '--name',
    'Aspirin',
    ...['--strength', '81 mg', '--form', 'tablet', '--rxnorm', '243670'],
  );
  // No --ndc: the line leaves it out (a product without a US NDC); shipping still carries the rest.

  const noKey = await cli('supply', 'commission', '--gtin', GTIN2, '--lot', 'LA', '--expiry', `${year + 2}-06-30`, '--count', '2');
  assert.equal(noKey.code, 2, noKey.stderr);
  assert.match(noKey.stderr, /--org-key/);
  const made = await ok(
    'supply',
    'commission',
    '--org-key',
    orgKey(maker),
    '--gtin',
    GTIN2,
    '--lot',
    'LA',
    '--expiry',
    `${year + 2}-06-30`,
    '--count',
    '3',
  );
  // Text output: the new serials, one a line.
  const serials = made.stdout.trim().split('\n');
  assert.equal(serials.length, 3);
  for (const s of serials) assert.match(s, /^[2-9A-HJ-NP-Z]{12}$/);
  assert.equal(new Set(serials).size, 3);
  const [s1, s2, s3] = serials as [string, string, string];

  const ship = (from: OrgKeyFile, to: OrgKeyFile, inv: string, ...which: string[]) =>
    ok(
      'supply',
      'ship',
      '--org-key',
      orgKey(from),
      '--to',
      to.id,
      '--gtin',
      GTIN2,
      '--serial',
      ...which,
      '--transaction',
      inv,
      '--statement',
    );
  await ship(maker, wholesaler, 'INV-A1', s1, s2, s3);
  await ok('supply', 'receive', '--org-key', orgKey(wholesaler), '--gtin', GTIN2, '--serial', s1, s2, s3);
  // The same with GTIN:SERIAL and no --gtin.
  await ok(
    'supply',
    'ship',
    '--org-key',
    orgKey(wholesaler),
    '--to',
    pharmacy.id,
    '--serial',
    `${GTIN2}:${s1}`,
    `${GTIN2}:${s2}`,
    '--transaction',
    'INV-A2',
    '--statement',
  );
  await ok('supply', 'receive', '--org-key', orgKey(pharmacy), '--serial', `${GTIN2}:${s1}`, `${GTIN2}:${s2}`);
  const bare = await cli('supply', 'receive', '--org-key', orgKey(pharmacy), '--serial', s3);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /needs --gtin/);
  const trace = await ok('supply', 'trace', '--key', orgKey(pharmacy), '--serial', `${GTIN2}:${s1}`, '--json');
  assert.deepEqual(
    trace.json().items.map((e: { bizStep: string }) => e.bizStep),
    ['commissioning', 'shipping', 'receiving', 'shipping', 'receiving'],
  );
  const prescribed = await ok(
    'rx',
    'prescribe',
    '--key',
    doctor.file,
    '--patient',
    patientId,
    '--rxnorm',
    '243670',
    '--quantity',
    '1',
    '--repeats',
    '2',
    '--pharmacy',
    pharmacy.id,
    '--days-between',
    '30',
    '--instructions',
    'one tablet a day',
  );
  const rx = prescribed.stdout.trim();
  assert.match(rx, /^[0-9a-f]{32}$/, 'prints the prescription id');
  const onChain = await ok('rx', 'show', '--key', doctor.file, '--rx', rx, '--json');
  const shown = onChain.json();
  assert.equal(shown.minIntervalDays, 30);
  assert.equal(shown.repeats, 2);
  assert.equal(shown.validFrom, new Date().toISOString().slice(0, 10));
  // The full MedicationRequest is the patient's encrypted record whose hash the chain holds,
  // sealed to the chosen pharmacy, which opens it with its organization key.
  const records = await patient.listRecords(patientId);
  const request = records.find((r) => r.contentHash === shown.requestHash);
  assert.ok(request, 'the MedicationRequest record the prescription names is in the patient’s records');
  const pharmacyOrg = new MedLedgerClient({ url, keys: readOrgKey(home, { file: pharmacy.file }), genesis: trusted() });
  const opened = (await pharmacyOrg.readRecord(request.record, 'treatment')).resource as Record<string, unknown>;
  assert.equal(opened.resourceType, 'MedicationRequest');
  assert.deepEqual(opened.dosageInstruction, [{ text: 'one tablet a day' }]);
  assert.equal((opened.dispenseRequest as { numberOfRepeatsAllowed: number }).numberOfRepeatsAllowed, 2);

  await ok('rx', 'dispense', '--key', pharmacist.file, '--rx', rx, '--item', `${GTIN2}:${s1}:LA:${year + 2}-06-30`);
  await ok('supply', 'recall', '--org-key', orgKey(maker), '--gtin', GTIN2, '--lot', 'LA', '--reason', 'label misprint');
  const notices = await ok('rx', 'notices', '--key', patientFile, '--patient', patientId, '--json');
  assert.equal(notices.json().notices.length, 1);
});

// Last in this file: it suspends the second pharmacy for good.
test('supply cancel: a shipment to a pharmacy suspended in transit comes back to its sender, who must verify it; an active addressee’s does not', async () => {
  const [hospital, maker, wholesaler, pharmacy, other] = orgs as [OrgKeyFile, OrgKeyFile, OrgKeyFile, OrgKeyFile, OrgKeyFile];
  const orgKey = (o: OrgKeyFile) => join(home, o.file);
  const sdk = (o: OrgKeyFile) => new MedLedgerClient({ url, keys: readOrgKey(home, { file: o.file }), genesis: trusted() });
  const year = new Date().getUTCFullYear();
  const made = await ok(
    'supply',
    'commission',
    '--org-key',
    orgKey(maker),
    '--gtin',
    GTIN2,
    '--lot',
    'LC',
    '--expiry',
    `${year + 2}-06-30`,
    '--count',
    '2',
  );
  const [toWholesaler, toPharmacy] = made.stdout.trim().split('\n') as [string, string];
  const ship = (to: OrgKeyFile, inv: string, serial: string) =>
    ok(
      'supply',
      'ship',
      '--org-key',
      orgKey(maker),
      '--to',
      to.id,
      '--gtin',
      GTIN2,
      '--serial',
      serial,
      '--transaction',
      inv,
      '--statement',
    );
  await ship(wholesaler, 'INV-C1', toWholesaler);
  await ship(other, 'INV-C2', toPharmacy);
  // Governance suspends the pharmacy while the pack is on its way (4 of the 5 members).
  const voters = [hospital, maker, wholesaler, pharmacy].map(sdk);
  const proposal = await govPropose(voters[0] as MedLedgerClient, { type: 'org.suspend', org: other.id }, 3_600_000);
  let last = proposal;
  for (const v of voters) last = await govVote(v, proposal.id, true);
  assert.equal(last.status, 'passed', JSON.stringify(last));
  // The suspended pharmacy cannot take it in, nor cancel it; the sender cannot ship it elsewhere.
  const receive = await cli('supply', 'receive', '--org-key', orgKey(other), '--gtin', GTIN2, '--serial', toPharmacy);
  assert.notEqual(receive.code, 0);
  assert.match(receive.stderr, /REVOKED/);
  const theirs = await cli('supply', 'cancel', '--org-key', orgKey(other), '--gtin', GTIN2, '--serial', toPharmacy);
  assert.match(theirs.stderr, /REVOKED/);
  const resold = await cli(
    'supply',
    'ship',
    '--org-key',
    orgKey(maker),
    '--to',
    wholesaler.id,
    '--gtin',
    GTIN2,
    '--serial',
    toPharmacy,
    '--transaction',
    'INV-C3',
    '--statement',
  );
  assert.match(resold.stderr, /NOT_HOLDER/);
  // What is on its way to an active partner stays that partner's to receive.
  const active = await cli('supply', 'cancel', '--org-key', orgKey(maker), '--gtin', GTIN2, '--serial', toWholesaler);
  assert.notEqual(active.code, 0);
  assert.match(active.stderr, /WRONG_STATE/);
  const notMine = await cli('supply', 'cancel', '--org-key', orgKey(wholesaler), '--gtin', GTIN2, '--serial', toPharmacy);
  assert.match(notMine.stderr, /NOT_HOLDER/);
  await ok('supply', 'cancel', '--org-key', orgKey(maker), '--gtin', GTIN2, '--serial', toPharmacy);
  const back = await getPackage(sdk(maker), GTIN2, toPharmacy);
  assert.deepEqual([back.holder, back.inTransitTo, back.returnPending], [maker.id, null, true]);
  const trace = await ok('supply', 'trace', '--key', orgKey(maker), '--gtin', GTIN2, '--serial', toPharmacy, '--json');
  assert.deepEqual(
    trace.json().items.map((e: { bizStep: string }) => e.bizStep),
    ['commissioning', 'shipping', 'void_shipping'],
  );
  // Verified (a logged supply.verify), it is sold on as usual.
  const again = await cli(
    'supply',
    'ship',
    '--org-key',
    orgKey(maker),
    '--to',
    wholesaler.id,
    '--gtin',
    GTIN2,
    '--serial',
    toPharmacy,
    '--transaction',
    'INV-C4',
    '--statement',
  );
  assert.match(again.stderr, /RETURN_NOT_VERIFIED/);
  const verified = await ok('supply', 'verify', '--key', orgKey(maker), '--gtin', GTIN2, '--serial', toPharmacy, '--json');
  assert.equal(verified.json().verified, true);
  // The logged verification commits with the next block; the ship after it then passes.
  await sdk(maker).waitForTx(verified.json().logTx);
  await ship(wholesaler, 'INV-C5', toPharmacy);
  await ok('supply', 'receive', '--org-key', orgKey(wholesaler), '--gtin', GTIN2, '--serial', toWholesaler, toPharmacy);
});
