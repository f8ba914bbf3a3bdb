// The insurance screens end to end in a real browser against a real node (docs/insurance.md):
// the clinician sees the status of the claims the hospital sent; the patient reads a claim in plain words (billed, paid by the insurer, owed) and disputes a
// denied line; the insurer's claims officer works the queue — approves one pended prior
// authorization, denies another with a reason, releases a claim held as a duplicate, and
// overturns the dispute — while another insurer's officer sees none of it; the patient then
// sees the claim processed again. Each page is checked with axe-core.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  addCoverage,
  createKeystore,
  listInsurance,
  MedLedgerClient,
  type PreauthView,
  publishPlan,
  requestPreauth,
  staffRegisterBody,
  submitClaim,
  TrustedGenesis,
} from '@medledger/client';
import { generateKeyBundle, type KeyBundle } from '@medledger/crypto';
import { initNetwork, loadHome, MedLedgerNode, type OrgKeyFile, readOrgKey } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE } from '@medledger/node/testing';
import type { Page } from 'playwright-core';
import { checkPage, openBrowser, requireBrowserAndBuild } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-web-insurance-'));
let node: MedLedgerNode;
let url = '';
let trusted: TrustedGenesis;
let orgs: OrgKeyFile[] = [];
const closers: Array<() => Promise<void>> = [];
const PASS = 'insurance passphrase 13';

before(async () => {
  requireBrowserAndBuild();
  const init = initNetwork({
    validators: 1,
    out: dir,
    chainId: 'web-insurance',
    ports: await freePorts(1),
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Evergreen Health Insurance', kind: 'insurer' },
      { name: 'Blue Lake Insurance', kind: 'insurer' },
    ],
  });
  orgs = init.orgKeys;
  trusted = TrustedGenesis.fromDocument(init.genesis);
  const loaded = loadHome(init.homes[0] as string);
  loaded.config.consensus.blockIntervalMs = 50;
  node = new MedLedgerNode(loaded, { logger: () => {} });
  url = await node.start();
});
after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const client = (keys: KeyBundle) => new MedLedgerClient({ url, keys, genesis: trusted });
const orgClient = (o: OrgKeyFile) => client(readOrgKey(o.home, { file: o.file }));

/** Register staff of `org` and write their keystore file for the browser's sign-in. */
async function staff(org: OrgKeyFile, role: 'clinician' | 'insurer', name: string) {
  const keys = generateKeyBundle();
  await orgClient(org).submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name }),
  );
  const file = join(dir, `${name.replace(/\W/g, '')}.json`);
  writeFileSync(file, JSON.stringify(await createKeystore(keys, PASS, { label: name })));
  return { keys, file, client: client(keys) };
}

async function signIn(file: string, landing: string): Promise<Page> {
  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  await page.goto(`${url}/sign-in`);
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(file);
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: landing }).waitFor();
  return page;
}

test('the insurer works its queue in the browser and the patient reads and disputes a claim', { timeout: 600_000 }, async () => {
  const [hospital, evergreen, blueLake] = orgs as [OrgKeyFile, OrgKeyFile, OrgKeyFile];
  const doctor = await staff(hospital, 'clinician', 'Dr Claims');
  const officer = await staff(evergreen, 'insurer', 'Claire Claims');
  const rival = await staff(blueLake, 'insurer', 'Rita Rival');
  const patientKeys = generateKeyBundle();
  const patient = client(patientKeys);
  const { id: patientId } = await patient.registerPatient();
  const patientFile = join(dir, 'patient.json');
  writeFileSync(patientFile, JSON.stringify(await createKeystore(patientKeys, PASS, { label: 'Pat' })));
  await patient.grant({ grantee: hospital.id, categories: ['billing'], access: 'read-write', purpose: 'payment' });

  const year = new Date().toISOString().slice(0, 4);
  const today = new Date().toISOString().slice(0, 10);
  const plan = await publishPlan(orgClient(evergreen), {
    name: 'Evergreen Silver',
    effectiveFrom: `${year}-01-01`,
    deductible: 10_000,
    oopMax: 300_000,
    coinsuranceBps: 2000,
    network: [hospital.id],
    services: [
      { code: '99213', allowed: 15_000 },
      { code: '72148', allowed: 150_000, priorAuth: true, justifyingDiagnoses: ['M54.5'] },
      { code: '70553', allowed: 200_000, priorAuth: true },
    ],
  });
  const coverage = await addCoverage(officer.client, {
    patient: patientId,
    plan: plan.id,
    memberId: 'EVG-13',
    from: `${year}-01-01`,
    to: `${year}-12-31`,
  });
  // Two pended prior authorizations (no justifying diagnosis given).
  const mri = await requestPreauth(doctor.client, { patient: patientId, coverage: coverage.id, items: [{ code: '72148' }], urgent: true });
  const brain = await requestPreauth(doctor.client, { patient: patientId, coverage: coverage.id, items: [{ code: '70553' }] });
  assert.deepEqual([mri.preauth.status, brain.preauth.status], ['pended', 'pended']);
  // A visit with an unauthorized MRI line (denied), and the same visit billed again (held as a duplicate).
  const fhirClaim = (lines: Array<[string, number]>) => ({
    resourceType: 'Claim',
    status: 'active',
    use: 'claim',
    type: { coding: [{ code: 'professional' }] },
    billablePeriod: { start: today },
    item: lines.map(([code, dollars], i) => ({
      sequence: i + 1,
      productOrService: { coding: [{ code }] },
      servicedDate: today,
      net: { value: dollars },
    })),
  });
  await submitClaim(doctor.client, {
    patient: patientId,
    coverage: coverage.id,
    claim: fhirClaim([
      ['99213', 150],
      ['72148', 1500],
    ]),
  });
  const duplicate = await submitClaim(doctor.client, { patient: patientId, coverage: coverage.id, claim: fhirClaim([['99213', 150]]) });
  assert.equal(duplicate.claim.status, 'review');

  const failures: string[] = [];
  // The clinician: the status of the claims the hospital sent for this patient.
  const clinic = await signIn(doctor.file, 'My patients');
  // The patient shared billing with the hospital, not records with the doctor: open their page in the app.
  await clinic.evaluate((path) => {
    history.pushState(null, '', path);
    dispatchEvent(new PopStateEvent('popstate'));
  }, `/clinician/patients/${patientId}`);
  const sent = clinic.getByRole('list', { name: 'Claims sent for this patient, newest first' }).locator('li');
  await sent.first().waitFor();
  assert.equal(await sent.count(), 2);
  await clinic.getByText(/Being checked by the insurer/).waitFor();
  await clinic.getByText('72148 not paid: PREAUTH_REQUIRED.').waitFor();
  await clinic.getByText(/Billed \$1,650\.00, allowed \$150\.00: the insurer pays \$40\.00, the patient owes \$110\.00\./).waitFor();
  await checkPage(clinic, 'insurance-clinician-claims', failures);

  // The patient: billed, paid by the insurer and owed, in plain words; disputes the denied line.
  const pat = await signIn(patientFile, 'My records');
  await pat.getByRole('link', { name: 'Insurance', exact: true }).click();
  await pat.getByRole('heading', { level: 1, name: 'Insurance' }).waitFor();
  await pat.getByText('Member EVG-13', { exact: false }).waitFor();
  const denied = pat.getByRole('list', { name: 'My claims, newest first' }).locator('li').filter({ hasText: '72148 was not paid' });
  await denied.waitFor();
  await denied.getByText(/Billed \$1,650\.00/).waitFor();
  // $100.00 deductible, then 20 % of the remaining $50.00: the insurer pays $40.00, the patient $110.00.
  await denied.getByText(/The insurer pays \$40\.00\. You owe \$110\.00 \(\$100\.00 toward your deductible\)/).waitFor();
  await checkPage(pat, 'insurance-patient-claims', failures);
  await denied.getByLabel(/Why do you disagree/).fill('the scan was authorized by phone');
  await denied.getByRole('button', { name: 'Dispute this claim' }).click();
  await denied.getByText('Disputed', { exact: true }).waitFor();

  // The other insurer's officer sees an empty queue.
  const rivalPage = await signIn(rival.file, 'Claims queue');
  await rivalPage.getByText('Nothing waiting.').waitFor();
  await rivalPage.getByText('Nothing in review.').waitFor();
  await rivalPage.getByText('No open disputes.').waitFor();

  // Evergreen's officer: two pended authorizations with deadlines, one claim in review, one dispute.
  const desk = await signIn(officer.file, 'Claims queue');
  const waiting = desk.getByRole('list', { name: 'Prior authorizations waiting' }).locator('li');
  await waiting.first().waitFor();
  assert.equal(await waiting.count(), 2);
  await desk.getByText(/72148 ×1 \(urgent\) — decide by/).waitFor();
  await desk.getByText(/the scan was authorized by phone/).waitFor();
  await checkPage(desk, 'insurance-insurer-queue', failures);
  await waiting.filter({ hasText: '72148' }).getByRole('button', { name: 'Approve for 90 days' }).click();
  await desk.getByText('Prior authorization approved.').waitFor();
  await waiting.filter({ hasText: '70553' }).getByRole('button', { name: 'Deny: documentation insufficient' }).click();
  await desk.getByText('Prior authorization denied.').waitFor();
  await desk.getByRole('button', { name: 'Release' }).click();
  await desk.getByText('Claim released for payment.').waitFor();
  await desk.getByRole('button', { name: 'Overturn and reprocess' }).click();
  await desk.getByText('Dispute overturned; the claim was processed again.').waitFor();
  await desk.getByText('Nothing waiting.').waitFor();
  await desk.getByText('No open disputes.').waitFor();
  await checkPage(desk, 'insurance-insurer-queue-done', failures);

  // The ledger holds what the officer decided.
  const decided = (await listInsurance<PreauthView>(officer.client, { by: 'insurers', id: evergreen.id, of: 'preauths' })).items;
  assert.deepEqual(
    decided.map((p) => [p.id, p.status]).sort(),
    [
      [mri.id, 'approved'],
      [brain.id, 'denied'],
    ].sort(),
  );
  assert.equal(decided.find((p) => p.id === brain.id)?.decision?.reasonCode, 'INSUFFICIENT_DOCUMENTATION');

  // The patient sees the claim processed again, the MRI now paid.
  await pat.getByRole('link', { name: 'My records' }).click();
  await pat.getByRole('heading', { level: 1, name: 'My records' }).waitFor();
  await pat.getByRole('link', { name: 'Insurance', exact: true }).click();
  await pat.getByRole('heading', { level: 1, name: 'Insurance' }).waitFor();
  await pat.getByText('This claim was processed again after a dispute; the earlier result is kept.').waitFor();
  await pat.getByText('The insurer checked this claim and released it for payment.').waitFor();
  assert.equal(await pat.getByText('72148 was not paid').count(), 0);
  await checkPage(pat, 'insurance-patient-after-dispute', failures);

  assert.deepEqual(failures, [], `accessibility: serious or critical axe violations\n${failures.join('\n')}`);
});
