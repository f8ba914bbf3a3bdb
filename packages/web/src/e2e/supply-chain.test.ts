// The supply chain and prescribing in the web UI with the `npm start` demo (issue 14 item 8):
// Acme (manufacturer) lands on its own home, commissions two packs and ships them to Cardinal;
// Cardinal (wholesaler) receives them, verifies one and ships them on to Main Street Pharmacy;
// the Drug Safety Agency (regulator) traces a pack's whole custody history, sees the
// notifications and recalls the lot, on a phone-width screen; Dr Ross prescribes for Garrett
// from Garrett's page. Every answer shown is proven by the SDK; every page is checked with axe.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkPage, openBrowser, requireBrowserAndBuild } from './browser.js';
import { startDemo } from './demo-network.js';

const dir = mkdtempSync(join(tmpdir(), 'medledger-web-supply-'));
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('manufacturer, wholesaler and regulator homes move, verify, trace and recall packs; a clinician prescribes from the patient page', {
  timeout: 900_000,
}, async () => {
  requireBrowserAndBuild();
  const demo = await startDemo(dir);
  const { sheet, keyOf } = demo;
  try {
    const failures: string[] = [];
    const signIn = async (name: string, heading: string) => {
      const browser = await openBrowser();
      closers.push(browser.close);
      const page = await browser.context.newPage();
      await page.goto(`${sheet.url}/sign-in`);
      await page.getByLabel('Recovery file', { exact: true }).setInputFiles(keyOf(name));
      await page.getByLabel('Passphrase').fill(sheet.passphrase);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // Each partner lands on its own home.
      await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 60_000 });
      return page;
    };
    const product = sheet.medicines.products.find((p) => p.rxnorm === '243670') ?? sheet.medicines.products[0];
    assert.ok(product !== undefined, 'the demo registers products');
    const gtin = product.gtin;
    const lot = 'WEB1';
    const year = new Date().getUTCFullYear() + 2;
    const ok = { timeout: 90_000 };

    // The manufacturer commissions two packs and ships them to the wholesaler.
    const acme = await signIn('Acme Pharmaceuticals', 'Manufacturer');
    await checkPage(acme, 'manufacturer-home', failures);
    const commission = acme.getByRole('region', { name: 'Commission packs' });
    await commission.getByLabel('Product GTIN').fill(gtin);
    await commission.getByLabel('Lot').fill(lot);
    await commission.getByLabel('Expiry date').fill(`${year}-12-31`);
    await commission.getByLabel('How many packs').fill('2');
    await commission.getByRole('button', { name: 'Commission' }).click();
    await commission.getByText('Commissioned 2 packs of lot WEB1.').waitFor(ok);
    const serials = (await commission.getByRole('list', { name: 'New serial numbers' }).getByRole('listitem').allInnerTexts()).map((s) =>
      s.trim(),
    );
    assert.equal(serials.length, 2);
    const ship = async (page: typeof acme, to: string, invoice: string) => {
      const form = page.getByRole('region', { name: 'Ship packs' });
      await form.getByLabel('Ship to').selectOption({ label: to });
      await form.getByLabel('Product GTIN').fill(gtin);
      await form.getByLabel('Serial numbers').fill(serials.join('\n'));
      await form.getByLabel('Invoice or order number').fill(invoice);
      await form.getByLabel(/I make the DSCSA transaction statement/).check();
      await form.getByRole('button', { name: 'Ship' }).click();
      await form.getByText(new RegExp(`^Shipped 2 packs to .*invoice ${invoice}\\.$`)).waitFor(ok);
    };
    await ship(acme, 'Cardinal Wholesale (wholesaler)', 'ACME-WEB-1');
    await checkPage(acme, 'manufacturer-shipped', failures);

    // The wholesaler receives them, verifies one by its DataMatrix, and ships them on.
    const cardinal = await signIn('Cardinal Wholesale', 'Wholesaler');
    const receive = cardinal.getByRole('region', { name: 'Receive packs' });
    await receive.getByLabel('Product GTIN').fill(gtin);
    await receive.getByLabel('Serial numbers').fill(serials.join('\n'));
    await receive.getByRole('button', { name: 'Receive' }).click();
    await receive.getByText('Received 2 packs: they are in your custody now.').waitFor(ok);
    const verify = cardinal.getByRole('region', { name: 'Verify a returned pack' });
    await verify.getByLabel('DataMatrix code').fill(`(01)${gtin}(21)${serials[0]}(10)${lot}(17)${String(year % 100).padStart(2, '0')}1231`);
    await verify.getByRole('button', { name: 'Verify pack' }).click();
    await verify.getByText(/^Verified: pack .* is genuine/).waitFor(ok);
    // A counterfeit serial is refused in words.
    await verify.getByLabel('DataMatrix code').fill(`(01)${gtin}(21)NEVERMADE1`);
    await verify.getByRole('button', { name: 'Verify pack' }).click();
    await verify.getByText(/Not verified: this serial number was never made/).waitFor(ok);
    await checkPage(cardinal, 'wholesaler-home', failures);
    await ship(cardinal, 'Main Street Pharmacy (pharmacy)', 'CARD-WEB-2');

    // The regulator traces the pack's custody, sees the notifications and recalls the lot, on a phone.
    const agency = await signIn('Drug Safety Agency', 'Regulator');
    await agency.setViewportSize({ width: 375, height: 800 });
    const trace = agency.getByRole('region', { name: 'Trace a pack' });
    await trace.getByLabel('Product GTIN').fill(gtin);
    await trace.getByLabel('Serial number').fill(serials[0] as string);
    await trace.getByRole('button', { name: 'Show history' }).click();
    const history = trace.getByRole('list', { name: 'Custody history' });
    await history.waitFor(ok);
    const steps = (await history.getByRole('listitem').allInnerTexts()).map((t) => t.split(' ')[0]);
    assert.deepEqual(steps, ['Commissioned', 'Shipped', 'Received', 'Shipped']);
    await agency
      .getByRole('region', { name: 'Illegitimate-product notifications' })
      .getByText(/No notifications|Notifications/)
      .first()
      .waitFor(ok);
    await checkPage(agency, 'regulator-phone', failures);
    const recall = agency.getByRole('region', { name: 'Recall a lot' });
    await recall.getByLabel('Product GTIN').fill(gtin);
    await recall.getByLabel('Lot').fill(lot);
    await recall.getByLabel('Reason').fill('web test recall');
    await recall.getByRole('button', { name: 'Recall lot' }).click();
    await recall.getByText(`Lot ${lot} is recalled`, { exact: false }).waitFor(ok);
    // The manufacturer's home is not the regulator's.
    await agency.goto(`${sheet.url}/manufacturer`);
    await agency.getByRole('heading', { level: 1, name: 'This page is not for your role' }).waitFor(ok);

    // Dr Ross prescribes for Garrett from Garrett's page.
    const ross = await signIn('Dr Doug Ross', 'My patients');
    await ross.goto(`${sheet.url}/clinician/patients/${sheet.medicines.prescription.patient}`);
    const prescribe = ross.getByRole('region', { name: 'Prescribe' });
    await prescribe.waitFor(ok);
    await prescribe.getByLabel('Medication').fill('Aspirin 81 mg');
    await prescribe.getByLabel('RxNorm code').fill('243670');
    await prescribe.getByLabel('Repeats (fills after the first)').fill('2');
    await prescribe.getByLabel('Days between fills').fill('30');
    await prescribe.getByLabel('Pharmacy the patient chose').selectOption({ label: 'Main Street Pharmacy' });
    await prescribe.getByLabel('Instructions for the patient').fill('one tablet a day');
    await prescribe.getByRole('button', { name: 'Prescribe' }).click();
    await prescribe.getByText(/^Prescription [0-9a-f]{8} is waiting at Main Street Pharmacy/).waitFor(ok);
    await checkPage(ross, 'clinician-prescribed', failures);

    assert.deepEqual(failures, [], `accessibility: serious or critical axe violations\n${failures.join('\n')}`);
  } finally {
    assert.equal(await demo.stop(), 0);
  }
});
