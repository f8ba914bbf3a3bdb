// Issue 17 items 1–5 and 12 as user journeys in a real browser on a real 4-validator network,
// at desktop and phone width, axe-checked, with screenshots under artifacts/screenshots/:
// Liz Conn finds Northside General Hospital by name and shares with it; Dr House, who works
// there, reads her records on his hospital's node (re-sealed to him) under a banner saying who
// she is; a reload keeps each of them signed in on the same page; Liz edits the share in place
// and stopping asks first; Dr House's emergency access is listed under who can see her records
// and she ends it in one click, which the chain enforces; her emergency card carries a QR code;
// insurer and pharmacy staff land on their own homes and are refused the clinician's pages.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  createKeystore,
  listEmergency,
  MedLedgerClient,
  openEmergency,
  setEmergencyPrivilege,
  staffRegisterBody,
  TrustedGenesis,
} from '@medledger/client';
import { generateKeyBundle, type KeyBundle } from '@medledger/crypto';
import { initNetwork, loadHome, MedLedgerNode, readOrgKey } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE } from '@medledger/node/testing';
import type { Page } from 'playwright-core';
import { checkPage, openBrowser, requireBrowserAndBuild, SCREENSHOTS } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-web-safety-'));
const nodes: MedLedgerNode[] = [];
const urls: string[] = [];
let homes: string[] = [];
const closers: Array<() => Promise<void>> = [];
const ORGS = [
  { name: 'Northside General Hospital', kind: 'hospital' },
  { name: 'Evergreen Health Insurance', kind: 'insurer' },
  { name: 'Main Street Pharmacy', kind: 'pharmacy' },
  { name: 'Lakeside Clinic', kind: 'clinic' },
];
const PASS = 'a long enough passphrase';

before(async () => {
  requireBrowserAndBuild();
  ({ homes } = initNetwork({ validators: 4, out: dir, chainId: 'web-safety', ports: await freePorts(4), organizations: ORGS }));
  for (const [i, home] of homes.entries()) {
    const loaded = loadHome(home);
    loaded.config.consensus.blockIntervalMs = 100;
    // Northside's node is Northside's system: it re-seals hospital-wide shares to its staff.
    if (i === 0) loaded.config.reseal = {};
    const node = new MedLedgerNode(loaded, { logger: () => {} });
    urls.push(await node.start());
    nodes.push(node);
  }
  console.log(`portal-safety screenshots: ${SCREENSHOTS}`);
});

after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  for (const node of nodes) await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

const genesis = () => TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));

async function staff(
  orgHome: number,
  role: 'clinician' | 'insurer' | 'pharmacy',
  name: string,
): Promise<{ sdk: MedLedgerClient; file: string }> {
  const org = new MedLedgerClient({ url: urls[0] as string, keys: readOrgKey(homes[orgHome] as string), genesis: genesis() });
  const keys: KeyBundle = generateKeyBundle();
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name }),
  );
  const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(await createKeystore(keys, PASS, { label: name })));
  return { sdk: new MedLedgerClient({ url: urls[0] as string, keys, genesis: genesis() }), file };
}

async function signIn(page: Page, file: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  const useFile = page.getByLabel('Use my recovery file (for a new device)');
  if ((await useFile.count()) > 0) await useFile.check();
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(file);
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Signed in once the app leaves the sign-in page (a page opened before that would interrupt it).
  await page.waitForURL((u) => !u.pathname.endsWith('/sign-in'), { timeout: 60_000 });
}

async function noSidewaysScroll(page: Page, what: string): Promise<void> {
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(fits, `${what}: the page scrolls sideways on a phone`);
}

test('portal safety: hospital-wide share, patient banner, reload, emergency end-now and card, sharing by name, roles', {
  timeout: 900_000,
}, async () => {
  const failures: string[] = [];
  const url = urls[0] as string;

  // The people: Dr House at Northside (with the emergency privilege), insurer and pharmacy staff.
  const house = await staff(0, 'clinician', 'Dr Gregory House');
  const northside = new MedLedgerClient({ url, keys: readOrgKey(homes[0] as string), genesis: genesis() });
  await setEmergencyPrivilege(northside, house.sdk.id);
  const insurer = await staff(1, 'insurer', 'Ivy Claims');
  const pharmacist = await staff(2, 'pharmacy', 'Phil Dispenser');

  // Liz Conn, with a history: who she is, an allergy, a problem, a blood pressure.
  const lizKeys = generateKeyBundle();
  const liz = new MedLedgerClient({ url, keys: lizKeys, genesis: genesis() });
  await liz.registerPatient();
  const write = (resource: Parameters<typeof liz.writeRecord>[0]['resource'], category: string) =>
    liz.writeRecord({ patient: liz.id, resource, category });
  await write(
    { resourceType: 'Patient', name: [{ use: 'official', given: ['Liz'], family: 'Conn' }], birthDate: '1971-03-04', gender: 'female' },
    'demographics',
  );
  await write(
    { resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' }, clinicalStatus: { coding: [{ code: 'active' }] }, patient: {} },
    'allergies',
  );
  await write(
    { resourceType: 'Condition', code: { text: 'Hypertension' }, clinicalStatus: { coding: [{ code: 'active' }] }, subject: {} },
    'problems',
  );
  const lizFile = join(dir, 'liz.json');
  writeFileSync(lizFile, JSON.stringify(await createKeystore(lizKeys, PASS, { label: 'Liz Conn' })));

  const lizBrowser = await openBrowser();
  closers.push(lizBrowser.close);
  const lizPage = await lizBrowser.context.newPage();
  const houseBrowser = await openBrowser();
  closers.push(houseBrowser.close);
  const housePage = await houseBrowser.context.newPage();
  const problems: string[] = [];
  for (const [who, page] of [
    ['liz', lizPage],
    ['house', housePage],
  ] as const)
    page.on('pageerror', (err) => problems.push(`${who}: ${err.message}`));

  // Item 3: a bookmarked page, before sign-in, is where sign-in lands.
  await lizPage.goto(`${url}/sharing`);
  await lizPage.getByRole('heading', { level: 1, name: 'Please sign in' }).waitFor();
  await lizPage.getByRole('link', { name: 'Sign in' }).last().click();
  await signIn(lizPage, lizFile);
  await lizPage.getByRole('heading', { level: 1, name: 'Sharing' }).waitFor();

  // Item 5: find the hospital by name; an error shows beside the field, not below the form.
  await lizPage.getByLabel('Their sharing code').first().fill('Dr House');
  await lizPage.getByRole('button', { name: 'Look up' }).click();
  const codeProblem = lizPage.locator('#share-code-problem');
  await codeProblem.waitFor();
  const [fieldBox, problemBox] = [await lizPage.getByLabel('Their sharing code').first().boundingBox(), await codeProblem.boundingBox()];
  assert.ok(fieldBox && problemBox && problemBox.y - fieldBox.y < 200, 'the code error is shown next to the code field');
  await lizPage.getByLabel('Find them by name').fill('northside');
  await lizPage.getByRole('button', { name: 'Search', exact: true }).click();
  await lizPage.getByText('Northside General Hospital (hospital)').waitFor();
  await lizPage.getByText('Dr Gregory House, clinician at Northside General Hospital').waitFor();
  await checkPage(lizPage, 'safety-sharing-directory', failures);
  await lizPage.getByRole('button', { name: 'Choose Northside General Hospital' }).click();
  await lizPage.getByRole('button', { name: 'Look up' }).click();
  await lizPage.getByText('This code belongs to:').waitFor();
  for (const kind of [/^Allergies/, /^Diagnoses/]) await lizPage.getByLabel(kind).first().check();
  await lizPage.getByText('More kinds of records').click();
  await lizPage.getByLabel(/^Personal details/).check();
  await lizPage.getByLabel('No end date (until I stop it)').first().check();
  await lizPage.getByRole('button', { name: 'Share', exact: true }).click();
  await lizPage.getByText(/You are now sharing with Northside General Hospital/).waitFor({ timeout: 120_000 });

  // Item 3: a reload keeps the session and the page.
  await lizPage.reload();
  await lizPage.getByRole('heading', { level: 1, name: 'Sharing' }).waitFor({ timeout: 60_000 });
  const cards = lizPage.getByRole('list', { name: 'People and organizations with access' }).getByRole('listitem');
  await cards.first().waitFor();
  assert.equal(await cards.count(), 1);
  const stored = await lizPage.evaluate(() => sessionStorage.getItem('medledger.session') ?? '');
  assert.ok(stored !== '' && !stored.includes(lizKeys.signing.privateKey), 'the stored session is ciphertext, not the keys');

  // Item 5: edit in place (still one card), and stopping asks first, naming them.
  await lizPage.getByRole('button', { name: /^Change what Northside General Hospital/ }).click();
  await lizPage.getByLabel('Lab results', { exact: true }).check();
  await lizPage.getByRole('button', { name: /^Save changes for Northside General Hospital/ }).click();
  await lizPage.getByText(/^What Northside General Hospital .*can see was changed\./).waitFor({ timeout: 120_000 });
  await lizPage
    .getByRole('list', { name: 'People and organizations with access' })
    .getByText(/Lab results/)
    .waitFor();
  assert.equal(await cards.count(), 1, 'an edited share stays one card');
  await lizPage.getByRole('button', { name: /^Stop sharing with Northside General Hospital/ }).click();
  await lizPage.getByText(/^Stop sharing with Northside General Hospital.*\?$/).waitFor();
  await checkPage(lizPage, 'safety-sharing-confirm-stop', failures);
  await lizPage.getByRole('button', { name: 'Keep sharing' }).click();

  // Items 1, 2 and 12: Dr House lands on his patients, finds Liz by name, reads her records
  // (sealed to Northside, re-sealed to him by Northside's node) under her banner.
  await housePage.goto(`${url}/sign-in`);
  await signIn(housePage, house.file);
  await housePage.getByRole('heading', { level: 1, name: 'My patients' }).waitFor();
  await housePage.getByLabel('Find a patient by name').fill('conn');
  await housePage.getByRole('link', { name: 'Liz Conn' }).waitFor({ timeout: 60_000 });
  await checkPage(housePage, 'safety-clinician-search', failures);
  await housePage.getByLabel('Find a patient by name').fill('grey');
  await housePage.getByText(/No patient of yours matches/).waitFor();
  await housePage.getByLabel('Find a patient by name').fill('liz');
  await housePage.getByRole('link', { name: 'Liz Conn' }).click();
  await housePage.getByRole('heading', { level: 1, name: 'Liz Conn' }).waitFor();
  const banner = housePage.getByRole('region', { name: 'Patient', exact: true });
  await banner.getByText('1971-03-04').waitFor({ timeout: 60_000 });
  await banner.getByText('Female').waitFor();
  await banner.getByText('Penicillin').waitFor();
  await banner.getByText('Hypertension').waitFor();
  assert.equal(await housePage.getByTestId('patient-code').count(), 0, 'the code is shown only on request');
  assert.equal(await housePage.getByText(/could not be opened/).count(), 0, 'every shared record opens');
  await checkPage(housePage, 'safety-patient-banner', failures);
  await housePage.getByRole('button', { name: 'Show the patient’s code' }).click();
  assert.equal((await housePage.getByTestId('patient-code').textContent())?.trim(), liz.id);
  // His reads are on Liz's log as his, allowed (not refused as ORGANIZATION_KEY).
  const log = await liz.accessLog(liz.id);
  assert.ok(
    log.some((e) => e.accessor === house.sdk.id && e.decision === 'allowed'),
    'Dr House read her records',
  );
  assert.ok(
    !log.some((e) => e.accessor === house.sdk.id && e.reason === 'ORGANIZATION_KEY'),
    'no read was refused for the organization key',
  );

  // The banner stays on a single record's page, so the patient is never a code there either.
  await housePage.getByRole('link', { name: 'Hypertension' }).first().click();
  await housePage.getByRole('heading', { level: 1, name: 'Hypertension' }).waitFor();
  await housePage.getByRole('region', { name: 'Patient', exact: true }).getByText('Liz Conn').waitFor({ timeout: 60_000 });
  await housePage.getByRole('link', { name: /Back to the records/ }).click();
  await housePage.getByRole('heading', { level: 1, name: 'Liz Conn' }).waitFor();

  // Item 3 for the clinician: the reload keeps him on the patient's page.
  await housePage.reload();
  await housePage.getByRole('heading', { level: 1, name: 'Liz Conn' }).waitFor({ timeout: 60_000 });

  // Item 4: Dr House opens emergency access; Liz sees it among who can see her records,
  // labelled, and ends it in one click; the chain refuses his emergency reads from then on.
  const opened = await openEmergency(house.sdk, { patient: liz.id, reason: 'Collapsed in the waiting room', durationMs: 10 * 60_000 });
  // His reads while the window is open are emergency reads.
  await housePage.reload();
  await housePage.getByRole('region', { name: 'Patient', exact: true }).getByText('Penicillin').waitFor({ timeout: 60_000 });
  await lizPage.reload();
  const endButton = lizPage.getByRole('button', {
    name: /^End Dr Gregory House, clinician at Northside General Hospital’s emergency access now$/,
  });
  await endButton.first().waitFor({ timeout: 60_000 });
  await lizPage.getByRole('list', { name: 'Emergency access open now' }).getByText('Emergency access', { exact: true }).waitFor();
  await checkPage(lizPage, 'safety-emergency-listed', failures);
  await endButton.first().click();
  await lizPage.getByText(/They will not be able to open any more of your records/).waitFor();
  await lizPage.getByRole('button', { name: /^Yes, end Dr Gregory House/ }).click();
  await lizPage.getByRole('list', { name: 'Emergency access open now' }).waitFor({ state: 'detached', timeout: 60_000 });
  const after = await listEmergency(liz);
  const window = after.windows.find((w) => w.id === opened.windowId);
  assert.equal(window?.active, false, 'the chain ended the window');
  assert.ok((window?.expiresAt ?? Number.POSITIVE_INFINITY) < Date.now() + 5 * 60_000, 'ended long before the ten minutes asked');

  // Item 4: emergency reads are labelled as emergency in the access log.
  await lizPage.getByRole('link', { name: 'Access log' }).click();
  const deadline = Date.now() + 60_000;
  while ((await lizPage.getByText(/for: emergency care \(emergency access\)/).count()) === 0) {
    assert.ok(Date.now() < deadline, 'the emergency reads reach the access log, labelled as emergency');
    await lizPage.getByRole('button', { name: 'Refresh' }).first().click();
    await lizPage.waitForTimeout(500);
  }
  assert.equal(
    await lizPage.locator('.card.emergency', { hasText: 'for: My treatment and care' }).count(),
    0,
    'no emergency read says it was for treatment under a share',
  );
  await checkPage(lizPage, 'safety-emergency-access-log', failures);

  // Item 4: the printable emergency card with a QR code that opens the emergency form.
  await lizPage.getByRole('link', { name: 'Sharing' }).click();
  await lizPage.getByRole('link', { name: /My emergency card/ }).click();
  await lizPage.getByRole('heading', { level: 1, name: 'My emergency card' }).waitFor();
  assert.equal((await lizPage.getByTestId('emergency-id').textContent())?.trim(), liz.id);
  const qr = lizPage.getByRole('img', { name: /QR code: emergency access to Liz Conn/ });
  assert.equal(await qr.getAttribute('data-qr'), `${url}/clinician/emergency?patient=${liz.id}`);
  await checkPage(lizPage, 'safety-emergency-card', failures);
  await housePage.goto(`${url}/clinician/emergency?patient=${liz.id}`);
  await housePage.getByLabel('The patient’s sharing code').waitFor({ timeout: 60_000 });
  assert.equal(await housePage.getByLabel('The patient’s sharing code').inputValue(), liz.id, 'the QR link fills in the code');

  // Item 5: the clinician's QR code opens the patient's share form with the code filled in.
  await housePage.getByRole('link', { name: 'My patients', exact: true }).click();
  await housePage.getByRole('button', { name: 'Show my QR code for patients to scan' }).click();
  const shareQr = housePage.getByRole('img', { name: 'QR code to share records with Dr Gregory House' });
  assert.equal(await shareQr.getAttribute('data-qr'), `${url}/sharing?with=${house.sdk.id}`);
  await lizPage.goto(`${url}/sharing?with=${house.sdk.id}`);
  await lizPage.getByRole('heading', { level: 1, name: 'Sharing' }).waitFor({ timeout: 60_000 });
  assert.equal(await lizPage.getByLabel('Their sharing code').first().inputValue(), house.sdk.id);
  // Anyone can make such a link with anyone's code: the page says whose code it is before
  // anything is shared, not only after.
  await lizPage
    .getByText(/^The code from the link you opened belongs to: Dr Gregory House, clinician.*Share only if this is who you mean\.$/)
    .waitFor();

  // Phone width: the sharing page and the banner fit, axe-clean.
  await lizPage.setViewportSize({ width: 390, height: 844 });
  await housePage.setViewportSize({ width: 390, height: 844 });
  await checkPage(lizPage, 'safety-phone-sharing', failures);
  await noSidewaysScroll(lizPage, 'sharing');
  await housePage.goto(`${url}/clinician/patients/${liz.id}`);
  await housePage.getByRole('region', { name: 'Patient', exact: true }).getByText('Penicillin').waitFor({ timeout: 60_000 });
  await checkPage(housePage, 'safety-phone-banner', failures);
  await noSidewaysScroll(housePage, 'patient banner');

  // Item 4, for a delegate: Sam, whom Liz made her delegate, sees a new emergency window on his
  // account page and ends it for her in one click; the chain takes a delegate's emergency.close.
  const samKeys = generateKeyBundle();
  const sam = new MedLedgerClient({ url, keys: samKeys, genesis: genesis() });
  await sam.registerPatient();
  await liz.setDelegate(sam.id);
  await sam.acceptDelegation(liz.id);
  const samFile = join(dir, 'sam.json');
  writeFileSync(samFile, JSON.stringify(await createKeystore(samKeys, PASS, { label: 'Sam Conn' })));
  const again = await openEmergency(house.sdk, { patient: liz.id, reason: 'Collapsed again', durationMs: 10 * 60_000 });
  const samBrowser = await openBrowser();
  closers.push(samBrowser.close);
  const samPage = await samBrowser.context.newPage();
  samPage.on('pageerror', (err) => problems.push(`sam: ${err.message}`));
  await samPage.goto(`${url}/sign-in`);
  await signIn(samPage, samFile);
  await samPage.getByRole('heading', { level: 1 }).first().waitFor();
  await samPage.goto(`${url}/account`);
  const samEnd = samPage.getByRole('button', {
    name: /^End Dr Gregory House, clinician at Northside General Hospital’s emergency access now$/,
  });
  await samEnd.first().waitFor({ timeout: 60_000 });
  await samEnd.first().click();
  await samPage.getByRole('button', { name: /^Yes, end Dr Gregory House/ }).click();
  await samPage.getByRole('list', { name: 'Emergency access open now' }).waitFor({ state: 'detached', timeout: 60_000 });
  const ended = (await listEmergency(liz)).windows.find((w) => w.id === again.windowId);
  assert.equal(ended?.active, false, 'the chain ended the window the delegate closed');

  // Item 12: insurer and pharmacy staff land on their own homes; the clinician's pages are refused.
  const staffBrowser = await openBrowser();
  closers.push(staffBrowser.close);
  const staffPage = await staffBrowser.context.newPage();
  staffPage.on('pageerror', (err) => problems.push(`staff: ${err.message}`));
  await staffPage.goto(`${url}/sign-in`);
  await signIn(staffPage, insurer.file);
  await staffPage.getByRole('heading', { level: 1, name: 'Claims queue' }).waitFor();
  const menu = staffPage.getByRole('navigation', { name: 'Main' });
  assert.deepEqual(await menu.getByRole('link').allTextContents(), ['Claims queue', 'My account']);
  await staffPage.goto(`${url}/clinician/emergency`);
  await staffPage.getByRole('heading', { level: 1, name: 'This page is not for your role' }).waitFor({ timeout: 60_000 });
  assert.equal(await staffPage.getByLabel('The patient’s sharing code').count(), 0, 'no emergency form for an insurer');
  await checkPage(staffPage, 'safety-role-refused', failures);
  await staffPage.getByRole('link', { name: 'My account' }).click();
  await staffPage.getByRole('button', { name: 'Sign out' }).click();
  await signIn(staffPage, pharmacist.file);
  await staffPage.getByRole('heading', { level: 1, name: 'Pharmacy' }).waitFor();
  assert.deepEqual(await menu.getByRole('link').allTextContents(), ['Pharmacy', 'Deliveries', 'Destroy a pack', 'My account']);
  await checkPage(staffPage, 'safety-pharmacy-home', failures);
  await staffPage.goto(`${url}/records`);
  await staffPage.getByRole('heading', { level: 1, name: 'This page is not for your role' }).waitFor({ timeout: 60_000 });

  // Signing out forgets the kept session: a reload asks to sign in again.
  await staffPage.getByRole('link', { name: 'My account' }).click();
  await staffPage.getByRole('button', { name: 'Sign out' }).click();
  await staffPage.goto(`${url}/pharmacy`);
  await staffPage.getByRole('heading', { level: 1, name: 'Please sign in' }).waitFor();

  assert.deepEqual(problems, [], 'no uncaught errors in the pages');
  assert.deepEqual(failures, [], `axe found serious or critical problems:\n${failures.join('\n')}`);
});
