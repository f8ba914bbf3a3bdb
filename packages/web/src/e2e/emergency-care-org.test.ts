// Only care organizations (hospitals, clinics, labs) may give their clinicians emergency
// access (the ledger's isCareOrganization). The web app must not offer it to anyone else:
// a manufacturer's admin sees no privilege form (an explanation instead), and a clinician a
// manufacturer registered is told emergency access is not for its staff — not sent to an
// administrator who cannot give it. A hospital's admin and clinician still get the form and
// the button. Checked in a real browser against a real node, with axe and screenshots.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKeystore, MedLedgerClient, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { initNetwork, loadHome, MedLedgerNode, type OrgKeyFile, readOrgKey } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE } from '@medledger/node/testing';
import type { Page } from 'playwright-core';
import { checkPage, openBrowser, requireBrowserAndBuild } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-web-emergency-care-'));
let node: MedLedgerNode;
let url = '';
let trusted: TrustedGenesis;
let orgs: OrgKeyFile[] = [];
const closers: Array<() => Promise<void>> = [];
const PASS = 'care organization passphrase 7';

before(async () => {
  requireBrowserAndBuild();
  const init = initNetwork({
    validators: 1,
    out: dir,
    chainId: 'web-emergency-care',
    ports: await freePorts(1),
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Acme Pharmaceuticals', kind: 'manufacturer' },
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

/** A keystore file for the browser's sign-in: the organization's admin key, or a new clinician of it. */
async function keyFile(org: OrgKeyFile, clinician?: string): Promise<string> {
  const orgKeys = readOrgKey(org.home, { file: org.file });
  let keys = orgKeys;
  if (clinician !== undefined) {
    keys = generateKeyBundle();
    await new MedLedgerClient({ url, keys: orgKeys, genesis: trusted }).submitAndWait(
      'staff.register',
      staffRegisterBody({
        publicKey: keys.signing.publicKey,
        encryptionKey: keys.encryption.publicKey,
        role: 'clinician',
        name: clinician,
      }),
    );
  }
  const file = join(dir, `${(clinician ?? org.name).replace(/\W/g, '')}.json`);
  writeFileSync(file, JSON.stringify(await createKeystore(keys, PASS, { label: clinician ?? org.name })));
  return file;
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

/** Move within the app (a reload would sign out: the keys live in the page's memory only). */
async function go(page: Page, path: string): Promise<void> {
  await page.evaluate((to) => {
    history.pushState(null, '', to);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
}

test('emergency access is offered only to care organizations and their clinicians', { timeout: 300_000 }, async () => {
  const [hospital, acme] = orgs as [OrgKeyFile, OrgKeyFile];
  const failures: string[] = [];
  const acmeDoctor = await keyFile(acme, 'Dr Ivy Acme');
  const hospitalDoctor = await keyFile(hospital, 'Dr Hal General');

  // The manufacturer's admin: its Staff page explains, and offers no privilege form or review.
  const acmeAdmin = await signIn(await keyFile(acme), 'Manufacturer');
  await go(acmeAdmin, '/organization');
  await acmeAdmin.getByRole('heading', { level: 1, name: 'Staff of Acme Pharmaceuticals' }).waitFor();
  const acmePanel = acmeAdmin.getByRole('heading', { level: 2, name: 'Emergency access for clinicians' }).locator('..');
  await acmePanel.getByText('Only hospitals, clinics and labs can give it').waitFor();
  await acmePanel.getByText('the staff of Acme Pharmaceuticals cannot be given emergency access').waitFor();
  assert.equal(await acmeAdmin.getByLabel('The clinician’s sharing code').count(), 0, 'no privilege form for a manufacturer');
  assert.equal(await acmeAdmin.getByRole('button', { name: 'Look up' }).count(), 0);
  assert.equal(await acmeAdmin.getByRole('heading', { name: 'Emergency access by our staff' }).count(), 0);
  await checkPage(acmeAdmin, 'emergency-not-care-org-admin', failures);

  // A clinician of the manufacturer: told plainly, no (even disabled) emergency button.
  const ivy = await signIn(acmeDoctor, 'My patients');
  const ivyPanel = ivy.getByRole('heading', { level: 2, name: 'Emergency access' }).locator('..');
  await ivyPanel.getByText('only for clinicians of hospitals, clinics and labs').waitFor();
  await ivyPanel.getByText('Acme Pharmaceuticals is not one').waitFor();
  assert.equal(await ivy.getByRole('button', { name: 'Emergency access…' }).count(), 0);
  assert.equal(await ivy.getByRole('link', { name: 'Emergency access…' }).count(), 0);
  assert.equal(await ivy.getByText('Ask your organization’s administrator').count(), 0, 'not sent to an admin who cannot give it');
  await checkPage(ivy, 'emergency-not-care-org-clinician', failures);

  // The hospital's admin still has the form and the review; its clinician the (disabled) button.
  const hospitalAdmin = await signIn(await keyFile(hospital), 'Staff of General Hospital');
  await hospitalAdmin.getByLabel('The clinician’s sharing code').waitFor();
  await hospitalAdmin.getByRole('heading', { name: 'Emergency access by our staff' }).waitFor();
  assert.equal(await hospitalAdmin.getByText('Only hospitals, clinics and labs can give it').count(), 0);
  const hal = await signIn(hospitalDoctor, 'My patients');
  const halButton = hal.getByRole('button', { name: 'Emergency access…' });
  await halButton.waitFor();
  assert.ok(await halButton.isDisabled(), 'disabled until the hospital gives the privilege');
  await hal.getByText('Your organization has not given you emergency access.').waitFor();

  assert.deepEqual(failures, []);
});
