// Shares a delegate made outlive the delegation (docs/records.md "Delegates"), in a real
// browser against a real node: the patient's Sharing page says which shares their delegate
// made; removing the delegate lists the shares still active and stops them by default (or
// keeps them, if the patient says so). What happened is checked on the ledger through the
// SDK, not only in the page's words. Screenshots: delegate-shared-by, delegate-remove-question(-phone).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKeystore, MedLedgerClient, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import { checkPage, openBrowser, requireBrowserAndBuild, SCREENSHOTS } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const PASS = 'a long patient passphrase';
const work = mkdtempSync(join(tmpdir(), 'medledger-web-delegate-shares-'));
let net: TestNode;
const closers: Array<() => Promise<void>> = [];

before(async () => {
  requireBrowserAndBuild();
  net = await startSoloNode();
});
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await net?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const sdk = (keys = generateKeyBundle()) =>
  new MedLedgerClient({ url: net.url, keys, genesis: TrustedGenesis.fromDocument(net.node.chain.genesis), pollIntervalMs: 20 });

async function patientAccount(): Promise<MedLedgerClient> {
  const client = sdk();
  await client.registerPatient();
  return client;
}

/** A delegate `patient` invited, who accepted and was given the existing records. */
async function acceptedDelegate(patient: MedLedgerClient): Promise<MedLedgerClient> {
  const delegate = await patientAccount();
  await patient.setDelegate(delegate.id);
  await delegate.acceptDelegation(patient.id);
  await patient.shareWithDelegate(delegate.id);
  return delegate;
}

const shareFor = (delegate: MedLedgerClient, patient: string, grantee: string, category: string) =>
  delegate.grant({ patient, grantee, categories: [category], purpose: 'treatment' });

test('a delegate’s shares are shown as theirs, and removing the delegate stops them (by default) or keeps them', {
  timeout: 300_000,
}, async () => {
  const failures: string[] = [];
  const keys = generateKeyBundle();
  const patient = sdk(keys);
  await patient.registerPatient();
  await patient.writeRecord({
    patient: patient.id,
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' }, valueQuantity: { value: 64, unit: '/min' } },
    category: 'vital-signs',
  });
  const org = sdk(readOrgKey(join(net.dir, 'node0')));
  const doctorKeys = generateKeyBundle();
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({
      publicKey: doctorKeys.signing.publicKey,
      encryptionKey: doctorKeys.encryption.publicKey,
      role: 'clinician',
      name: 'Dr Rosa Rivera',
    }),
  );
  const doctor = sdk(doctorKeys);
  // Another identity the delegate controls, which their shares reach.
  const alias = await patientAccount();
  const own = await patient.grant({ grantee: doctor.id, categories: ['labs'], purpose: 'treatment' });

  const ana = await acceptedDelegate(patient);
  const anaShares = [
    (await shareFor(ana, patient.id, alias.id, 'vital-signs')).grantId,
    (await shareFor(ana, patient.id, alias.id, 'medications')).grantId,
  ];
  const recoveryFile = join(work, 'patient.json');
  writeFileSync(recoveryFile, JSON.stringify(await createKeystore(keys, PASS, { label: 'Sam' })));

  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${net.url}/sign-in`);
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(recoveryFile);
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.endsWith('/sign-in'), { timeout: 120_000 });
  await page.goto(`${net.url}/sharing`);

  // Each share the delegate made says so; the patient's own share does not.
  const cards = page.getByRole('list', { name: 'People and organizations with access' }).getByRole('listitem');
  await page.getByText('Shared by your delegate', { exact: false }).first().waitFor();
  assert.equal(await page.getByTestId('shared-by').count(), 2);
  for (const line of await page.getByTestId('shared-by').allTextContents())
    assert.match(line, /^Shared by your delegate Patient \(code …[0-9a-f]{4}\)$/);
  const doctorCard = cards.filter({ hasText: 'Dr Rosa Rivera' });
  assert.equal(await doctorCard.getByTestId('shared-by').count(), 0, 'the patient’s own share names no delegate');
  await checkPage(page, 'delegate-shared-by', failures);

  // Removing Ana: the question lists both shares, and stopping them is the default.
  await page.getByRole('button', { name: 'Remove this delegate' }).click();
  const question = page.getByTestId('remove-delegate-question');
  await question.waitFor();
  assert.match(await question.innerText(), /made 2 shares of your records that are still active\./);
  assert.equal(await question.getByRole('listitem').count(), 2);
  assert.ok(await question.getByLabel('Yes, stop them too').isChecked(), 'stopping is the default');
  await question.scrollIntoViewIfNeeded();
  await checkPage(page, 'delegate-remove-question', failures);
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(
    await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    'the question scrolls sideways on a phone',
  );
  await question.screenshot({ path: join(SCREENSHOTS, 'delegate-remove-question-phone.png') });
  await page.setViewportSize({ width: 1100, height: 900 });
  assert.deepEqual((await patient.delegates(patient.id)).length, 1, 'nothing is removed before the patient confirms');
  await question.getByRole('button', { name: /^Remove .* and stop the shares$/ }).click();
  await page.getByText(/is no longer your delegate, and the 2 shares they made were stopped\./).waitFor();

  // On the ledger: Ana is no delegate, her shares are revoked, the patient's own is not.
  assert.deepEqual(await patient.delegates(patient.id), []);
  const all = await patient.grants(patient.id, true);
  const active = (id: string) => all.find((g) => g.id === id)?.active;
  for (const id of anaShares) assert.equal(active(id), false, `Ana's share ${id} is revoked`);
  assert.equal(active(own.grantId), true);
  await page.getByTestId('shared-by').first().waitFor({ state: 'detached' });

  // Bo's share is kept when the patient chooses so: it stays in force, and the page says whose it was.
  const bo = await acceptedDelegate(patient);
  const boShare = (await shareFor(bo, patient.id, doctor.id, 'vital-signs')).grantId;
  await page.reload();
  await page.getByText('Shared by your delegate', { exact: false }).waitFor();
  await page.getByRole('button', { name: 'Remove this delegate' }).click();
  await question.waitFor();
  assert.match(await question.innerText(), /made 1 share of your records that is still active\./);
  await question.getByLabel('No, keep it working (you can stop it later)').check();
  await question.getByRole('button', { name: /^Remove .*, keep the shares$/ }).click();
  await page.getByText(/is no longer your delegate\. The share they made keeps working; you can stop it under/).waitFor();
  assert.deepEqual(await patient.delegates(patient.id), []);
  assert.equal((await patient.grants(patient.id)).find((g) => g.id === boShare)?.grantedBy, bo.id, 'Bo’s share is still active');
  await page.getByText('when they were your delegate. Removing a delegate does not stop the shares they made.', { exact: false }).waitFor();

  assert.deepEqual(pageErrors, []);
  assert.deepEqual(failures, []);
});
