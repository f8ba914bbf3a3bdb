// Issue 17 items 6–11 and 13 as user journeys in chromium on a real 4-validator network, at
// desktop and phone width, axe-checked, screenshots under artifacts/screenshots/ (printed):
// results read like a clinician writes them, one blood pressure chart whatever its coding,
// summaries and filters, the grouped access log, notifications, the account page, and the
// explorer's missing block and wrong genesis file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { categoryOf, createKeystore, type FhirResource, MedLedgerClient, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, idFromPublicKey } from '@medledger/crypto';
import { HOME_FILES, initNetwork, loadHome, MedLedgerNode, readOrgKey } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE } from '@medledger/node/testing';
import type { Page } from 'playwright-core';
import { checkPage, openBrowser, requireBrowserAndBuild, SCREENSHOTS, screenshot } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-web-portal-'));
const nodes: MedLedgerNode[] = [];
const urls: string[] = [];
const closers: Array<() => Promise<void>> = [];

before(async () => {
  requireBrowserAndBuild();
  const { homes } = initNetwork({ validators: 4, out: dir, chainId: 'web-portal', ports: await freePorts(4) });
  for (const home of homes) {
    const loaded = loadHome(home);
    loaded.config.consensus.blockIntervalMs = 100;
    const node = new MedLedgerNode(loaded, { logger: () => {} });
    urls.push(await node.start());
    nodes.push(node);
  }
});

after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  for (const node of nodes) await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

const PATIENT_PASS = 'portal patient passphrase';
const NEW_PASS = 'a brand new passphrase 9';
const CLINICIAN_PASS = 'portal clinician passphrase';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const DAY = 86_400_000;
const q = (value: number, code: string) => ({ value, unit: code, system: UCUM, code });
const iso = (ms: number) => new Date(ms).toISOString();
const lab = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }];
const vitals = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }];

/** A history like the demo's Synthea import: unrounded values, UCUM codes, a panel, a visit and its bills. */
function importedHistory(now: number): FhirResource[] {
  const visitAt = iso(now - 40 * DAY);
  return [
    { resourceType: 'Patient', id: 'pat', name: [{ given: ['Sam'], family: 'Rivers' }], birthDate: '1980-02-03' },
    {
      resourceType: 'Observation',
      id: 'bp1',
      status: 'final',
      category: vitals,
      code: { coding: [{ system: LOINC, code: '55284-4', display: 'Blood Pressure' }], text: 'Blood Pressure' },
      effectiveDateTime: iso(now - 30 * DAY),
      component: [
        {
          code: { coding: [{ system: LOINC, code: '8462-4' }], text: 'Diastolic Blood Pressure' },
          valueQuantity: q(94.67577606770969, 'mm[Hg]'),
        },
        {
          code: { coding: [{ system: LOINC, code: '8480-6' }], text: 'Systolic Blood Pressure' },
          valueQuantity: q(151.86292759932016, 'mm[Hg]'),
        },
      ],
    },
    {
      resourceType: 'Observation',
      id: 'chol',
      status: 'final',
      category: lab,
      code: { coding: [{ system: LOINC, code: '2093-3' }], text: 'Total Cholesterol' },
      effectiveDateTime: iso(now - 20 * DAY),
      valueQuantity: q(246.0414383305478, 'mg/dL'),
    },
    {
      resourceType: 'Observation',
      id: 'hdl',
      status: 'final',
      category: lab,
      code: { coding: [{ system: LOINC, code: '2085-9' }], text: 'High Density Lipoprotein Cholesterol' },
      effectiveDateTime: iso(now - 20 * DAY),
      valueQuantity: q(55.2, 'mg/dL'),
    },
    {
      resourceType: 'DiagnosticReport',
      id: 'lipid',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '57698-3' }], text: 'Lipid Panel' },
      effectiveDateTime: iso(now - 20 * DAY),
      result: [
        { reference: 'urn:uuid:chol', display: 'Total Cholesterol' },
        { reference: 'urn:uuid:hdl', display: 'High Density Lipoprotein Cholesterol' },
      ],
    },
    {
      resourceType: 'Observation',
      id: 'rbc',
      status: 'final',
      category: lab,
      code: { coding: [{ system: LOINC, code: '789-8' }], text: 'Erythrocytes [#/volume] in Blood by Automated count' },
      effectiveDateTime: iso(now - 20 * DAY),
      valueQuantity: q(4.56789, '10*6/uL'),
    },
    {
      resourceType: 'Observation',
      id: 'pain',
      status: 'final',
      category: vitals,
      code: { coding: [{ system: LOINC, code: '72514-3' }], text: 'Pain severity - 0-10 verbal numeric rating [Score] - Reported' },
      effectiveDateTime: iso(now - 20 * DAY),
      valueQuantity: q(3, '{score}'),
    },
    {
      resourceType: 'Condition',
      id: 'htn',
      clinicalStatus: { coding: [{ code: 'active' }] },
      code: { text: 'Hypertension' },
      onsetDateTime: iso(now - 300 * DAY),
    },
    {
      resourceType: 'MedicationRequest',
      id: 'hctz',
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { text: 'Hydrochlorothiazide 25 MG' },
      authoredOn: iso(now - 290 * DAY),
    },
    { resourceType: 'AllergyIntolerance', id: 'pen', code: { text: 'Penicillin' }, reaction: [{ manifestation: [{ text: 'Hives' }] }] },
    {
      resourceType: 'Immunization',
      id: 'flu1',
      status: 'completed',
      vaccineCode: { text: 'Influenza vaccine' },
      occurrenceDateTime: iso(now - 400 * DAY),
    },
    {
      resourceType: 'Immunization',
      id: 'flu2',
      status: 'completed',
      vaccineCode: { text: 'Influenza vaccine' },
      occurrenceDateTime: iso(now - 35 * DAY),
    },
    { resourceType: 'Encounter', id: 'visit', status: 'finished', type: [{ text: 'Check-up' }], period: { start: visitAt } },
    {
      resourceType: 'Claim',
      id: 'claim',
      status: 'active',
      created: visitAt,
      total: { value: 129.16, currency: 'USD' },
      item: [{ sequence: 1, encounter: [{ reference: 'urn:uuid:visit' }] }],
    },
    {
      resourceType: 'ExplanationOfBenefit',
      id: 'eob',
      status: 'active',
      created: visitAt,
      claim: { reference: 'urn:uuid:claim' },
      total: [{ amount: { value: 103.33, currency: 'USD' } }],
      item: [{ sequence: 1, encounter: [{ reference: 'urn:uuid:visit' }] }],
    },
  ];
}

/** Move within the app without reloading (a reload signs out until issue 17 item 3 lands). */
async function go(page: Page, path: string): Promise<void> {
  await page.evaluate((to) => {
    history.pushState(null, '', to);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
}

async function signIn(page: Page, url: string, file: string, pass: string): Promise<void> {
  await page.goto(`${url}/sign-in`);
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(file);
  await page.getByLabel('Passphrase').fill(pass);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.endsWith('/sign-in'), { timeout: 60_000 }); // signed in
}

/** Click Refresh until `text` shows (access events reach the chain a block or two later). */
async function refreshUntil(page: Page, text: string | RegExp, what: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if ((await page.getByText(text).count()) > 0) return;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await page.getByRole('button', { name: 'Refresh' }).first().click();
    await page.waitForTimeout(1_000);
  }
}

/** The timeline's filter count reads `expected` (within 30 s: filtering is immediate, rendering is not). */
async function shows(page: Page, expected: RegExp): Promise<void> {
  const deadline = Date.now() + 30_000;
  let text = '';
  while (Date.now() < deadline) {
    text = (
      (await page
        .getByTestId('filter-count')
        .textContent()
        .catch(() => '')) ?? ''
    )
      .replace(/\s+/g, ' ')
      .trim();
    if (expected.test(text)) return;
    await page.waitForTimeout(250);
  }
  assert.fail(`the filter count reads "${text}", expected ${expected}`);
}

/** The page must not scroll sideways (issue 17 item 6: nothing overflows on a phone). */
async function assertNoSidewaysScroll(page: Page, where: string): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `${where}: the page is ${scroll}px wide on a ${width}px screen`);
}

test('results, charts, summaries, access log, notifications, account and explorer: a patient and a clinician, desktop and phone', {
  timeout: 900_000,
}, async () => {
  console.log(`screenshots: ${SCREENSHOTS}`);
  const failures: string[] = [];
  const pageProblems: string[] = [];
  const url = urls[0] as string;
  const genesisFile = join(dir, 'node0', HOME_FILES.genesis);
  const genesis = TrustedGenesis.fromDocument(JSON.parse(readFileSync(genesisFile, 'utf8')));

  // The hospital registers Dr Grey; Sam, a patient, has an imported history and lets Dr Grey
  // see and add vital signs and lab results until 3 days from now.
  const org = new MedLedgerClient({ url, genesis, keys: readOrgKey(join(dir, 'node0'), { passphrase: TEST_PASSPHRASE }) });
  const greyKeys = generateKeyBundle();
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({
      publicKey: greyKeys.signing.publicKey,
      encryptionKey: greyKeys.encryption.publicKey,
      role: 'clinician',
      name: 'Dr Meredith Grey',
    }),
  );
  const greyId = idFromPublicKey(greyKeys.signing.publicKey);
  const greyFile = join(dir, 'grey.json');
  writeFileSync(greyFile, JSON.stringify(await createKeystore(greyKeys, CLINICIAN_PASS, { label: 'Dr Grey' })));
  const patientKeys = generateKeyBundle();
  const sam = new MedLedgerClient({ url, genesis, keys: patientKeys, pollIntervalMs: 50 });
  await sam.registerPatient();
  const now = Date.now();
  for (const resource of importedHistory(now)) await sam.writeRecord({ patient: sam.id, resource, category: categoryOf(resource) });
  await sam.grant({
    grantee: greyId,
    categories: ['vital-signs', 'laboratory'],
    access: 'read-write',
    purpose: 'treatment',
    expiresAt: now + 3 * DAY,
  });
  const samFile = join(dir, 'sam.json');
  writeFileSync(samFile, JSON.stringify(await createKeystore(patientKeys, PATIENT_PASS, { label: 'Sam' })));

  const patientBrowser = await openBrowser();
  closers.push(patientBrowser.close);
  const clinicianBrowser = await openBrowser();
  closers.push(clinicianBrowser.close);
  const patient = await patientBrowser.context.newPage();
  const clinician = await clinicianBrowser.context.newPage();
  for (const [who, page] of [
    ['patient', patient],
    ['clinician', clinician],
  ] as const) {
    page.on('pageerror', (err) => pageProblems.push(`${who}: ${err.message}`));
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) pageProblems.push(`${who}: ${msg.text()}`);
    });
  }

  try {
    await journey(patient, clinician);
  } catch (err) {
    // What each page showed when it failed, to read with the screenshots.
    await screenshot(patient, 'failure-patient').catch(() => undefined);
    await screenshot(clinician, 'failure-clinician').catch(() => undefined);
    throw err;
  }
  assert.deepEqual(pageProblems, [], 'no uncaught errors or CSP refusals in the pages');
  assert.deepEqual(failures, [], `accessibility: serious or critical axe violations\n${failures.join('\n')}`);

  async function journey(patient: Page, clinician: Page): Promise<void> {
    // Item 6. Values: rounded, in human units, flagged against a range; the panel's results;
    // the medication's dose.
    await signIn(patient, url, samFile, PATIENT_PASS);
    await patient.getByRole('heading', { level: 1, name: 'My records' }).waitFor();
    const timeline = patient.getByRole('list', { name: 'Records, newest first' });
    await timeline.getByText('152/95 mmHg').waitFor({ timeout: 60_000 });
    await timeline.locator('li', { hasText: '152/95 mmHg' }).getByText('High', { exact: true }).waitFor();
    await timeline.getByText('4.57 ×10⁶/µL').waitFor();
    await timeline.getByText('3 out of 10').waitFor();
    await timeline.getByText('2 results, 1 outside the range').waitFor();
    await timeline.getByText('25 mg each').waitFor();
    const body = (await patient.locator('main').textContent()) ?? '';
    for (const raw of ['151.86', '{score}', '10*6/uL', 'mm[Hg]'])
      assert.ok(!body.includes(raw), `no raw value or UCUM code on the page: ${raw}`);
    // Item 8. A visit's claim and statement sit inside the visit's card, not as cards of their own.
    const bills = patient.getByRole('list', { name: 'Billing for Check-up' });
    await bills.getByText(/Insurance claim: 129.16 USD/).waitFor();
    await bills.getByText(/Insurance statement: 103.33 USD/).waitFor();
    assert.equal(await timeline.locator(':scope > li', { hasText: 'Insurance claim' }).count(), 1, 'the claim is only inside its visit');
    await checkPage(patient, 'results-timeline', failures);

    // Filters: words, kind, and dates.
    await patient.getByLabel('Search', { exact: true }).fill('cholesterol');
    await shows(patient, /^Showing 3 of \d+ records\.$/);
    await timeline.getByRole('link', { name: 'Lipid Panel' }).waitFor();
    await patient.getByLabel('Search', { exact: true }).fill('');
    await patient.getByLabel('Kind', { exact: true }).selectOption('Vaccination');
    await shows(patient, /^Showing 2 of \d+ records\.$/);
    await patient.getByLabel('From', { exact: true }).fill(new Date(now - 100 * DAY).toISOString().slice(0, 10));
    await shows(patient, /^Showing 1 of \d+ records\.$/);
    await checkPage(patient, 'results-timeline-filtered', failures);
    await patient.getByRole('button', { name: /Clear the filters/ }).click();

    // The panel's page lists its members with their flags and ranges.
    await timeline.getByRole('link', { name: 'Lipid Panel' }).click();
    await patient.getByRole('heading', { level: 1, name: 'Lipid Panel' }).waitFor();
    await patient.getByText(/^246 mg\/dL — High \(range: 199 mg\/dL or less, typical adult range\)$/).waitFor();
    await patient.getByText(/^55.2 mg\/dL \(range: 40 mg\/dL or more, typical adult range\)$/).waitFor();
    // Erasing is out of the way, under "More actions".
    assert.equal(await patient.getByRole('button', { name: 'Erase this record…' }).isVisible(), false);
    await patient.getByText('More actions').click();
    await patient.getByRole('button', { name: 'Erase this record…' }).waitFor();
    await checkPage(patient, 'results-panel', failures);
    await patient.getByRole('link', { name: /Back to the records/ }).click();

    // Item 8. Summaries: problems, medications, allergies, vaccinations (two doses, one line).
    await patient.getByRole('button', { name: 'Summary' }).click();
    await patient.getByRole('heading', { level: 2, name: 'Problems (1)' }).waitFor();
    await patient.getByRole('heading', { level: 2, name: 'Medications (1)' }).waitFor();
    await patient.getByRole('heading', { level: 2, name: 'Allergies (1)' }).waitFor();
    await patient.getByRole('heading', { level: 2, name: 'Vaccinations (1)' }).waitFor();
    await patient
      .getByRole('list', { name: 'Vaccinations' })
      .getByText(/2 doses/)
      .waitFor();
    await patient
      .getByRole('list', { name: 'Medications' })
      .getByText(/25 mg each/)
      .waitFor();
    await checkPage(patient, 'results-summary', failures);

    // Item 7. Dr Grey adds a blood pressure through the form: it joins the imported one's chart.
    await signIn(clinician, url, greyFile, CLINICIAN_PASS);
    await clinician.getByRole('heading', { level: 1, name: 'My patients' }).waitFor();
    await go(clinician, `/clinician/patients/${sam.id}`);
    await clinician.getByText('152/95 mmHg').waitFor({ timeout: 60_000 });
    await clinician.getByLabel('Systolic (mmHg)').fill('128');
    await clinician.getByLabel('Diastolic (mmHg)').fill('82');
    await clinician.getByRole('button', { name: 'Add record' }).click();
    await clinician.getByText(/The record was added/).waitFor({ timeout: 60_000 });
    // Item 10. The clinician is told the sharing ends within 7 days.
    await clinician.getByRole('link', { name: /^Notifications/ }).click();
    await clinician.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    await clinician.getByText(/’s sharing with you ends on/).waitFor();
    await checkPage(clinician, 'notifications-clinician', failures);

    await patient.getByRole('button', { name: 'Refresh' }).click();
    await patient.getByRole('button', { name: 'Charts' }).click();
    const picker = patient.getByLabel('Show', { exact: true });
    await picker.waitFor();
    const options = await picker.locator('option').allTextContents();
    assert.deepEqual(
      options.filter((o) => o.startsWith('Blood pressure')),
      ['Blood pressure (2 readings)'],
      `one blood pressure chart: ${options.join(' | ')}`,
    );
    await picker.selectOption({ label: 'Blood pressure (2 readings)' });
    const chart = patient.getByRole('img', { name: /^Blood pressure over time, 2 readings/ });
    await chart.waitFor();
    assert.deepEqual(
      (await patient.locator('.legend li').allTextContents()).map((t) => t.trim()),
      ['Systolic', 'Diastolic'],
      'systolic is always the first line and colour',
    );
    const box = await chart.boundingBox();
    assert.ok(box);
    await patient.mouse.move(box.x + box.width - 20, box.y + box.height / 2);
    await patient
      .getByTestId('chart-readout')
      .getByText(/Systolic 128, Diastolic 82 mmHg/)
      .waitFor();
    await checkPage(patient, 'results-chart', failures);
    // A one-value chart shades the reference range, said in words too.
    await picker.selectOption({ label: 'Total cholesterol (1 reading)' });
    await patient.getByText('Shaded: 199 mg/dL or less, typical adult range').waitFor();
    await checkPage(patient, 'results-chart-range', failures);

    // Item 9. The access log: Dr Grey's reads as one line with a count, her new record as an event.
    await patient.getByRole('link', { name: 'Access log', exact: true }).click();
    await refreshUntil(patient, /Dr Meredith Grey, clinician.* opened \d+ records/, "Dr Grey's reads, grouped");
    await refreshUntil(patient, /added a record/, "Dr Grey's new record as an event");
    const log = patient.getByRole('list', { name: 'Access to my records, newest first' });
    const greyReads = log.locator('li.card.allowed', { hasText: 'Dr Meredith Grey' });
    assert.equal(await greyReads.count(), 1, 'all of her reads that day are one line');
    await greyReads.getByText(/Show which records/).click();
    assert.ok((await greyReads.locator('.accesses li').count()) >= 4, 'the records she opened are listed under it');
    await patient.getByLabel('Show', { exact: true }).selectOption('added');
    await log.getByText(/added a record/).waitFor();
    assert.equal(await log.locator('li.card.allowed').count(), 0, 'the filter shows only added records');
    await checkPage(patient, 'access-log-grouped', failures);
    await patient.getByLabel('Show', { exact: true }).selectOption('all');

    // Item 10. The patient's notifications: opened, added, sharing ending; then all read.
    await patient.getByRole('link', { name: /^Notifications/ }).click();
    await patient.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    const notices = patient.getByRole('list', { name: 'Notifications, newest first' });
    await notices.getByText(/Dr Meredith Grey, clinician.* opened \d+ records/).waitFor();
    await notices
      .getByText(/added a record/)
      .first()
      .waitFor();
    await notices.getByText(/Your sharing with Dr Meredith Grey.* ends on/).waitFor();
    await patient.getByTestId('unread-count').waitFor();
    await checkPage(patient, 'notifications-patient', failures);
    await patient.getByRole('button', { name: 'Mark all as read' }).click();
    await patient.getByText('No new notifications.').waitFor();
    assert.equal(await patient.getByTestId('unread-count').count(), 0, 'the menu count is gone');

    // Item 11. The account page: who, the recovery file again, a new passphrase, the export.
    await patient.getByRole('link', { name: 'My account' }).click();
    await patient.getByTestId('signed-in-as').getByText('Sam').waitFor();
    const recovery = patient.waitForEvent('download');
    await patient.getByRole('button', { name: 'Download my recovery file again' }).click();
    const recoveryFile = join(dir, 'again.json');
    await (await recovery).saveAs(recoveryFile);
    assert.equal(JSON.parse(readFileSync(recoveryFile, 'utf8')).label, 'Sam', 'the recovery file is the keystore');
    const exported = patient.waitForEvent('download');
    await patient.getByRole('button', { name: 'Download all my records (FHIR)' }).click();
    const bundleFile = join(dir, 'bundle.json');
    await (await exported).saveAs(bundleFile);
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as {
      resourceType: string;
      entry: Array<{ resource: { resourceType: string } }>;
    };
    assert.equal(bundle.resourceType, 'Bundle');
    assert.equal(bundle.entry.length, importedHistory(now).length + 1, 'every record, including the one Dr Grey added');
    await patient.getByText(/^Downloaded \d+ records as a FHIR Bundle\./).waitFor();
    await patient.getByLabel('Current passphrase').fill('not my passphrase');
    await patient.getByLabel('New passphrase').fill(NEW_PASS);
    await patient.getByLabel('Type the passphrase again').fill(NEW_PASS);
    await patient.getByRole('button', { name: 'Change my passphrase' }).click();
    await patient.getByText('Your passphrase was not changed.').waitFor({ timeout: 60_000 });
    await patient.getByLabel('Current passphrase').fill(PATIENT_PASS);
    await patient.getByLabel('New passphrase').fill(NEW_PASS);
    await patient.getByLabel('Type the passphrase again').fill(NEW_PASS);
    const newRecovery = patient.waitForEvent('download');
    await patient.getByRole('button', { name: 'Change my passphrase' }).click();
    await newRecovery;
    await patient.getByText(/Your passphrase was changed on this device/).waitFor({ timeout: 60_000 });
    await checkPage(patient, 'account', failures);
    await patient.getByRole('link', { name: 'Print a summary' }).click();
    await patient.getByRole('heading', { level: 1, name: 'Health summary' }).waitFor();
    await patient.getByText('Sam Rivers').waitFor();
    await patient.getByRole('heading', { level: 2, name: 'Latest measurements' }).waitFor();
    await checkPage(patient, 'print-summary', failures);
    await patient.getByRole('link', { name: 'My account', exact: true }).click();
    await patient.getByRole('button', { name: 'Sign out' }).click();
    await patient.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await patient.getByLabel('Passphrase').fill(NEW_PASS);
    await patient.getByRole('button', { name: 'Sign in' }).click();
    await patient.getByRole('heading', { level: 1, name: 'My records' }).waitFor({ timeout: 60_000 });

    // Item 13. The explorer: a missing block says so; a wrong genesis file is an error and never
    // sits beside a green result; jargon only behind the toggles.
    await patient.goto(`${url}/explorer/blocks/999999`);
    await patient.getByTestId('block-missing').getByText('There is no block 999999.').waitFor();
    assert.equal(await patient.getByText('Something went wrong').count(), 0);
    await checkPage(patient, 'explorer-missing-block', failures);
    await patient.goto(`${url}/explorer`);
    await patient.getByRole('heading', { level: 1, name: 'Network explorer' }).waitFor();
    assert.equal(await patient.getByText(/validator-\d|Merkle/).count(), 0, 'no jargon before the toggle');
    await patient.getByRole('button', { name: 'Show technical options' }).click();
    const notGenesis = join(dir, 'not-genesis.json');
    writeFileSync(notGenesis, '{"hello": "world"}');
    await patient.getByLabel('The network’s genesis file (optional)').setInputFiles(notGenesis);
    await patient
      .getByTestId('genesis-problem')
      .getByText(/not a MedLedger genesis file/)
      .waitFor();
    assert.equal(await patient.getByRole('button', { name: 'Verify', exact: true }).count(), 0, 'no Verify with an unusable file');
    assert.equal(await patient.getByTestId('verify-result').count(), 0);
    // First a good run, then another network's genesis: the green result goes, the error stays alone.
    await patient.getByLabel('The network’s genesis file (optional)').setInputFiles(genesisFile);
    await patient.getByRole('button', { name: 'Verify', exact: true }).click();
    await patient
      .getByTestId('verify-result')
      .getByText(/blocks check out/)
      .waitFor({ timeout: 120_000 });
    const otherGenesis = join(dir, 'other-genesis.json');
    writeFileSync(otherGenesis, JSON.stringify({ ...JSON.parse(readFileSync(genesisFile, 'utf8')), chainId: 'another-network' }));
    await patient.getByLabel('The network’s genesis file (optional)').setInputFiles(otherGenesis);
    await patient
      .getByTestId('genesis-problem')
      .getByText(/for another network \(“another-network”\)/)
      .waitFor();
    assert.equal(await patient.getByTestId('verify-result').count(), 0, 'no green result beside the error');
    assert.equal(await patient.getByText(/check out/).count(), 0);
    await checkPage(patient, 'explorer-wrong-genesis', failures);

    // Phone width: nothing scrolls sideways; the chart reads a tapped value.
    const phoneBrowser = await openBrowser();
    closers.push(phoneBrowser.close);
    const phone = await phoneBrowser.context.newPage();
    phone.on('pageerror', (err) => pageProblems.push(`phone: ${err.message}`));
    await phone.setViewportSize({ width: 390, height: 844 });
    await signIn(phone, url, samFile, PATIENT_PASS);
    await phone.getByText('152/95 mmHg').waitFor({ timeout: 60_000 });
    await assertNoSidewaysScroll(phone, 'phone timeline');
    await checkPage(phone, 'phone-results-timeline', failures);
    await phone.getByRole('link', { name: 'Lipid Panel' }).click();
    await phone.getByRole('heading', { level: 1, name: 'Lipid Panel' }).waitFor();
    await assertNoSidewaysScroll(phone, 'phone panel');
    await phone.getByRole('link', { name: /Back to the records/ }).click();
    await phone.getByRole('button', { name: 'Charts' }).click();
    await phone.getByLabel('Show', { exact: true }).selectOption({ label: 'Blood pressure (2 readings)' });
    const phoneChart = phone.getByRole('img', { name: /^Blood pressure over time/ });
    const pbox = await phoneChart.boundingBox();
    assert.ok(pbox && pbox.width <= 390, 'the chart fits the phone');
    await phone.mouse.click(pbox.x + 60, pbox.y + pbox.height / 2);
    await phone
      .getByTestId('chart-readout')
      .getByText(/Systolic 152, Diastolic 95 mmHg/)
      .waitFor();
    // Axis labels stay at their CSS size (12px), not shrunk with the drawing.
    const axisPx = await phone
      .locator('.chart .axis')
      .first()
      .evaluate((el) => el.getBoundingClientRect().height);
    assert.ok(axisPx >= 10, `axis text is legible on a phone (${axisPx}px)`);
    await assertNoSidewaysScroll(phone, 'phone charts');
    await checkPage(phone, 'phone-results-chart', failures);
    await phone.getByRole('link', { name: 'Access log', exact: true }).click();
    await phone.getByRole('list', { name: 'Access to my records, newest first' }).waitFor();
    await assertNoSidewaysScroll(phone, 'phone access log');
    await checkPage(phone, 'phone-access-log', failures);
    await phone.getByRole('link', { name: /^Notifications/ }).click();
    await phone.getByRole('list', { name: 'Notifications, newest first' }).waitFor();
    await assertNoSidewaysScroll(phone, 'phone notifications');
    await checkPage(phone, 'phone-notifications', failures);
    await phone.getByRole('link', { name: 'My account' }).click();
    await phone.getByRole('heading', { level: 2, name: 'Change my passphrase' }).waitFor();
    await assertNoSidewaysScroll(phone, 'phone account');
    await checkPage(phone, 'phone-account', failures);
  }
});
