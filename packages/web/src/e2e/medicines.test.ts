// The pharmacist's dispense in the web UI with the `npm start` demo: Phil Pharmacist signs in
// with his keystore file, types the DataMatrix of a pack on the shelf, sees it verified and
// Garrett's prescription waiting, dispenses, and the same pack then answers "already
// dispensed"; he receives a delivery Acme shipped to the pharmacy and destroys a damaged pack
// (the dispensed one is refused, in words); Garrett sees the fill on his Medicines page and the pharmacy's MedicationDispense
// record (pack, lot, expiry, pharmacy) in his own records. Every page is checked with axe.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkPage, openBrowser, requireBrowserAndBuild } from './browser.js';
import { BIN, startDemo } from './demo-network.js';

const dir = mkdtempSync(join(tmpdir(), 'medledger-web-medicines-'));
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('the pharmacist scans a pack, sees the waiting prescription and dispenses it; the pack is then refused', {
  timeout: 600_000,
}, async () => {
  requireBrowserAndBuild();
  const demo = await startDemo(dir);
  const { sheet, env, keyOf } = demo;
  try {
    const failures: string[] = [];
    // Each user in a browser of their own (one browser's storage holds one signed-in session).
    const signIn = async (name: string, heading: string) => {
      const browser = await openBrowser();
      closers.push(browser.close);
      const page = await browser.context.newPage();
      await page.goto(`${sheet.url}/sign-in`);
      await page.getByLabel('Recovery file', { exact: true }).setInputFiles(keyOf(name));
      await page.getByLabel('Passphrase').fill(sheet.passphrase);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      return page;
    };

    const phil = await signIn('Phil Pharmacist', 'Pharmacy counter');
    const waiting = phil.getByRole('list', { name: 'Prescriptions waiting here' });
    await waiting.waitFor({ timeout: 60_000 });
    const rxShort = sheet.medicines.prescription.id.slice(0, 8);
    await waiting.getByText(`Prescription ${rxShort}`, { exact: true }).waitFor();
    await checkPage(phil, 'pharmacy-counter', failures);

    await phil.getByLabel('DataMatrix code').fill(sheet.medicines.scan);
    await phil.getByRole('button', { name: 'Check pack' }).click();
    await phil.getByText(/^Verified: pack /).waitFor({ timeout: 60_000 });
    await checkPage(phil, 'pharmacy-counter-verified', failures);
    await phil.getByRole('button', { name: `Dispense scanned pack for prescription ${rxShort}` }).click();
    await phil.getByText(`against prescription ${rxShort}.`, { exact: false }).waitFor({ timeout: 60_000 });

    // The same pack again: refused in words.
    await phil.getByLabel('DataMatrix code').fill(sheet.medicines.scan);
    await phil.getByRole('button', { name: 'Check pack' }).click();
    await phil.getByText(/Not verified: this pack was already dispensed/).waitFor({ timeout: 60_000 });
    await checkPage(phil, 'pharmacy-counter-dispensed', failures);
    // A pack with a wrong check digit is refused before anything is asked.
    await phil
      .getByLabel('DataMatrix code')
      .fill(sheet.medicines.scan.replace(/^\(01\)(\d{13})(\d)/, (_m, body, d) => `(01)${body}${(Number(d) + 1) % 10}`));
    await phil.getByRole('button', { name: 'Check pack' }).click();
    await phil.getByText(/check digit/).waitFor();

    // A delivery addressed to the pharmacy: Acme commissions two packs and ships them to Main
    // Street Pharmacy (CLI); Phil receives them from the counter's "Receive a delivery".
    const [gtin, lot] = [/\(01\)(\d{14})/.exec(sheet.medicines.scan)?.[1], /\(10\)([^(]+)/.exec(sheet.medicines.scan)?.[1]];
    assert.ok(gtin !== undefined && lot !== undefined, `the demo scan names a GTIN and a lot: ${sheet.medicines.scan}`);
    const expiry = `${new Date().getUTCFullYear() + 2}-12-31`;
    const cli = (...args: string[]) => {
      const run = spawnSync(
        process.execPath,
        [
          BIN,
          ...args,
          '--key',
          keyOf('Acme Pharmaceuticals'),
          '--url',
          sheet.url,
          '--genesis',
          join(dir, 'node0', 'genesis.json'),
          '--json',
        ],
        { env: { ...env, MEDLEDGER_PASSPHRASE: sheet.passphrase }, encoding: 'utf8' },
      );
      assert.equal(run.status, 0, `${args.slice(0, 2).join(' ')}: ${run.stderr}`);
      return JSON.parse(run.stdout);
    };
    const made = cli('supply', 'commission', '--gtin', gtin, '--lot', 'WEBRX1', '--expiry', expiry, '--count', '2');
    const delivered = made.serials as string[];
    assert.equal(delivered.length, 2, `two packs commissioned: ${JSON.stringify(made)}`);
    cli(
      'supply',
      'ship',
      '--to',
      sheet.medicines.pharmacy,
      '--gtin',
      gtin,
      '--serial',
      ...delivered,
      '--transaction',
      'ACME-INV-WEB1',
      '--statement',
    );
    const scanOf = (serial: string) => `(01)${gtin}(21)${serial}(10)WEBRX1(17)${expiry.slice(2, 4)}1231`;

    await phil.getByRole('navigation', { name: 'Pharmacy pages' }).getByRole('link', { name: 'Receive a delivery' }).click();
    await phil.getByRole('heading', { level: 1, name: 'Receive a delivery' }).waitFor();
    const receive = phil.getByRole('region', { name: 'Packs and cases that arrived' });
    // The pack already dispensed was never shipped here again: refused, naming the pack.
    const shelfSerial = /\(21\)([^(]+)/.exec(sheet.medicines.scan)?.[1] as string;
    await receive.getByLabel('Serial numbers').fill(sheet.medicines.scan);
    await receive.getByRole('button', { name: 'Receive' }).click();
    await receive
      .getByRole('alert')
      .getByText(`Pack ${shelfSerial} was not shipped to you, or was already received`, { exact: false })
      .waitFor({ timeout: 60_000 });
    await checkPage(phil, 'pharmacy-receive-refused', failures);
    await receive.getByLabel('Serial numbers').fill(delivered.map(scanOf).join('\n'));
    await receive.getByRole('button', { name: 'Receive' }).click();
    await receive.getByText('Received 2 packs: they are in your custody now.').waitFor({ timeout: 60_000 });
    await checkPage(phil, 'pharmacy-received', failures);

    // One of them is damaged: Phil destroys it. The dispensed pack cannot be destroyed.
    await phil
      .getByRole('navigation', { name: 'Pharmacy pages' })
      .getByRole('link', { name: 'Destroy a damaged or returned pack' })
      .click();
    await phil.getByRole('heading', { level: 1, name: 'Destroy a pack' }).waitFor();
    await checkPage(phil, 'pharmacy-destroy', failures);
    const destroy = phil.getByRole('region', { name: 'Pack to destroy' });
    await destroy.getByLabel('Serial numbers').fill(sheet.medicines.scan);
    await destroy.getByRole('button', { name: 'Destroy' }).click();
    await destroy
      .getByRole('alert')
      .getByText(`Pack ${shelfSerial} was already dispensed to a patient`, { exact: false })
      .waitFor({ timeout: 60_000 });
    await checkPage(phil, 'pharmacy-destroy-refused', failures);
    await destroy.getByLabel('Serial numbers').fill(scanOf(delivered[0] as string));
    await destroy.getByLabel('Why').selectOption({ label: 'Damaged' });
    await destroy.getByRole('button', { name: 'Destroy' }).click();
    await destroy.getByText(`Pack ${delivered[0]} destroyed (Damaged): it no longer verifies.`).waitFor({ timeout: 60_000 });
    await checkPage(phil, 'pharmacy-destroyed', failures);
    // Back at the counter, the destroyed pack answers in words; its sibling verifies.
    await phil
      .getByRole('navigation', { name: 'Pharmacy pages' })
      .getByRole('link', { name: /^Pharmacy counter/ })
      .click();
    await phil.getByRole('heading', { level: 1, name: 'Pharmacy counter' }).waitFor();
    await phil.getByLabel('DataMatrix code').fill(scanOf(delivered[0] as string));
    await phil.getByRole('button', { name: 'Check pack' }).click();
    await phil.getByText(/Not verified: this pack was destroyed or taken out of the supply chain/).waitFor({ timeout: 60_000 });
    await phil.getByLabel('DataMatrix code').fill(scanOf(delivered[1] as string));
    await phil.getByRole('button', { name: 'Check pack' }).click();
    await phil.getByText(`Verified: pack ${delivered[1]}`, { exact: false }).waitFor({ timeout: 60_000 });

    const garrett = await signIn('Garrett Thompson', 'My records');
    await garrett.getByRole('link', { name: 'Medicines' }).click();
    await garrett.getByRole('heading', { level: 1, name: 'Medicines' }).waitFor();
    await garrett
      .getByRole('list', { name: 'My prescriptions' })
      .getByText(/filled 1 time\b/)
      .waitFor({ timeout: 60_000 });
    await checkPage(garrett, 'patient-medicines', failures);
    // The pharmacy's dispense record is in Garrett's own records: what, which pack, lot and expiry, where.
    await garrett.goto(`${sheet.url}/records`);
    const dispensed = garrett.getByRole('listitem').filter({ hasText: 'Medicine dispensed' }).first();
    await dispensed.waitFor({ timeout: 60_000 });
    await dispensed.getByRole('link').click();
    const serial = /\(21\)([^(]+)/.exec(sheet.medicines.scan)?.[1] as string;
    await garrett.getByText(serial, { exact: false }).first().waitFor({ timeout: 60_000 });
    await garrett.getByText('Main Street Pharmacy').first().waitFor();
    await garrett
      .getByText(/^lot .*, expires \d{4}-\d{2}-\d{2}$/)
      .first()
      .waitFor();
    await checkPage(garrett, 'patient-dispense-record', failures);

    // Acme recalls the lot of the pack Garrett was given: his notification centre tells him
    // (issue 17 item 10), from his proven prescriptions and the proven recall.
    const recall = spawnSync(
      process.execPath,
      [
        BIN,
        'supply',
        'recall',
        '--key',
        keyOf('Acme Pharmaceuticals'),
        '--url',
        sheet.url,
        '--genesis',
        join(dir, 'node0', 'genesis.json'),
      ].concat(['--gtin', gtin, '--lot', lot, '--reason', 'sterility failure']),
      { env: { ...env, MEDLEDGER_PASSPHRASE: sheet.passphrase }, encoding: 'utf8' },
    );
    assert.equal(recall.status, 0, `supply recall: ${recall.stderr}`);
    await garrett.getByRole('link', { name: /^Notifications/ }).click();
    await garrett.getByText(/was recalled on .*sterility failure/).waitFor({ timeout: 60_000 });
    await checkPage(garrett, 'patient-recall-notice', failures);

    assert.deepEqual(failures, [], `accessibility: serious or critical axe violations\n${failures.join('\n')}`);
  } finally {
    assert.equal(await demo.stop(), 0);
  }
});
