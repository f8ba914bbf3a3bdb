// The supply chain and prescribing in the web UI with the `npm start` demo (issue 14 item 8):
// Acme (manufacturer) lands on its own home, commissions two packs and ships them to Cardinal
// (chosen from the chain's member organizations), then packs two more into a case, is refused
// destroying a packed one (in words), unpacks, destroys one, quarantines the other and its lot
// (illegitimate: a notification it then records as made);
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

/** Append the GS1 mod-10 check digit (an SSCC from 17 digits). */
function withCheckDigit(data: string): string {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += Number(data[i]) * ((data.length - i) % 2 === 1 ? 3 : 1);
  return `${data}${(10 - (sum % 10)) % 10}`;
}

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

    // Aggregation, quarantine, destruction and a notification, as the chain has them.
    await commission.getByLabel('Lot').fill('WEB2');
    await commission.getByRole('button', { name: 'Commission' }).click();
    await commission.getByText('Commissioned 2 packs of lot WEB2.').waitFor(ok);
    const more = (await commission.getByRole('list', { name: 'New serial numbers' }).getByRole('listitem').allInnerTexts()).map((s) =>
      s.trim(),
    );
    const sscc = withCheckDigit(`0${String(Date.now()).slice(-13).padStart(16, '0')}`);
    const pack = acme.getByRole('region', { name: 'Pack packs into a case' });
    await pack.getByLabel('Case SSCC').fill(sscc);
    await pack.getByLabel('Product GTIN').fill(gtin);
    await pack.getByLabel('Serial numbers').fill(more.join('\n'));
    await pack.getByRole('button', { name: 'Pack case' }).click();
    await pack.getByText(`Packed 2 packs into case ${sscc}`, { exact: false }).waitFor(ok);
    // A packed pack cannot be destroyed alone: the chain's refusal, in words.
    const destroy = acme.getByRole('region', { name: 'Destroy or take packs out of the supply chain' });
    await destroy.getByLabel('Product GTIN').fill(gtin);
    await destroy.getByLabel('Serial numbers').fill(more[1] as string);
    await destroy.getByLabel('Reason').fill('damaged in the warehouse');
    await destroy.getByRole('button', { name: 'Record it' }).click();
    await destroy
      .getByRole('alert')
      .getByText(new RegExp(`Pack ${more[1]} is packed in case ${sscc}: receive or unpack the whole case first`))
      .waitFor(ok);
    const unpack = acme.getByRole('region', { name: 'Unpack a case' });
    await unpack.getByLabel('Case SSCC').fill(sscc);
    await unpack.getByRole('button', { name: 'Unpack case' }).click();
    await unpack.getByText(`Case ${sscc} is unpacked`, { exact: false }).waitFor(ok);
    await destroy.getByRole('button', { name: 'Record it' }).click();
    await destroy.getByText(`Pack ${more[1]} destroyed (damaged in the warehouse): it no longer verifies.`).waitFor(ok);
    const quarantine = acme.getByRole('region', { name: 'Quarantine suspect or illegitimate product' });
    await quarantine.getByLabel('Product GTIN').fill(gtin);
    await quarantine.getByLabel('Serial number').fill(more[0] as string);
    await quarantine.getByLabel('Reason').fill('seal broken on arrival');
    await quarantine.getByRole('button', { name: 'Quarantine' }).click();
    await quarantine.getByText(`Pack ${more[0]} is quarantined as suspect`, { exact: false }).waitFor(ok);
    await quarantine.getByLabel('Quarantine', { exact: true }).selectOption({ label: 'A whole lot' });
    await quarantine.getByLabel('Finding').selectOption({ label: 'Illegitimate (determined)' });
    await quarantine.getByLabel('Lot').fill('WEB2');
    await quarantine.getByRole('button', { name: 'Quarantine' }).click();
    await quarantine.getByText('Lot WEB2 is determined illegitimate', { exact: false }).waitFor(ok);
    const acmeTrace = acme.getByRole('region', { name: 'Trace a pack' });
    await acmeTrace.getByLabel('Product GTIN').fill(gtin);
    await acmeTrace.getByLabel('Serial number').fill(more[1] as string);
    await acmeTrace.getByRole('button', { name: 'Show history' }).click();
    const destroyedHistory = acmeTrace.getByRole('list', { name: 'Custody history' });
    await destroyedHistory.waitFor(ok);
    assert.deepEqual(
      (await destroyedHistory.getByRole('listitem').allInnerTexts()).map((t) => t.split(' by ')[0]?.replace(/ \d{4}-.*$/, '')),
      ['Commissioned', 'Packed into a case', 'Unpacked from its case', 'Destroyed'],
    );
    // The determination is a notification, open for 24 hours; recording it as made closes it.
    await acme.reload();
    const notices = acme.getByRole('region', { name: 'Illegitimate-product notifications' });
    const notice = notices.getByRole('listitem').filter({ hasText: 'lot WEB2' });
    await notice.getByText(/open — to be notified within 24 hours/).waitFor(ok);
    const noticeId = (await notice.locator('code').innerText()).trim();
    const notify = acme.getByRole('region', { name: 'Record a notification as made' });
    await notify.getByLabel('Notification id').fill(noticeId);
    await notify.getByRole('button', { name: 'Record notification' }).click();
    await notify.getByText(`Notification ${noticeId.slice(0, 8)} is recorded as made.`).waitFor(ok);
    await acme.reload();
    await notices
      .getByRole('listitem')
      .filter({ hasText: 'lot WEB2' })
      .getByText(/— notified/)
      .waitFor(ok);
    await checkPage(acme, 'manufacturer-aggregation-quarantine', failures);

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
    // The regulator sees the manufacturer's determination of lot WEB2, notified.
    await agency
      .getByRole('region', { name: 'Illegitimate-product notifications' })
      .getByRole('listitem')
      .filter({ hasText: 'lot WEB2' })
      .getByText(/— notified/)
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
