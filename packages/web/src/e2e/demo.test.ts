// The web UI with the `npm start` demo: the real `medledger start` seeds its network, and
// the demo users' keystore files (as printed on the sign-in sheet) sign in as recovery files.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkPage, openBrowser, requireBrowserAndBuild } from './browser.js';
import { startDemo } from './demo-network.js';

const dir = mkdtempSync(join(tmpdir(), 'medledger-web-demo-'));
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('demo users sign in with their keystore files: a patient sees her imported history, her clinician what she shared', {
  timeout: 600_000,
}, async () => {
  requireBrowserAndBuild();
  const demo = await startDemo(dir);
  const { sheet, keyOf } = demo;
  try {
    const failures: string[] = [];

    const browser = await openBrowser();
    closers.push(browser.close);
    const liz = await browser.context.newPage();
    await liz.goto(sheet.url);
    await liz.getByRole('link', { name: 'Sign in' }).first().click();
    await liz.getByLabel('Recovery file', { exact: true }).setInputFiles(keyOf('Liz Conn'));
    await liz.getByLabel('Passphrase').fill(sheet.passphrase);
    await liz.getByRole('button', { name: 'Sign in' }).click();
    await liz.getByRole('heading', { level: 1, name: 'My records' }).waitFor();
    await liz.getByRole('link', { name: 'Hypertension' }).first().waitFor({ timeout: 120_000 });
    assert.ok((await liz.locator('.timeline li').count()) > 50, 'the imported history is listed');
    await checkPage(liz, 'demo-patient-records', failures);
    await liz.getByRole('button', { name: 'Charts' }).click();
    await liz.getByRole('img', { name: /over time/ }).waitFor();
    await checkPage(liz, 'demo-patient-charts', failures);
    await liz.getByRole('link', { name: 'Sharing' }).click();
    await liz
      .getByText(/Dr Meredith Grey, clinician/)
      .first()
      .waitFor();

    const greyBrowser = await openBrowser();
    closers.push(greyBrowser.close);
    const grey = await greyBrowser.context.newPage();
    await grey.goto(`${sheet.url}/sign-in`);
    await grey.getByLabel('Recovery file', { exact: true }).setInputFiles(keyOf('Dr Meredith Grey'));
    await grey.getByLabel('Passphrase').fill(sheet.passphrase);
    await grey.getByRole('button', { name: 'Sign in' }).click();
    await grey.getByRole('heading', { level: 1, name: 'My patients' }).waitFor();
    // Liz did not share her personal details, so the list cannot name her and other demo
    // patients share with Dr Grey too: open hers by the code on the sign-in sheet.
    const lizId = sheet.users.find((u) => u.name.startsWith('Liz Conn'))?.id;
    assert.ok(lizId, 'Liz Conn is on the demo sign-in sheet');
    await grey.getByRole('link', { name: 'Name not shared' }).first().waitFor();
    await grey.goto(`${sheet.url}/clinician/patients/${lizId}`);
    await grey.getByRole('link', { name: 'Hypertension' }).first().waitFor({ timeout: 60_000 });
    // Liz shared problems, medications and allergies: no lab results or vital signs.
    assert.equal(await grey.getByText(/^Measurement ·/).count(), 0, 'no measurements were shared with Dr Grey');
    await checkPage(grey, 'demo-clinician-patient', failures);
    // Liz's consent lets Dr Grey check her eligibility for a check-up visit under Evergreen's plan.
    await grey.getByLabel(/Service code/).fill('185349003');
    await grey.getByRole('button', { name: 'Check eligibility' }).click();
    await grey.getByText(/^(Covered|Not covered) on \d{4}-\d{2}-\d{2}/).waitFor();
    await checkPage(grey, 'demo-clinician-eligibility', failures);

    // Insurance (docs/insurance.md): Liz reads her claims in plain words and disputes one; the
    // insurer's claims officer sees the queue with the claims held for review and her dispute.
    await liz.getByRole('link', { name: 'Insurance' }).click();
    await liz.getByRole('heading', { level: 1, name: 'Insurance' }).waitFor();
    const claims = liz.getByRole('list', { name: 'My claims, newest first' });
    await claims.waitFor();
    assert.ok((await claims.locator('li').count()) > 0, 'Liz has claims');
    await liz
      .getByText(/The insurer pays \$/)
      .first()
      .waitFor();
    await checkPage(liz, 'demo-patient-insurance', failures);
    const disputeBox = liz.getByLabel(/Why do you disagree/).first();
    await disputeBox.fill('I was told this visit was covered in full');
    await liz.getByRole('button', { name: 'Dispute this claim' }).first().click();
    await liz.getByText('Disputed', { exact: true }).first().waitFor();

    const officerBrowser = await openBrowser();
    closers.push(officerBrowser.close);
    const officer = await officerBrowser.context.newPage();
    await officer.goto(`${sheet.url}/sign-in`);
    await officer.getByLabel('Recovery file', { exact: true }).setInputFiles(keyOf('Claire Claims'));
    await officer.getByLabel('Passphrase').fill(sheet.passphrase);
    await officer.getByRole('button', { name: 'Sign in' }).click();
    await officer.getByRole('heading', { level: 1, name: 'Claims queue' }).waitFor();
    await officer.getByRole('list', { name: 'Claims in review' }).locator('li').first().waitFor();
    await officer.getByText(/I was told this visit was covered in full/).waitFor();
    await checkPage(officer, 'demo-insurer-queue', failures);
    await officer.getByRole('button', { name: 'Release' }).first().click();
    await officer.getByText('Claim released for payment.').waitFor();

    assert.deepEqual(failures, [], `accessibility: serious or critical axe violations\n${failures.join('\n')}`);
  } finally {
    assert.equal(await demo.stop(), 0);
  }
});
