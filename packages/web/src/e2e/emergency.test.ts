// Emergency ("break-glass") access in a real browser against a real 4-validator network: the
// organization's admin gives a clinician the privilege in the UI; the clinician, refused the
// button before, opens emergency access for a patient who never shared anything, with a
// reason, and reads a record while the validators' shares are rebuilt in the browser; the
// patient sees who, why and until when, the access tagged emergency, and changes the key.
// The new screens are checked with axe-core and saved as screenshots.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKeystore, listEmergency, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { HOME_FILES, initNetwork, loadHome, MedLedgerNode } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE } from '@medledger/node/testing';
import type { Page } from 'playwright-core';
import { bloodPressure } from '../fhir-forms.js';
import { checkPage, openBrowser, requireBrowserAndBuild } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-web-emergency-'));
const nodes: Array<MedLedgerNode | undefined> = [];
const urls: string[] = [];
let homes: string[] = [];

// Validator 3 never posts shares, so the three others are all needed (3 of 4): stopping one
// leaves a request pending until it returns.
async function startNode(i: number): Promise<void> {
  const loaded = loadHome(homes[i] as string);
  loaded.config.consensus.blockIntervalMs = 100;
  if (i === 3) loaded.config.emergency = { postShares: false };
  const node = new MedLedgerNode(loaded, { logger: () => {} });
  urls[i] = await node.start();
  nodes[i] = node;
}
const closers: Array<() => Promise<void>> = [];

before(async () => {
  requireBrowserAndBuild();
  ({ homes } = initNetwork({ validators: 4, out: dir, chainId: 'web-emergency', ports: await freePorts(4) }));
  for (let i = 0; i < 4; i++) await startNode(i);
});

after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  for (const node of nodes) await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const PATIENT_PASS = 'patient passphrase 1234';
const CLINICIAN_PASS = 'clinician passphrase 42';
const REASON = 'Unconscious in the emergency department, allergies unknown';

/** Poll `check` until it holds (30 s at most). */
async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Move within the app (a reload would sign out: the keys live in the page's memory only). */
async function go(page: Page, path: string): Promise<void> {
  await page.evaluate((to) => {
    history.pushState(null, '', to);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
}

async function signIn(page: Page, url: string, file: string, passphrase: string): Promise<void> {
  await page.goto(`${url}/sign-in`);
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  // On a device with saved accounts, the recovery file is the second choice.
  const useFile = page.getByLabel('Use my recovery file (for a new device)');
  if ((await useFile.count()) > 0) await useFile.check();
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(file);
  await page.getByLabel('Passphrase').fill(passphrase);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.endsWith('/sign-in'), { timeout: 60_000 }); // signed in
}

test('break-glass in the UI: privilege, emergency read, the patient told, the key changed', { timeout: 600_000 }, async () => {
  const failures: string[] = [];
  const url = urls[0] as string;
  const pageProblems: string[] = [];
  const watch = (who: string, page: Page) => {
    page.on('pageerror', (err) => pageProblems.push(`${who}: ${err.message}`));
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) pageProblems.push(`${who}: ${msg.text()}`);
    });
  };

  // A patient who never shared anything, with one record they filed themselves.
  const patientKeys = generateKeyBundle();
  const genesis = TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));
  const patientSdk = new MedLedgerClient({ url, keys: patientKeys, pollIntervalMs: 50, genesis });
  await patientSdk.registerPatient();
  const bp = bloodPressure({ systolic: '141', diastolic: '93', when: new Date(Date.now() - 86_400_000) });
  await patientSdk.writeRecord({ patient: patientSdk.id, resource: bp.resource, category: bp.category });
  const patientFile = join(dir, 'patient.json');
  writeFileSync(patientFile, JSON.stringify(await createKeystore(patientKeys, PATIENT_PASS, { label: 'Alex' })));

  const adminBrowser = await openBrowser();
  closers.push(adminBrowser.close);
  const clinicianBrowser = await openBrowser();
  closers.push(clinicianBrowser.close);
  const admin = await adminBrowser.context.newPage();
  const clinician = await clinicianBrowser.context.newPage();
  watch('admin', admin);
  watch('clinician', clinician);

  // The organization adds a clinician.
  await signIn(admin, url, join(dir, 'node0', HOME_FILES.orgKey), TEST_PASSPHRASE);
  await admin.getByRole('heading', { level: 1, name: /^Staff of / }).waitFor();
  await admin.getByLabel('Name', { exact: true }).fill('Dr Ada Okafor');
  await admin.getByLabel('Role').selectOption('clinician');
  await admin.getByLabel('A passphrase for their recovery file').fill(CLINICIAN_PASS);
  await admin.getByLabel('Type the passphrase again').fill(CLINICIAN_PASS);
  await admin.getByRole('button', { name: 'Add staff member' }).click();
  await admin.getByText('Dr Ada Okafor was added.').waitFor();
  const staffDownload = admin.waitForEvent('download');
  await admin.getByRole('button', { name: 'Download Dr Ada Okafor’s recovery file' }).click();
  const clinicianFile = join(dir, 'clinician.json');
  await (await staffDownload).saveAs(clinicianFile);
  await admin.getByRole('button', { name: 'Show their sharing code' }).click();
  const clinicianId = (await admin.getByTestId('sharing-code').textContent())?.trim() ?? '';
  assert.match(clinicianId, /^[0-9a-f]{40}$/);

  // The organization's privacy officer, registered before any window opens: each reason is
  // sealed to the officers of the organization at the time (docs/emergency.md "The reason").
  await admin.getByLabel('Name', { exact: true }).fill('Pat Rivera');
  await admin.getByLabel('Role').selectOption('privacy-officer');
  await admin.getByLabel('A passphrase for their recovery file').fill(CLINICIAN_PASS);
  await admin.getByLabel('Type the passphrase again').fill(CLINICIAN_PASS);
  await admin.getByRole('button', { name: 'Add staff member' }).click();
  await admin.getByText('Pat Rivera was added.').waitFor();
  const officerDownload = admin.waitForEvent('download');
  await admin.getByRole('button', { name: 'Download Pat Rivera’s recovery file' }).click();
  const officerFile = join(dir, 'officer.json');
  await (await officerDownload).saveAs(officerFile);

  // Without the privilege the clinician's button is disabled, and says why.
  await signIn(clinician, url, clinicianFile, CLINICIAN_PASS);
  await clinician.getByRole('heading', { level: 1, name: 'My patients' }).waitFor();
  const noPrivilege = clinician.getByRole('button', { name: 'Emergency access…' });
  await noPrivilege.waitFor();
  assert.ok(await noPrivilege.isDisabled(), 'no privilege: the emergency button is disabled');
  await clinician.getByText('Your organization has not given you emergency access.', { exact: false }).first().waitFor();
  // Going to the form anyway: the chain refuses, and the page says so in words.
  await go(clinician, `/clinician/emergency`);
  await clinician.getByLabel('The patient’s sharing code').fill(patientSdk.id);
  await clinician.getByLabel('Why do you need emergency access?').fill(REASON);
  await clinician.getByLabel('I understand, and this is an emergency').check();
  await clinician.getByRole('button', { name: 'Open emergency access' }).click();
  await clinician.getByText('Your organization has not given you emergency access.').waitFor();

  // The admin gives the privilege in the UI, by the clinician's sharing code.
  await admin.getByLabel('The clinician’s sharing code').fill(clinicianId);
  await admin.getByRole('button', { name: 'Look up' }).click();
  await admin.getByText('Dr Ada Okafor, clinician').first().waitFor();
  await admin.getByRole('button', { name: 'Give emergency access' }).click();
  await admin.getByText('Dr Ada Okafor, clinician at').first().waitFor();
  await admin.getByText(/can now open emergency access/).waitFor({ timeout: 60_000 });
  await checkPage(admin, 'organization-emergency', failures);

  // The clinician opens emergency access: form, confirmation, progress, then the records.
  await go(clinician, `/clinician`);
  const button = clinician.getByRole('link', { name: 'Emergency access…' });
  await button.click();
  await clinician.getByRole('heading', { level: 1, name: 'Emergency access' }).waitFor();
  await clinician.getByText(/At most \d+ minutes/).waitFor();
  await clinician.getByLabel('The patient’s sharing code').fill(patientSdk.id);
  await clinician.getByLabel('Why do you need emergency access?').fill(REASON);
  await clinician.getByLabel('For how many minutes?').fill('1');
  // The confirmation is required.
  await clinician.getByRole('button', { name: 'Open emergency access' }).click();
  await clinician.getByText('Tick the box to confirm you understand what happens.').waitFor();
  await clinician.getByLabel('I understand, and this is an emergency').check();
  await checkPage(clinician, 'emergency-form', failures);
  await clinician.getByRole('button', { name: 'Open emergency access' }).click();
  await clinician.getByText(/^Emergency access — ends at \d/).waitFor({ timeout: 120_000 });
  await clinician.getByText('141/93 mmHg').waitFor({ timeout: 60_000 });
  await checkPage(clinician, 'emergency-clinician-patient', failures);
  await clinician.getByRole('link', { name: 'Blood pressure' }).first().click();
  await clinician.getByRole('heading', { level: 1, name: 'Blood pressure' }).waitFor();
  await clinician.getByText('141/93 mmHg').waitFor();
  await clinician.getByText(/^Emergency access — ends at/).waitFor();
  await checkPage(clinician, 'emergency-clinician-record', failures);

  // A second request while this one is open is refused in words.
  await go(clinician, `/clinician/emergency`);
  await clinician.getByLabel('The patient’s sharing code').fill(patientSdk.id);
  await clinician.getByLabel('Why do you need emergency access?').fill(REASON);
  await clinician.getByLabel('I understand, and this is an emergency').check();
  await clinician.getByRole('button', { name: 'Open emergency access' }).click();
  await clinician.getByText(/You already have emergency access to this patient’s records/).waitFor();

  // The organization's review list shows the window with the reason and the read.
  await admin.getByRole('button', { name: 'Refresh the list' }).click();
  const reviewed = admin.getByRole('list', { name: 'Emergency access by our staff, newest first' });
  await reviewed.getByText(`“${REASON}”`).first().waitFor();
  await reviewed.getByText(/^Times a record was opened: [1-9]/).waitFor({ timeout: 30_000 });

  // After the emergency reads, a flood of refused reads: more readers than fit on a page of the
  // log, then one reader many times (folded into one event with a count), all newer than it.
  const [recordId] = (await patientSdk.listRecords(patientSdk.id)).map((r) => r.record) as [string];
  const refused = (c: MedLedgerClient) =>
    c.readRecord(recordId).then(
      () => assert.fail('a reader without a grant was served'),
      (err) => assert.equal(err.code, 'ACCESS_DENIED'),
    );
  const crowd = Array.from({ length: 60 }, () => new MedLedgerClient({ url, keys: generateKeyBundle(), pollIntervalMs: 50, genesis }));
  await Promise.all(crowd.map((c) => c.registerPatient()));
  await Promise.all(crowd.map(refused));
  const pest = new MedLedgerClient({ url, keys: generateKeyBundle(), pollIntervalMs: 50, genesis });
  await pest.registerPatient();
  for (let i = 0; i < 300; i += 30) await Promise.all(Array.from({ length: 30 }, () => refused(pest)));
  await waitUntil(async () => {
    const log = await patientSdk.accessLog(patientSdk.id);
    const pestCount = log.filter((e) => e.accessor === pest.id).reduce((n, e) => n + e.count, 0);
    return pestCount === 300 && log.filter((e) => crowd.some((c) => c.id === e.accessor)).length === 60;
  }, 'the flood on chain');

  // The patient signs in: the notice says who, why and until when, and lists the read.
  const patientBrowser = await openBrowser();
  closers.push(patientBrowser.close);
  const patient = await patientBrowser.context.newPage();
  watch('patient', patient);
  await signIn(patient, url, patientFile, PATIENT_PASS);
  const notice = patient.getByRole('region', { name: /Your records (are|were) open/ });
  await notice.waitFor();
  await notice.getByText('Dr Ada Okafor, clinician at').first().waitFor();
  await notice.getByText(`“${REASON}”`).first().waitFor();
  await notice.getByText('Until', { exact: true }).first().waitFor();
  await notice
    .getByText(/Blood pressure.*opened/)
    .first()
    .waitFor();
  await checkPage(patient, 'emergency-patient-notice', failures);

  // The access log tags the read as emergency, and shows it first, above the flood that came
  // after it: the 61 newer refusals fill the first page of the whole log, not this section.
  await patient.getByRole('link', { name: 'Access log', exact: true }).click();
  const emergencySection = patient.getByRole('list', { name: 'Emergency access to my records, newest first', exact: true });
  const tagged = emergencySection.locator('.card.emergency').first();
  await tagged.waitFor();
  await tagged.getByText('Dr Ada Okafor', { exact: false }).waitFor();
  await tagged.getByText('Emergency', { exact: true }).waitFor();
  const allAccess = patient.getByRole('list', { name: 'Access to my records, newest first', exact: true });
  assert.equal(await allAccess.locator('.card.emergency', { hasText: 'Dr Ada Okafor' }).count(), 0, 'the flood pushed it off the page');
  await patient.getByRole('button', { name: 'Show older access' }).waitFor();
  await allAccess.getByText(/tried to open a record.* — 300 times/).waitFor();
  await checkPage(patient, 'emergency-access-log', failures);

  // Once the window has ended, the patient changes the emergency key.
  await patient.getByRole('link', { name: 'My records', exact: true }).click();
  const deadline = Date.now() + 120_000;
  while ((await patient.getByRole('button', { name: 'Change my emergency key' }).count()) === 0) {
    assert.ok(Date.now() < deadline, 'the window ends and rotation is offered');
    await patient.waitForTimeout(3_000);
    await patient.getByRole('link', { name: 'Access log', exact: true }).click();
    await patient.getByRole('link', { name: 'My records', exact: true }).click();
    await patient.getByRole('region', { name: /Your records (are|were) open/ }).waitFor();
  }
  await patient.getByText('Your records were opened in an emergency').waitFor();
  await checkPage(patient, 'emergency-patient-rotate', failures);
  await patient.getByRole('button', { name: 'Change my emergency key' }).click();
  const changed = patient.getByText(/Your emergency key was changed\. 1 record is now locked to the new key/);
  const notChanged = patient.getByText('Your emergency key was not changed.');
  await changed.or(notChanged).first().waitFor({ timeout: 120_000 });
  assert.equal(await notChanged.count(), 0, `rotation refused: ${await patient.locator('.message.error').allTextContents()}`);
  const after = await listEmergency(patientSdk);
  assert.ok(after.as === 'patient' && after.rotationRecommended === false, 'after the rotation none is recommended');

  // And the clinician, after the window, is refused again.
  await go(clinician, `/clinician/patients/${patientSdk.id}`);
  await clinician.getByText('No records are shared with you.', { exact: false }).waitFor();
  assert.equal(await clinician.getByText('141/93 mmHg').count(), 0);

  // With one of the three posting validators down the request stays pending, and says what
  // to do; when it returns it posts its share and the records open.
  await (nodes[2] as MedLedgerNode).stop();
  nodes[2] = undefined;
  await clinician.evaluate(() => localStorage.setItem('medledger.emergencyWaitSeconds', '3'));
  await go(clinician, '/clinician/emergency');
  await clinician.getByLabel('The patient’s sharing code').fill(patientSdk.id);
  await clinician.getByLabel('Why do you need emergency access?').fill('Brought in after a road accident, not responsive');
  await clinician.getByLabel('For how many minutes?').fill('10');
  await clinician.getByLabel('I understand, and this is an emergency').check();
  await clinician.getByRole('button', { name: 'Open emergency access' }).click();
  await clinician.getByText(/the network has not released the patient’s key yet/).waitFor({ timeout: 120_000 });
  await clinician.getByText(/\(2 of 3 approvals\)/).waitFor();
  await checkPage(clinician, 'emergency-pending', failures);
  await clinician.getByRole('link', { name: 'Go to the patient’s records' }).click();
  await clinician.getByText(/Waiting for the network: 2 of 3 approvals/).waitFor();
  await startNode(2);
  const ready = Date.now() + 120_000;
  while ((await clinician.getByText('141/93 mmHg').count()) === 0) {
    assert.ok(Date.now() < ready, 'the returning validator completes the request');
    await clinician.waitForTimeout(1_000);
    const again = clinician.getByRole('button', { name: 'Check again' });
    if ((await again.count()) > 0) await again.click();
    else await clinician.getByRole('button', { name: 'Refresh', exact: true }).click();
  }
  // The rotated key was split again: emergency access works with the new one.
  await clinician.getByText(/^Emergency access — ends at/).waitFor();

  // The organization's privacy officer reviews the same list on their own screen.
  const officer = await adminBrowser.context.newPage();
  watch('privacy officer', officer);
  await signIn(officer, url, officerFile, CLINICIAN_PASS);
  await officer.getByRole('heading', { level: 1, name: 'Emergency access by our staff' }).waitFor();
  const officerList = officer.getByRole('list', { name: 'Emergency access by our staff, newest first' });
  await officerList.getByText(`“${REASON}”`).first().waitFor();
  await officerList.getByText('“Brought in after a road accident, not responsive”').waitFor();
  await checkPage(officer, 'privacy-officer-review', failures);

  // The organization takes the privilege away; the clinician's button is disabled again.
  await admin.getByLabel('The clinician’s sharing code').fill(clinicianId);
  await admin.getByRole('button', { name: 'Look up' }).click();
  await admin.getByRole('button', { name: 'Take emergency access away' }).click();
  await admin.getByText(/can no longer open emergency access/).waitFor({ timeout: 60_000 });
  await go(clinician, '/clinician');
  await clinician.getByRole('heading', { level: 1, name: 'My patients' }).waitFor();
  await clinician.getByText('Your organization has not given you emergency access.', { exact: false }).first().waitFor();
  assert.ok(await clinician.getByRole('button', { name: 'Emergency access…' }).isDisabled());

  // On a phone-width screen the notice and the form still fit.
  await patient.setViewportSize({ width: 390, height: 844 });
  await clinician.setViewportSize({ width: 390, height: 844 });
  await go(clinician, `/clinician/emergency`);
  await clinician.getByRole('heading', { level: 1, name: 'Emergency access' }).waitFor();
  await checkPage(clinician, 'phone-emergency-form', failures);

  assert.deepEqual(pageProblems, [], 'no uncaught errors or CSP refusals in the pages');
  assert.deepEqual(failures, [], `accessibility: serious or critical axe violations\n${failures.join('\n')}`);
});
