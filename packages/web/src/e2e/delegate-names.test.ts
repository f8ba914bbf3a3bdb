// A delegate's name on this device, and a delegate stepping down, in a real browser against a
// real node. The patient names a delegate when inviting them ("What do you call them?"); the
// name shows in the delegate list, on the shares the delegate made and in the remove question,
// with the code in smaller print; it survives a reload and signing in again, can be changed,
// is plain text, is locked in the browser's storage (no name there in plain text; a second
// account made in the same browser does not see it), and never leaves the browser (every
// request the page makes is checked). A delegate stepping
// down is told how many shares they made are still active and may stop them first: checked on
// the ledger through the SDK, including a stop that fails part way. A name that cannot be
// saved (storage full) is shown with a message saying so. Screenshots:
// delegate-named(-phone), delegate-step-down-question(-phone).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKeystore, MedLedgerClient, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, type KeyBundle } from '@medledger/crypto';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import type { Page } from 'playwright-core';
import { checkPage, openBrowser, requireBrowserAndBuild, SCREENSHOTS } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const PASS = 'a long patient passphrase';
const work = mkdtempSync(join(tmpdir(), 'medledger-web-delegate-names-'));
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

async function patientAccount(keys = generateKeyBundle()): Promise<MedLedgerClient> {
  const client = sdk(keys);
  await client.registerPatient();
  return client;
}

async function clinician(name: string): Promise<MedLedgerClient> {
  const keys = generateKeyBundle();
  await sdk(readOrgKey(join(net.dir, 'node0'))).submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role: 'clinician', name }),
  );
  return sdk(keys);
}

/** A new browser signed in with a recovery file for `keys`; every request it makes is kept. */
async function signedIn(keys: KeyBundle, label: string) {
  const file = join(work, `${label}.json`);
  writeFileSync(file, JSON.stringify(await createKeystore(keys, PASS, { label })));
  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('request', (req) => requests.push(`${req.method()} ${req.url()}\n${JSON.stringify(req.headers())}\n${req.postData() ?? ''}`));
  await page.goto(`${net.url}/sign-in`);
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(file);
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.endsWith('/sign-in'), { timeout: 120_000 });
  return { page, errors, requests };
}

const code = (id: string) => `code …${id.slice(-4)}`;

async function atPhoneWidth(page: Page, shot: string, what: ReturnType<Page['getByTestId']>): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${shot} scrolls sideways on a phone`);
  await what.screenshot({ path: join(SCREENSHOTS, `${shot}.png`) });
  await page.setViewportSize({ width: 1100, height: 900 });
}

test('a delegate’s name stays on this device: shown in the list, on their shares and when removing them, kept over a reload and a new sign-in, locked to this account, never sent', {
  timeout: 300_000,
}, async () => {
  const failures: string[] = [];
  const keys = generateKeyBundle();
  const patient = await patientAccount(keys);
  await patient.writeRecord({
    patient: patient.id,
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' }, valueQuantity: { value: 64, unit: '/min' } },
    category: 'vital-signs',
  });
  const doctor = await clinician('Dr Rosa Rivera');
  const ana = await patientAccount();
  const { page, errors, requests } = await signedIn(keys, 'Sam');
  await page.goto(`${net.url}/sharing`);

  // Invited with a name: the first press says whose the code is, the second invites.
  await page.locator('#delegate-code').fill(ana.id);
  await page.getByLabel(/^What do you call them\?/).fill('   Ana,   my daughter  ');
  await page.getByRole('button', { name: 'Invite them to be my delegate' }).click();
  await page.getByRole('button', { name: 'Yes, invite them to be my delegate' }).click();
  const anaCard = page.getByTestId('delegate');
  await anaCard.waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="delegate"] .title')?.textContent?.includes('(code'));
  assert.equal(await anaCard.locator('.title').innerText(), `Ana, my daughter (${code(ana.id)})`, 'trimmed, spaces collapsed, code kept');
  assert.equal(await anaCard.locator('.title .person-code').innerText(), `(${code(ana.id)})`, 'the code is in the smaller print');

  // Ana accepts and shares with the doctor: the patient's card says the share is hers, by name.
  await ana.acceptDelegation(patient.id);
  await patient.shareWithDelegate(ana.id);
  await ana.grant({ patient: patient.id, grantee: doctor.id, categories: ['vital-signs'], purpose: 'treatment' });
  await page.reload();
  const sharedBy = page.getByTestId('shared-by');
  await page.getByText('Shared by your delegate', { exact: false }).waitFor();
  assert.equal(await sharedBy.innerText(), `Shared by your delegate Ana, my daughter (${code(ana.id)})`);
  assert.equal(await anaCard.locator('.title').innerText(), `Ana, my daughter (${code(ana.id)})`, 'kept over a reload');
  await checkPage(page, 'delegate-named', failures);
  await atPhoneWidth(page, 'delegate-named-phone', anaCard);

  // Renamed: markup is shown as text, not run; every place follows.
  await anaCard.getByRole('button', { name: 'Change what you call them' }).click();
  await anaCard.getByLabel('What do you call them?').fill('<b>Ana</b> Silva');
  await anaCard.getByRole('button', { name: 'Save name' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="shared-by"]')?.textContent?.includes('Silva'));
  assert.equal(await sharedBy.innerText(), `Shared by your delegate <b>Ana</b> Silva (${code(ana.id)})`);
  assert.equal(await anaCard.locator('.title').innerText(), `<b>Ana</b> Silva (${code(ana.id)})`);
  assert.equal(
    await page.locator('[data-testid="delegate"] b, [data-testid="shared-by"] b').count(),
    0,
    'the name’s markup made no element',
  );

  // Locked in this browser: no name, and not whom it names, is in its storage in plain text.
  const storage = await page.evaluate(() => JSON.stringify(localStorage));
  for (const leak of ['Silva', 'daughter', ana.id]) assert.ok(!storage.includes(leak), `“${leak}” is in localStorage`);

  // The remove question names her the same way; nothing is removed before confirming.
  await anaCard.getByRole('button', { name: 'Remove this delegate' }).click();
  const question = page.getByTestId('remove-delegate-question');
  await question.waitFor();
  assert.match(
    await question.locator('p').first().innerText(),
    new RegExp(`^<b>Ana</b> Silva \\(code …${ana.id.slice(-4)}\\) made 1 share`),
  );
  await question.getByRole('button', { name: 'Cancel' }).click();

  // A name an older version kept in plain text (here longer than the cap) is moved into this
  // account's locked book when the session is restored, shown cut to 60 characters.
  await page.evaluate((id) => localStorage.setItem('medledger.names', JSON.stringify({ [id]: `Ana ${'x'.repeat(200)}` })), ana.id);
  await page.reload();
  await page.getByText('Shared by your delegate', { exact: false }).waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="delegate"] .title')?.textContent?.includes('(code'));
  assert.equal(await anaCard.locator('.title').innerText(), `Ana ${'x'.repeat(56)} (${code(ana.id)})`);
  assert.equal(await page.evaluate(() => localStorage.getItem('medledger.names')), null, 'the plain copy is deleted');
  // Emptied, the name is forgotten: the code shows as before.
  await anaCard.getByRole('button', { name: 'Change what you call them' }).click();
  await anaCard.getByLabel('What do you call them?').fill('  ');
  await anaCard.getByRole('button', { name: 'Save name' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="shared-by"]')?.textContent?.includes('Patient (code'));
  assert.equal(await anaCard.locator('.title').innerText(), `Patient (${code(ana.id)})`);
  await anaCard.getByRole('button', { name: 'Give them a name' }).waitFor();

  // Named again, then signed out and in with the passphrase: the name is back.
  await anaCard.getByRole('button', { name: 'Give them a name' }).click();
  await anaCard.getByLabel('What do you call them?').fill('Ana Silva');
  await anaCard.getByRole('button', { name: 'Save name' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="delegate"] .title')?.textContent?.startsWith('Ana Silva'));

  // A name that cannot be saved (storage full) is shown, and the page says it was not saved;
  // the next save that works clears the message.
  await page.evaluate(() => {
    const set = Storage.prototype.setItem;
    (window as unknown as { realSetItem: typeof set }).realSetItem = set;
    Storage.prototype.setItem = function (key: string, value: string) {
      if (key.startsWith('medledger.names')) throw new DOMException('full', 'QuotaExceededError');
      return set.call(this, key, value);
    };
  });
  await anaCard.getByRole('button', { name: 'Change what you call them' }).click();
  await anaCard.getByLabel('What do you call them?').fill('Ana S');
  await anaCard.getByRole('button', { name: 'Save name' }).click();
  const notSaved = page.getByTestId('name-save-problem');
  await notSaved.waitFor();
  assert.match(await notSaved.innerText(), /could not be saved on this device\. It is shown until you sign out/);
  assert.equal(await anaCard.locator('.title').innerText(), `Ana S (${code(ana.id)})`, 'shown this session');
  await page.evaluate(() => {
    Storage.prototype.setItem = (window as unknown as { realSetItem: typeof Storage.prototype.setItem }).realSetItem;
  });
  await anaCard.getByRole('button', { name: 'Change what you call them' }).click();
  await anaCard.getByLabel('What do you call them?').fill('Ana Silva');
  await anaCard.getByRole('button', { name: 'Save name' }).click();
  await notSaved.waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.endsWith('/sign-in'), { timeout: 120_000 });
  await page.goto(`${net.url}/sharing`);
  await page.waitForFunction(() => document.querySelector('[data-testid="delegate"] .title')?.textContent?.includes('(code'));
  assert.equal(await anaCard.locator('.title').innerText(), `Ana Silva (${code(ana.id)})`, 'back after signing in again');

  // A second account made in this browser does not see the first one's names: inviting Ana
  // shows her by her code, and her card has no name.
  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await page.goto(`${net.url}/`);
  await page.getByRole('link', { name: 'Create my account' }).click();
  await page.getByLabel('What should we call you?').fill('Lee');
  await page.getByLabel('Choose a passphrase').fill(PASS);
  await page.getByLabel('Type the passphrase again').fill(PASS);
  await page.getByRole('button', { name: 'Create my account' }).click();
  await page.getByRole('heading', { name: 'Your account is ready' }).waitFor({ timeout: 120_000 });
  await page.goto(`${net.url}/sharing`);
  await page.locator('#delegate-code').fill(ana.id);
  await page.getByRole('button', { name: 'Invite them to be my delegate' }).click();
  const found = page.locator('p.found');
  await found.waitFor();
  assert.doesNotMatch(await found.innerText(), /Silva/);
  await page.getByRole('button', { name: 'Yes, invite them to be my delegate' }).click();
  // Until her identity is looked up the card says "Someone (code …)"; then what she is.
  await page.waitForFunction(() => {
    const title = document.querySelector('[data-testid="delegate"] .title')?.textContent ?? '';
    return title.includes('(code') && !title.startsWith('Someone');
  });
  assert.equal(await anaCard.locator('.title').innerText(), `Patient (${code(ana.id)})`, 'the second account sees no name');
  await anaCard.getByRole('button', { name: 'Give them a name' }).waitFor();

  // No name ever left the browser: not in a URL, a header or a body.
  assert.ok(requests.length > 20, `the page talked to the node (${requests.length} requests)`);
  for (const name of ['daughter', 'Silva', 'xxxxxxxxxx'])
    assert.deepEqual(
      requests.filter((r) => r.includes(name)),
      [],
      `“${name}” was sent`,
    );
  assert.deepEqual(errors, []);
  assert.deepEqual(failures, []);
});

test('a delegate stepping down is told about the shares they made: kept by default, or stopped first (also when stopping fails part way)', {
  timeout: 300_000,
}, async () => {
  const failures: string[] = [];
  const anaKeys = generateKeyBundle();
  const ana = await patientAccount(anaKeys);
  const doctor = await clinician('Dr Lee Park');
  /** A patient with Ana as accepted delegate, their own share with the doctor, and `n` shares Ana made. */
  async function patientOfAna(n: number) {
    const patient = await patientAccount();
    await patient.writeRecord({
      patient: patient.id,
      resource: { resourceType: 'Observation', status: 'final', code: { text: 'Weight' }, valueQuantity: { value: 70, unit: 'kg' } },
      category: 'vital-signs',
    });
    const own = (await patient.grant({ grantee: doctor.id, categories: ['labs'], purpose: 'treatment' })).grantId;
    await patient.setDelegate(ana.id);
    await ana.acceptDelegation(patient.id);
    await patient.shareWithDelegate(ana.id);
    const made: string[] = [];
    for (const category of ['vital-signs', 'medications', 'allergies'].slice(0, n))
      made.push((await ana.grant({ patient: patient.id, grantee: doctor.id, categories: [category], purpose: 'treatment' })).grantId);
    return { patient, own, made };
  }
  const active = async (p: MedLedgerClient, id: string) => (await p.grants(p.id, true)).find((g) => g.id === id)?.active;
  const isDelegate = async (p: MedLedgerClient) => (await p.delegates(p.id)).some((d) => d.delegate === ana.id);

  const stop = await patientOfAna(2);
  const { page, errors } = await signedIn(anaKeys, 'Ana');
  await page.goto(`${net.url}/account`);
  const card = page.getByTestId('delegation').filter({ hasText: code(stop.patient.id) });
  await card.getByRole('button', { name: 'Stop being their delegate' }).click();
  const question = card.getByTestId('step-down-question');
  await question.waitFor();
  assert.match(await question.innerText(), /you made 2 shares of their records that are still active\. They keep working after you stop/);
  assert.equal(await question.getByRole('listitem').count(), 2);
  assert.ok(await question.getByLabel(/^Keep them working/).isChecked(), 'keeping them is the default');
  assert.equal(await question.getByLabel(/^Stop them first/).isChecked(), false);
  await question.scrollIntoViewIfNeeded();
  await checkPage(page, 'delegate-step-down-question', failures);
  await atPhoneWidth(page, 'delegate-step-down-question-phone', question);
  assert.equal(await isDelegate(stop.patient), true, 'nothing changes before confirming');

  // Stopping fails on the second share: Ana stays delegate (so she can retry), and is told so.
  let revokes = 0;
  await page.route('**/v1/txs', async (route) => {
    if (route.request().method() === 'POST' && (route.request().postData() ?? '').includes('consent.revoke') && ++revokes === 2)
      return route.abort('failed');
    return route.fallback();
  });
  await question.getByLabel(/^Stop them first/).check();
  await question.getByRole('button', { name: 'Stop the shares and stop being their delegate' }).click();
  await page.getByText(/You are still the delegate of .*: only 1 share you made could be stopped/).waitFor();
  assert.equal(await isDelegate(stop.patient), true, 'still their delegate after a partial stop');
  assert.deepEqual(
    (await Promise.all(stop.made.map((id) => active(stop.patient, id)))).sort(),
    [false, true],
    'exactly one of her shares was stopped',
  );
  await page.unroute('**/v1/txs');

  // Again, without the failure: the share left is stopped, then she steps down.
  await card.getByRole('button', { name: 'Stop being their delegate' }).click();
  await question.waitFor();
  assert.match(await question.innerText(), /you made 1 share of their records that is still active\. It keeps working/);
  await question.getByLabel(/^Stop it first/).check();
  await question.getByRole('button', { name: 'Stop the share and stop being their delegate' }).click();
  await page.getByText(/You are no longer the delegate of .*, and the 1 share you made was stopped\./).waitFor();
  assert.equal(await isDelegate(stop.patient), false);
  for (const id of stop.made) assert.equal(await active(stop.patient, id), false, `Ana's share ${id} is stopped`);
  assert.equal(await active(stop.patient, stop.own), true, 'the patient’s own share is untouched');

  // Kept (the default): she steps down, her share keeps working.
  const keep = await patientOfAna(1);
  await page.reload();
  const keepCard = page.getByTestId('delegation').filter({ hasText: code(keep.patient.id) });
  await keepCard.getByRole('button', { name: 'Stop being their delegate' }).click();
  await keepCard.getByTestId('step-down-question').waitFor();
  await keepCard.getByRole('button', { name: 'Stop being their delegate, keep the shares' }).click();
  await page.getByText(/You are no longer the delegate of .*\. The share you made keeps working/).waitFor();
  assert.equal(await isDelegate(keep.patient), false);
  assert.equal(await active(keep.patient, keep.made[0] as string), true, 'her share keeps working');

  assert.deepEqual(errors, []);
  assert.deepEqual(failures, []);
});
