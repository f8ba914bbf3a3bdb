// `medledger start` on a fresh data directory without MEDLEDGER_PASSPHRASE: the demo
// network — five organizations of the right kinds, staff, three Synthea patients and their
// consents, Evergreen's plan, coverage and claims — and the sign-in sheet it prints works as printed.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  type ClaimView,
  type ClientError,
  listInsurance,
  listPrescriptions,
  MedLedgerClient,
  openEmergency,
  parseGs1,
  TrustedGenesis,
  verifyProduct,
} from '@medledger/client';
import { decryptKeystore } from '@medledger/crypto';
import type { Genesis } from '@medledger/ledger';
import { freePortRange, waitFor } from '@medledger/node/testing';
import { DEMO_PASSPHRASE, type DemoSheet } from './demo.js';
import { syntheaClaimsOf } from './synthea-claims.js';
import { BIN } from './testing/cli.js';
import { readmeLine, readmeShellBlock, runReadmeFlow } from './testing/readme-flow.js';

const dir = mkdtempSync(join(tmpdir(), 'medledger-demo-'));
/** The demo's data directory, named as `npm start` names it, so README flows run in `dir` as written. */
const data = join(dir, '.medledger');
after(() => rmSync(dir, { recursive: true, force: true }));

function interrupt(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

test('start seeds a demo network and prints how to sign in as each demo user', { timeout: 900_000 }, async () => {
  const env = { ...process.env };
  delete env.MEDLEDGER_PASSPHRASE;
  const child = spawn(process.execPath, [BIN, 'start', '--data', data, '--base-port', String(await freePortRange(8))], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += String(c);
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += String(c);
  });
  try {
    await waitFor(() => (out.includes('press Ctrl-C') ? true : undefined), 'the demo to be seeded', 480_000).catch((err: Error) => {
      throw new Error(`${err.message}; output:\n${out.slice(-3_000)}`);
    });
    assert.match(out, new RegExp(`demo passphrase: ${DEMO_PASSPHRASE}`));
    const sheet = JSON.parse(readFileSync(join(data, 'demo', 'demo.json'), 'utf8')) as DemoSheet;
    for (const u of sheet.users) assert.ok(out.includes(u.keyFile), `the output names ${u.keyFile}`);

    const genesis = JSON.parse(readFileSync(sheet.genesis, 'utf8')) as Genesis;
    assert.deepEqual(genesis.organizations.map((o) => o.kind).sort(), [
      'clinic',
      'distributor',
      'hospital',
      'hospital',
      'insurer',
      'manufacturer',
      'pharmacy',
      'pharmacy',
      'regulator',
    ]);
    const open = (name: string) => {
      const user = sheet.users.find((u) => u.name.startsWith(name));
      assert.ok(user, `${name} is a demo user`);
      const keys = decryptKeystore(JSON.parse(readFileSync(user.keyFile, 'utf8')), DEMO_PASSPHRASE);
      return { user, client: new MedLedgerClient({ url: sheet.url, keys, genesis: TrustedGenesis.fromDocument(genesis) }) };
    };
    // Each staff member is registered by the organization the sheet names.
    const orgIds = new Map(sheet.users.filter((u) => u.role.startsWith('organization')).map((u) => [u.name, u.id]));
    assert.equal(orgIds.size, 9);
    for (const u of sheet.users.filter((x) => x.organization !== undefined)) {
      const identity = (await (await fetch(`${sheet.url}/v1/identities/${u.id}`)).json()) as { org: string; role: string };
      assert.equal(identity.org, orgIds.get(u.organization as string), `${u.name} works for ${u.organization}`);
      assert.equal(identity.role, u.role);
    }
    const patients = sheet.users.filter((u) => u.role === 'patient');
    assert.ok(patients.length >= 3);
    assert.ok(sheet.users.filter((u) => u.role === 'clinician').length >= 2);

    // Liz Conn signs in with her keystore and sees her imported records; Dr Grey, whom she
    // granted problems, medications and allergies, reads those and nothing else.
    const liz = open('Liz Conn');
    const records = await liz.client.listRecords(liz.user.id);
    assert.ok(records.length > 50, 'the Synthea bundle was imported');
    const grey = open('Dr Meredith Grey');
    const problem = records.find((r) => r.category === 'problems');
    const lab = records.find((r) => r.category === 'laboratory');
    assert.ok(problem && lab);
    assert.equal(((await grey.client.readRecord(problem.record)).resource as { resourceType: string }).resourceType, 'Condition');
    await assert.rejects(grey.client.readRecord(lab.record), (e: ClientError) => e.code === 'ACCESS_DENIED');
    // Garrett Thompson granted Dr House his problems and laboratory results.
    const garrett = open('Garrett Thompson');
    const garrettLab = (await garrett.client.listRecords(garrett.user.id)).find((r) => r.category === 'laboratory');
    assert.ok(garrettLab);
    const house = open('Dr Gregory House');
    assert.equal((await house.client.readRecord(garrettLab.record)).meta.record, garrettLab.record);
    // Dannie Schmitt, a patient of another hospital, granted him nothing.
    const dannie = open('Dannie Schmitt');
    const dannieRecord = (await dannie.client.listRecords(dannie.user.id))[0];
    assert.ok(dannieRecord);
    await assert.rejects(house.client.readRecord(dannieRecord.record), (e: ClientError) => e.code === 'ACCESS_DENIED');
    assert.ok(sheet.consents.length >= 3);
    // Dr House holds the emergency privilege his hospital gave him, as the sheet says.
    assert.deepEqual(sheet.emergencyPrivilege, ['Dr Gregory House']);
    const params = (await (await fetch(`${sheet.url}/v1/emergency/params`)).json()) as { threshold: number };
    assert.equal(params.threshold, 3, 'more than 2/3 of the 4 validators');
    const opened = await openEmergency(house.client, {
      patient: dannie.user.id,
      reason: 'brought in unresponsive, no consent possible',
      durationMs: 60_000,
    });
    assert.ok(opened.badShares.length === 0);
    assert.equal((await house.client.readRecord(dannieRecord.record)).meta.record, dannieRecord.record, 'read under emergency access');
    assert.ok(out.includes(`web app: open ${sheet.url}/`));

    // Insurance (docs/insurance.md): Evergreen's officer sees its claims in several states, the
    // duplicates held for review; each patient sees their own claims.
    assert.ok(sheet.insurance, 'the sheet names the insurance demo');
    assert.match(out, /computed payer total \$[0-9.]+; Synthea EOB payments for the same claims \$[0-9.]+/);
    const officer = open('Claire Claims');
    const queue = await listInsurance<ClaimView>(officer.client, { by: 'insurers', id: sheet.insurance.insurer, of: 'claims', limit: 500 });
    const states = new Set(queue.items.map((c) => c.status));
    assert.ok(states.has('review') && states.has('paid') && states.has('adjudicated'), [...states].join(', '));
    assert.ok(queue.items.some((c) => c.disputeOpen));
    const lizClaims = await listInsurance<ClaimView>(liz.client, { by: 'patients', id: liz.user.id, of: 'claims' });
    assert.ok(lizClaims.items.length > 0 && lizClaims.items.every((c) => c.patient === liz.user.id));
    // Every Synthea claim of the demo patients is billed (docs/insurance.md "The demo"), each
    // Synthea line a line of its claim, the duplicates and a denied medicine among them.
    const synthea = ['liz_conn', 'dannie_schmitt', 'garrett_thompson'].flatMap((f) =>
      syntheaClaimsOf(JSON.parse(readFileSync(join(data, 'demo', 'patients', `${f}.json`), 'utf8'))),
    );
    assert.equal(sheet.insurance.claims, synthea.length + 3, 'every Synthea claim and one duplicate per patient');
    assert.equal(queue.items.length, synthea.length + 3);
    assert.equal(queue.next, null);
    assert.ok(
      queue.items.some((c) => (c.items as unknown[]).length > 1),
      'multi-line claims',
    );
    assert.ok(states.has('denied'), 'a medicine billed without prior authorization');

    // The README's first flow, pasted as written (README.md, after "The CLI, the SDK and the web
    // app trust only"): Liz reads and proves her record, Dr House reads it through his
    // hospital's node, and Dr Grey, outside what Liz shares with her, is refused with exit 5.
    const first = await runReadmeFlow({
      cwd: dir,
      url: sheet.url,
      script: readmeShellBlock('The CLI, the SDK and the web app trust only'),
    });
    assert.equal(first.code, 0, `the README's first flow failed:\n${first.stdout}\n${first.stderr.slice(-4_000)}`);
    assert.match(first.stdout, /^PROVEN: record [0-9a-f]{32} is anchored in block \d+/m);
    assert.match(first.stdout, /committed by \d validators, [34] of 4 voting power/);
    assert.match(first.stdout, /^read\nexit 5\n/m, 'Dr House reads on his hospital node; Dr Grey is refused');

    // The sign-in sheet's "try:" lines run as printed: the record prove line signs in as the
    // patient (without --key nodes withhold block bodies, and it fails with BODIES_WITHHELD).
    const proveLine = out.split('\n').find((l) => l.includes(' record prove '));
    if (proveLine === undefined) assert.fail('the sheet prints a record prove line');
    assert.ok(proveLine.startsWith('  npx medledger record prove --key '), `the sheet's prove line: ${proveLine}`);
    const lizRecord = (await liz.client.listRecords(liz.user.id))[0];
    assert.ok(lizRecord);
    const tried = await runReadmeFlow({
      cwd: dir,
      url: sheet.url,
      script: [readmeLine('export MEDLEDGER_PASSPHRASE='), proveLine.replace('RECORD_ID', lizRecord.record)].join('\n'),
    });
    assert.equal(tried.code, 0, `the sheet's record prove line failed:\n${tried.stdout}\n${tried.stderr.slice(-4_000)}`);
    assert.match(tried.stdout, new RegExp(`^PROVEN: record ${lizRecord.record} `, 'm'));

    // The README's insurance flow, pasted as written (README.md "Insurance at Evergreen").
    const flow = await runReadmeFlow({
      cwd: dir,
      url: sheet.url,
      script: [readmeLine('export MEDLEDGER_PASSPHRASE='), readmeShellBlock('Insurance at Evergreen Health Insurance')].join('\n'),
    });
    assert.equal(flow.code, 0, `the README insurance flow failed:\n${flow.stdout}\n${flow.stderr.slice(-4_000)}`);
    assert.match(flow.stdout, /covered/);
    assert.match(flow.stdout, /prior authorization [0-9a-f]{32}: pended/);
    assert.match(flow.stdout, /insurer pays \$880\.00, patient owes \$720\.00/);
    assert.match(flow.stdout, /claim [0-9a-f]{32}: review \(flags: DUPLICATE\)/);

    // Medicines (docs/medicines.md): the pharmacist scans a package on the shelf, sees the
    // waiting prescription, and fills it; a second fill of the same package is refused.
    const m = sheet.medicines;
    assert.ok(m, 'the sheet names the medicines demo');
    assert.ok(out.includes(`--code '${m.scan}'`), 'the sheet prints the scan to try');
    const pharmacist = open('Phil Pharmacist');
    const scanned = parseGs1(m.scan);
    assert.equal((await verifyProduct(pharmacist.client, scanned)).verified, true);
    const waiting = await listPrescriptions(pharmacist.client, { by: 'pharmacies', id: m.pharmacy });
    assert.ok(waiting.items.some((rx) => rx.id === m.prescription.id && rx.status === 'active' && rx.fills === 0));
    // The README's medicines flows, pasted as written in one shell (README.md "Medicines at the
    // pharmacy counter", "The supply chain and a new prescription", "Products, suspect packs and
    // recalls"): issue 14's command lines on the fresh demo.
    const medicines = await runReadmeFlow({
      cwd: dir,
      url: sheet.url,
      script: [
        readmeLine('export MEDLEDGER_PASSPHRASE='),
        readmeShellBlock('Medicines at the pharmacy counter'),
        readmeShellBlock('The supply chain and a new prescription'),
        readmeShellBlock('Products, suspect packs and recalls'),
      ].join('\n'),
    });
    assert.equal(medicines.code, 0, `the README medicines flows failed:\n${medicines.stdout}\n${medicines.stderr.slice(-4_000)}`);
    assert.match(medicines.stdout, /dispensed at height \d+; record [0-9a-f]+/);
    assert.match(medicines.stdout, /not verified: Dispensed\nexit 5\n/, 'the second scan of the dispensed pack is refused');
    assert.match(medicines.stdout, /not verified: Recalled\nexit 5\n/, 'a pack of the recalled lot is refused');
    assert.equal((await verifyProduct(pharmacist.client, scanned)).reason, 'Dispensed');
    const rx2 = /^[0-9a-f]{32}$/m.exec(medicines.stdout)?.[0];
    assert.ok(rx2, `rx prescribe printed the new prescription's id:\n${medicines.stdout}`);
    assert.match(medicines.stdout, new RegExp(`^${rx2} RxNorm 243670 cancelled`, 'm'), 'rx list shows the moved prescription cancelled');
  } finally {
    assert.equal(await interrupt(child), 0);
  }
});
