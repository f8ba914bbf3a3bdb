// A lying node for medicines (issue 14, "trust no node"): a proxy between the client and an
// honest node says an already-dispensed or a recalled serial is fine, forges the proofs to
// match, and rewrites a prescription's fills and a trace event. The SDK and the CLI, given
// only the genesis, refuse each with the check that failed; the honest answers pass.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ClientError,
  dispense as dispenseRx,
  eventTimeNow,
  getEpcisEvent,
  getPrescription,
  MedLedgerClient,
  medicinesTx,
  staffRegisterBody,
  TrustedGenesis,
  traceProduct,
  verifyProduct,
} from '@medledger/client';
import { type Answer, editJson, type LyingProxy, pathOf, type SentRequest, startLyingProxy } from '@medledger/client/testing/lying-proxy';
import { generateKeyBundle, type KeyBundle } from '@medledger/crypto';
import { storedEventHashId } from '@medledger/ledger/epcis-hash';
import { initNetwork, loadHome, MedLedgerNode, type OrgKeyFile, readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-medicines-lying-'));
const GTIN = '00036000291452';
const RXNORM = '308182';
const EXPIRY = `${new Date().getUTCFullYear() + 2}-12-31`;
let home = '';
let node: MedLedgerNode;
let proxy: LyingProxy;
let trusted: TrustedGenesis;
let pharmacyKeys: KeyBundle;
let pharmacyKeyFile = '';
let patientKeys: KeyBundle;
let rxId = '';

const viaProxy = (keys: KeyBundle) => new MedLedgerClient({ url: proxy.url, keys, genesis: trusted, pollIntervalMs: 20 });

before(async () => {
  const init = initNetwork({
    validators: 1,
    out: dir,
    chainId: 'medicines-lying',
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Acme Pharma', kind: 'manufacturer' },
      { name: 'Corner Pharmacy', kind: 'pharmacy' },
    ],
  });
  home = init.homes[0] as string;
  const [hospital, maker, pharmacy] = init.orgKeys as [OrgKeyFile, OrgKeyFile, OrgKeyFile];
  const loaded = loadHome(home);
  loaded.config.api.port = 0;
  loaded.config.p2p.port = 0;
  loaded.config.consensus.blockIntervalMs = 20;
  node = new MedLedgerNode(loaded, { logger: () => {} });
  const url = await node.start();
  trusted = TrustedGenesis.fromDocument(node.chain.genesis);
  proxy = await startLyingProxy(url);
  const direct = (keys: KeyBundle) => new MedLedgerClient({ url, keys, genesis: trusted, pollIntervalMs: 20 });
  const org = (o: OrgKeyFile) => direct(readOrgKey(home, { file: o.file }));
  pharmacyKeys = readOrgKey(home, { file: pharmacy.file });
  pharmacyKeyFile = join(home, pharmacy.file);

  // The honest world: S1 and S2 of lot L1 and S3 of lot L2 at the pharmacy; S1 dispensed on a
  // prescription, lot L2 recalled.
  const doctor = generateKeyBundle();
  const pharmacist = generateKeyBundle();
  const staff = (keys: KeyBundle, role: 'clinician' | 'pharmacy', name: string) =>
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name });
  await org(hospital).submitAndWait('staff.register', staff(doctor, 'clinician', 'Dr Rx'));
  await org(pharmacy).submitAndWait('staff.register', staff(pharmacist, 'pharmacy', 'Pharmacist'));
  patientKeys = generateKeyBundle();
  const patientId = (await direct(patientKeys).registerPatient()).id;
  // rx.prescribe needs the patient's read-write consent covering a MedicationRequest.
  await direct(patientKeys).grant({
    grantee: direct(doctor).id,
    resourceTypes: ['MedicationRequest'],
    access: 'read-write',
    purpose: 'treatment',
  });
  const makerClient = org(maker);
  await medicinesTx(makerClient, 'product.register', {
    gtin: GTIN,
    ndc: '12345-678-90',
    name: 'Amoxicillin',
    strength: '500 mg',
    form: 'capsule',
    rxnorm: RXNORM,
  });
  await medicinesTx(makerClient, 'supply.commission', {
    gtin: GTIN,
    lot: 'L1',
    expiry: EXPIRY,
    serials: ['S1', 'S2'],
    eventTime: eventTimeNow(),
  });
  await medicinesTx(makerClient, 'supply.commission', {
    gtin: GTIN,
    lot: 'L2',
    expiry: EXPIRY,
    serials: ['S3'],
    eventTime: eventTimeNow(),
  });
  const epcs = ['S1', 'S2', 'S3'].map((serial) => ({ gtin: GTIN, serial }));
  const today = new Date().toISOString().slice(0, 10);
  await medicinesTx(makerClient, 'supply.ship', {
    to: pharmacy.id,
    epcs,
    eventTime: eventTimeNow(),
    transaction: 'INV-1',
    transactionDate: today,
    statement: true,
  });
  await medicinesTx(org(pharmacy), 'supply.receive', { epcs, eventTime: eventTimeNow() });
  rxId = (
    await medicinesTx(direct(doctor), 'rx.prescribe', {
      requestHash: 'ab'.repeat(32),
      patient: patientId,
      pharmacy: pharmacy.id,
      rxnorm: RXNORM,
      quantity: 1,
      repeats: 1,
      validFrom: '2020-01-01',
      validTo: EXPIRY,
      minIntervalDays: 28,
    })
  ).id;
  await dispenseRx(direct(pharmacist), {
    rx: rxId,
    items: [{ gtin: GTIN, serial: 'S1', lot: 'L1', expiry: EXPIRY }],
  });
  await medicinesTx(makerClient, 'supply.recall', { gtin: GTIN, lot: 'L2', reason: 'sterility', eventTime: eventTimeNow() });
});
after(async () => {
  await proxy?.close();
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function underLie(lie: (r: SentRequest, a: Answer) => Answer | undefined, act: () => Promise<unknown>): Promise<unknown> {
  proxy.lie(lie);
  try {
    await act();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    proxy.lie(undefined);
  }
}

function refused(err: unknown, code: string): void {
  assert.ok(err instanceof ClientError, `expected a refusal, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.match(err.message, new RegExp(code));
}

/** The node's /verify answer says "verified" for every serial. */
const allFine = (r: SentRequest, a: Answer) =>
  pathOf(r).endsWith('/verify') && a.status === 200
    ? editJson(a, (j) => {
        j.verified = true;
        delete j.reason;
      })
    : undefined;

/** `allFine`, and the proofs' values rewritten by `forge` to back it. */
const allFineWithForgedProofs =
  (forge: (key: string, value: string | null) => string | null) =>
  (r: SentRequest, a: Answer): Answer | undefined => {
    if (r.method === 'POST' && pathOf(r) === '/v1/state/proofs' && a.status === 200)
      return editJson(a, (j) => {
        for (const e of j.entries) e.value = forge(e.key, e.value);
      });
    return allFine(r, a);
  };

const verifyS = (serial: string) => verifyProduct(viaProxy(pharmacyKeys), { gtin: GTIN, serial });

describe('medicines: the SDK and the CLI refuse a lying node', () => {
  test('honest control: through the proxy, S2 verifies, S1 is Dispensed and S3 Recalled, each at a proven height', async () => {
    const s2 = await verifyS('S2');
    assert.equal(s2.verified, true);
    assert.ok(s2.height >= 1);
    assert.equal((await verifyS('S1')).reason, 'Dispensed');
    assert.equal((await verifyS('S3')).reason, 'Recalled');
    assert.equal((await getPrescription(viaProxy(patientKeys), rxId)).fills, 1);
  });

  test('an already-dispensed serial called fine is refused (FACT_NOT_PROVEN), by the SDK and the CLI', async () => {
    refused(await underLie(allFine, () => verifyS('S1')), 'FACT_NOT_PROVEN');
    proxy.lie(allFine);
    try {
      const run = await runCli([
        'supply',
        'verify',
        '--key',
        pharmacyKeyFile,
        '--gtin',
        GTIN,
        '--serial',
        'S1',
        '--url',
        proxy.url,
        '--genesis',
        join(dir, 'genesis.json'),
        '--json',
      ]);
      assert.notEqual(run.code, 0, 'the CLI does not report a dispensed serial as verified');
      assert.match(run.stderr, /FACT_NOT_PROVEN/);
      assert.doesNotMatch(run.stdout, /"verified":\s*true/);
    } finally {
      proxy.lie(undefined);
    }
  });

  test('a recalled serial called fine is refused (FACT_NOT_PROVEN)', async () => {
    refused(await underLie(allFine, () => verifyS('S3')), 'FACT_NOT_PROVEN');
  });

  test('the lie backed by forged proofs (recall hidden, package undispensed) is refused (STATE_PROOF_INVALID)', async () => {
    const hideRecall = allFineWithForgedProofs((key, value) => (key.startsWith('recall/') ? null : value));
    refused(await underLie(hideRecall, () => verifyS('S3')), 'STATE_PROOF_INVALID');
    const undispense = allFineWithForgedProofs((key, value) =>
      key.startsWith('pkg/') && value !== null ? value.replace('"status":"dispensed"', '"status":"active"') : value,
    );
    refused(await underLie(undispense, () => verifyS('S1')), 'STATE_PROOF_INVALID');
  });

  test('a prescription shown with its fill undone is refused (FACT_NOT_PROVEN), by the SDK and the CLI', async () => {
    const unfill = (r: SentRequest, a: Answer) =>
      pathOf(r).startsWith('/v1/prescriptions/') && a.status === 200
        ? editJson(a, (j) => {
            j.fills = 0;
            j.lastFillTime = null;
          })
        : undefined;
    refused(await underLie(unfill, () => getPrescription(viaProxy(pharmacyKeys), rxId)), 'FACT_NOT_PROVEN');
    proxy.lie(unfill);
    try {
      const run = await runCli([
        'rx',
        'show',
        '--key',
        pharmacyKeyFile,
        '--rx',
        rxId,
        '--url',
        proxy.url,
        '--genesis',
        join(dir, 'genesis.json'),
      ]);
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /FACT_NOT_PROVEN/);
    } finally {
      proxy.lie(undefined);
    }
  });

  test('an altered trace event is refused (FACT_NOT_PROVEN)', async () => {
    const reroute = (r: SentRequest, a: Answer) =>
      pathOf(r).endsWith('/events') && a.status === 200
        ? editJson(a, (j) => {
            j.events[0]['medledger:recordedBy'] = 'ff'.repeat(20);
          })
        : undefined;
    refused(await underLie(reroute, () => traceProduct(viaProxy(pharmacyKeys), { gtin: GTIN, serial: 'S2' })), 'FACT_NOT_PROVEN');
  });

  test('a trace event whose content no longer hashes to its eventID is refused before any proof (EVENT_ID_MISMATCH)', async () => {
    // The node says S2 was shipped at commissioning instead: the canonical event hash the client
    // recomputes (GS1 CBV 2.0) is not the eventID it kept.
    let proofsAsked = 0;
    const rewrite = (r: SentRequest, a: Answer) => {
      if (pathOf(r).startsWith('/v1/state/proof')) proofsAsked += 1;
      return pathOf(r).endsWith('/events') && a.status === 200
        ? editJson(a, (j) => {
            j.events[0].bizStep = 'shipping';
          })
        : undefined;
    };
    refused(await underLie(rewrite, () => traceProduct(viaProxy(pharmacyKeys), { gtin: GTIN, serial: 'S2' })), 'EVENT_ID_MISMATCH');
    assert.equal(proofsAsked, 0, 'the lie is refused from the event itself, before the proof is asked');
    // The same lie with the eventID recomputed to fit the new content: that event is not on chain.
    const consistent = (r: SentRequest, a: Answer) =>
      pathOf(r).endsWith('/events') && a.status === 200
        ? editJson(a, (j) => {
            j.events[0].bizStep = 'shipping';
            j.events[0].eventID = storedEventHashId(j.events[0]);
          })
        : undefined;
    refused(await underLie(consistent, () => traceProduct(viaProxy(pharmacyKeys), { gtin: GTIN, serial: 'S2' })), 'FACT_NOT_PROVEN');
    // And the CLI's trace refuses the first lie as well.
    proxy.lie(rewrite);
    try {
      const run = await runCli([
        'supply',
        'trace',
        '--key',
        pharmacyKeyFile,
        '--gtin',
        GTIN,
        '--serial',
        'S2',
        '--url',
        proxy.url,
        '--genesis',
        join(dir, 'genesis.json'),
        '--json',
      ]);
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /EVENT_ID_MISMATCH/);
    } finally {
      proxy.lie(undefined);
    }
  });

  test('an event asked for by its id and answered with another recorded event is refused (FACT_NOT_PROVEN)', async () => {
    const client = viaProxy(pharmacyKeys);
    const [first, second] = (await traceProduct(client, { gtin: GTIN, serial: 'S2' })).items as [
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    assert.equal((await getEpcisEvent(client, String(first.eventID))).eventID, first.eventID, 'honest control');
    // A genuine, provable event, only not the one asked for: its own id and proof hold.
    const other = (r: SentRequest, a: Answer) =>
      pathOf(r).startsWith('/v1/epcis/events/') && a.status === 200 ? { status: 200, body: JSON.stringify(second) } : undefined;
    refused(await underLie(other, () => getEpcisEvent(client, String(first.eventID))), 'FACT_NOT_PROVEN');
  });
});
