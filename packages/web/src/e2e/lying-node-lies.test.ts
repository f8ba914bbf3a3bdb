// The eight lies of issue 11 item 6, told to the web app in chromium: the pages are served
// through a proxy in front of an honest node, which rewrites, one case at a time, keys,
// recipient lists, validator keys, grants, block headers, commit signatures, proofs and
// heights (a claimed height and a stale one). For each, the page refuses with a message
// naming the failed check, and nothing is uploaded, submitted or sealed to the attacker.
// The lies are the ones the SDK and CLI tests tell (@medledger/client/testing/lying-proxy).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKeystore, MedLedgerClient, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import {
  addRecipient,
  alterProof,
  carrying,
  flipCommitSignature,
  isProofRequest,
  type LyingProxy,
  onProofs,
  type Rewrite,
  staleHeights,
  startLyingProxy,
  substituteValidatorKeys,
  swapEverywhere,
  widenGrants,
  writesIn,
} from '@medledger/client/testing/lying-proxy';
import { generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode, waitFor } from '@medledger/node/testing';
import type { Page } from 'playwright-core';
import { openBrowser, requireBrowserAndBuild } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const PASS = 'a long patient passphrase';
let net: TestNode;
let proxy: LyingProxy;
let trusted: TrustedGenesis;
const work = mkdtempSync(join(tmpdir(), 'medledger-web-lies-'));
const closers: Array<() => Promise<void>> = [];
const patientKeys = generateKeyBundle();
const clinicianKeys = generateKeyBundle();
const friendKeys = generateKeyBundle();
const attacker = generateKeyBundle();
const patientId = idFromPublicKey(patientKeys.signing.publicKey);
const friendId = idFromPublicKey(friendKeys.signing.publicKey);
const attackerId = idFromPublicKey(attacker.signing.publicKey);
const CLINICIAN = 'Dr Casey Novak';

const direct = (keys: KeyBundle) => new MedLedgerClient({ url: net.url, keys, genesis: trusted, pollIntervalMs: 20 });

async function recoveryFile(name: string, keys: KeyBundle, label: string): Promise<string> {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(await createKeystore(keys, PASS, { label })));
  return path;
}

before(async () => {
  requireBrowserAndBuild();
  net = await startSoloNode();
  trusted = TrustedGenesis.fromDocument(net.node.chain.genesis);
  proxy = await startLyingProxy(net.url);
  // The honest world, made directly at the node: a patient with a record, a clinician who may
  // add vital signs, a friend to share with, and the attacker, registered like anyone else.
  const patient = direct(patientKeys);
  await patient.registerPatient();
  await direct(friendKeys).registerPatient();
  await direct(attacker).registerPatient();
  const org = direct(readOrgKey(join(net.dir, 'node0')));
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({
      publicKey: clinicianKeys.signing.publicKey,
      encryptionKey: clinicianKeys.encryption.publicKey,
      role: 'clinician',
      name: CLINICIAN,
    }),
  );
  await patient.grant({
    grantee: idFromPublicKey(clinicianKeys.signing.publicKey),
    categories: ['vital-signs'],
    access: 'read-write',
    purpose: 'treatment',
  });
  await patient.writeRecord({
    patient: patientId,
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, valueQuantity: { value: 61, unit: '/min' } },
    category: 'vital-signs',
  });
});
after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  await proxy?.close();
  await net?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

async function signIn(page: Page, file: string, landing: RegExp): Promise<void> {
  await page.goto(`${proxy.url}/sign-in`);
  await page.getByLabel('Use my recovery file (for a new device)').check();
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(file);
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(landing);
}

/**
 * Tell `lie` while `act` runs on `page`; the page must then show a message naming `code`,
 * and meanwhile nothing was uploaded or submitted and no request carried the attacker's key.
 */
async function refuses(page: Page, code: string, lie: Rewrite, act: () => Promise<void>): Promise<void> {
  const from = proxy.sent.length;
  proxy.lie(lie);
  try {
    await act();
    await page
      .getByText(new RegExp(`\\(${code}\\)`))
      .first()
      .waitFor();
  } finally {
    proxy.lie(undefined);
  }
  const sent = proxy.sent.slice(from);
  assert.deepEqual(writesIn(sent), [], `${code}: nothing is uploaded or submitted on a lie`);
  assert.deepEqual(carrying(sent, attacker.encryption.publicKey), [], `${code}: nothing carries the attacker's key`);
}

test('the web app refuses each of the eight lies, names the failed check, and seals nothing to the attacker', {
  timeout: 600_000,
}, async () => {
  const browser = await openBrowser();
  closers.push(browser.close);
  const patientPage = await browser.context.newPage();
  const clinicianPage = await browser.context.newPage();
  const newcomerPage = await browser.context.newPage();
  await signIn(patientPage, await recoveryFile('patient.json', patientKeys, 'Robin'), /\/records$/);
  await patientPage.getByText('Pulse').first().waitFor();
  await signIn(clinicianPage, await recoveryFile('clinician.json', clinicianKeys, 'Casey'), /\/clinician$/);

  // Validator keys: a newcomer's emergency key would be split to the attacker's key instead.
  await newcomerPage.goto(`${proxy.url}/start`);
  await newcomerPage.getByLabel('What should we call you?').fill('Newcomer');
  await newcomerPage.getByLabel('Choose a passphrase').fill(PASS);
  await newcomerPage.getByLabel('Type the passphrase again').fill(PASS);
  await refuses(newcomerPage, 'GENESIS_MISMATCH', substituteValidatorKeys(attacker.encryption.publicKey), () =>
    newcomerPage.getByRole('button', { name: 'Create my account' }).click(),
  );
  assert.equal(await newcomerPage.getByRole('heading', { name: 'Your account is ready' }).count(), 0);

  // Keys: sharing with the friend, whose key the node swaps for the attacker's everywhere.
  await patientPage.getByRole('link', { name: 'Sharing' }).click();
  await patientPage.getByLabel('Their sharing code').first().fill(friendId);
  await patientPage.getByRole('button', { name: 'Look up' }).click();
  await patientPage.getByText('This code belongs to:').waitFor();
  await patientPage.getByLabel(/^Vital signs/).check();
  await refuses(patientPage, 'STATE_PROOF_INVALID', swapEverywhere(friendKeys.encryption.publicKey, attacker.encryption.publicKey), () =>
    patientPage.getByRole('button', { name: 'Share', exact: true }).click(),
  );
  assert.deepEqual(
    (await direct(patientKeys).grants(patientId)).map((g) => g.grantee).filter((g) => g === friendId || g === attackerId),
    [],
    'no grant was made',
  );

  // Recipient lists: the clinician adds a record and the node adds the attacker as a recipient.
  await clinicianPage.getByRole('link', { name: 'Name not shared' }).click();
  await clinicianPage.getByLabel('Systolic (mmHg)').fill('128');
  await clinicianPage.getByLabel('Diastolic (mmHg)').fill('82');
  await refuses(clinicianPage, 'FACT_NOT_PROVEN', addRecipient(attackerId, attacker.encryption.publicKey), () =>
    clinicianPage.getByRole('button', { name: 'Add record' }).click(),
  );

  // Grants: the patient's sharing list, widened by the node, is not shown.
  await patientPage.getByRole('link', { name: 'My records' }).click();
  await patientPage.getByText('Pulse').first().waitFor();
  await refuses(patientPage, 'FACT_NOT_PROVEN', widenGrants('laboratory'), () =>
    patientPage.getByRole('link', { name: 'Sharing' }).click(),
  );

  // The records list, refreshed under each lie about the proofs themselves.
  await patientPage.getByRole('link', { name: 'My records' }).click();
  await patientPage.getByText('Pulse').first().waitFor();
  const refresh = () => patientPage.getByRole('button', { name: 'Refresh' }).first().click();
  const honestAgain = async (code: string) => {
    await refresh();
    await patientPage
      .getByText(new RegExp(`\\(${code}\\)`))
      .first()
      .waitFor({ state: 'hidden' });
  };
  // Block headers.
  await refuses(
    patientPage,
    'HEADER_MISMATCH',
    onProofs((j) => {
      j.header.time += 1;
    }),
    refresh,
  );
  await honestAgain('HEADER_MISMATCH');
  // Commit signatures.
  await refuses(patientPage, 'UNTRUSTED_COMMIT', flipCommitSignature, refresh);
  await honestAgain('UNTRUSTED_COMMIT');
  // Proofs.
  await refuses(patientPage, 'STATE_PROOF_INVALID', alterProof, refresh);
  await honestAgain('STATE_PROOF_INVALID');
  // Heights: a claimed height that is not the header's.
  await refuses(
    patientPage,
    'HEADER_MISMATCH',
    onProofs((j) => {
      j.height += 5;
    }),
    refresh,
  );
  await honestAgain('HEADER_MISMATCH');

  // Heights, stale: keep an honest answer, let the chain move on and the page verify a newer
  // height (the sharing list shows only once proven), then serve the old answer again.
  const stale = staleHeights();
  const from = proxy.sent.length;
  proxy.lie(stale.record);
  await refresh();
  await waitFor(() => (stale.kept.size > 0 ? true : undefined), 'an honest proof answer to keep');
  proxy.lie(undefined);
  const keptHeight = Math.max(...[...stale.kept.values()].map((a) => JSON.parse(a.body).height as number));
  await direct(generateKeyBundle()).registerPatient(); // new blocks
  assert.ok(net.node.chain.height > keptHeight);
  await patientPage.getByRole('link', { name: 'Sharing' }).click();
  await patientPage.getByText(CLINICIAN).first().waitFor();
  assert.ok(proxy.sent.slice(from).some(isProofRequest));
  await patientPage.getByRole('link', { name: 'My records' }).click();
  await patientPage.getByText('Pulse').first().waitFor();
  await refuses(patientPage, 'STALE_HEIGHT', stale.replay, refresh);
});
