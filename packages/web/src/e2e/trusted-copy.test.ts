// A copy of the built web app the user trusts (docs/web.md "Using a copy you trust"), opened
// in chromium from a file and from a static host on another origin, pointed at a real node:
// the node is chosen on first run and remembered, a patient registers, a record is read. A
// page on yet another origin gets nothing from the node without the user's token.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createKeystore, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { freePort, startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import type { Page } from 'playwright-core';
import { openBrowser, requireBrowserAndBuild } from './browser.js';
import { startStaticHost } from './static-host.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const PASS = 'a long patient passphrase';
const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
let net: TestNode;
let trusted: TrustedGenesis;
let recoveryFile: string;
const work = mkdtempSync(join(tmpdir(), 'medledger-web-copy-'));
// The copy lives in a folder of the user's, not where it was built.
const copyDir = join(work, 'my-medledger-copy');
const closers: Array<() => Promise<void>> = [];

before(async () => {
  requireBrowserAndBuild();
  cpSync(DIST, copyDir, { recursive: true });
  net = await startSoloNode();
  trusted = TrustedGenesis.fromDocument(net.node.chain.genesis);
  // A patient with one record, made with the SDK; the browser signs in with its recovery file.
  const keys = generateKeyBundle();
  const sdk = new MedLedgerClient({ url: net.url, keys, genesis: trusted, pollIntervalMs: 20 });
  await sdk.registerPatient();
  await sdk.writeRecord({
    patient: sdk.id,
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, valueQuantity: { value: 61, unit: '/min' } },
    category: 'vital-signs',
  });
  recoveryFile = join(work, 'recovery.json');
  writeFileSync(recoveryFile, JSON.stringify(await createKeystore(keys, PASS, { label: 'Robin' })));
});
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await net?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** Page errors and refused loads (CORS, CSP, a module script on file://) fail the test. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[14]/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return errors;
}

/** The refused attempt at an address where nothing listens is expected. */
const notTheDeadAddress = (e: string) => !e.includes('ERR_CONNECTION_REFUSED');

/** First run of a copy: it asks for the node, checks it, remembers it. */
async function chooseNode(page: Page, nodeUrl: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: 'Choose the MedLedger node to use' }).waitFor();
  // An address where no node answers is refused in words, and nothing is remembered.
  await page.getByLabel('Node address').fill(`http://127.0.0.1:${await freePort()}`);
  await page.getByRole('button', { name: 'Use this node' }).click();
  await page.getByText('No MedLedger node answered at that address.').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('medledger.nodeUrl')), null);
  await page.getByLabel('Node address').fill(nodeUrl);
  await page.getByRole('button', { name: 'Use this node' }).click();
  await page.getByRole('heading', { level: 1, name: /health records/ }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('medledger.nodeUrl')), nodeUrl);
}

/** A new patient registers through the copy; then the SDK's patient signs in and reads the record. */
async function registerAndRead(page: Page, label: string, keepRecoveryAccount = true): Promise<void> {
  await page.getByRole('link', { name: 'Create my account' }).click();
  await page.getByText(`You are joining the network ${trusted.chainId}`).waitFor();
  await page.getByLabel('What should we call you?').fill(label);
  await page.getByLabel('Choose a passphrase').fill(PASS);
  await page.getByLabel('Type the passphrase again').fill(PASS);
  await page.getByRole('button', { name: 'Create my account' }).click();
  await page.getByRole('heading', { name: 'Your account is ready' }).waitFor({ timeout: 120_000 });
  await page.getByRole('link', { name: 'Go to my records' }).click();
  await page.getByText('You have no records yet').waitFor();
  assert.match(page.url(), /#\/records$/, 'a copy keeps the page in the fragment');
  // The registration is on the chain the node serves.
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('medledger.accounts') ?? '[]'));
  const id: string = saved.find((a: { label: string }) => a.label === label)?.id;
  const identity = (await (await fetch(`${net.url}/v1/identities/${id}`)).json()) as { role?: string };
  assert.equal(identity.role, 'patient');

  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await page.getByLabel('Use my recovery file (for a new device)').check();
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(recoveryFile);
  // A recovery file names no network: the page says which one (and through which node) this sign-in confirms.
  await page.getByText(`You are signing in to the network ${trusted.chainId} through the node at ${net.url}.`).waitFor();
  // Kept on the device unless unticked (a shared computer): then nothing of it stays there.
  assert.equal(await page.getByLabel('Keep this account on this device').isChecked(), true);
  if (!keepRecoveryAccount) await page.getByLabel('Keep this account on this device').uncheck();
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Pulse' }).first().click();
  const labels = await page.evaluate(() =>
    (JSON.parse(localStorage.getItem('medledger.accounts') ?? '[]') as Array<{ label: string }>).map((a) => a.label),
  );
  assert.deepEqual(labels, keepRecoveryAccount ? [label, 'Robin'] : [label]);
  await page.getByText(/61/).first().waitFor();
  assert.match(page.url(), /#\/records\/[0-9a-f]{32}$/);
  // A reload stays on the record's page (the fragment is the route), and signed in: the
  // session is kept for the tab, encrypted under a non-extractable key (issue 17 item 3).
  await page.reload();
  await page.getByText(/61/).first().waitFor({ timeout: 60_000 });
  assert.match(page.url(), /#\/records\/[0-9a-f]{32}$/);
  assert.equal(await page.getByRole('heading', { level: 1, name: 'Please sign in' }).count(), 0);
}

/**
 * Script that got into a copy's page (stored XSS through any field it renders) does not run:
 * the copy carries its own Content-Security-Policy, whatever host serves it. An inline
 * <script>, an event-handler attribute and a javascript: link are each refused.
 */
async function injectedScriptDoesNotRun(page: Page): Promise<void> {
  const ran = await page.evaluate(async () => {
    const flags = window as unknown as Record<string, unknown>;
    document.body.insertAdjacentHTML('beforeend', '<img alt="" src="no-such-image.png" onerror="window.injectedHandler = true">');
    const script = document.createElement('script');
    script.textContent = 'window.injectedScript = true';
    document.body.append(script);
    const link = document.createElement('a');
    link.href = 'javascript:window.injectedLink = true';
    document.body.append(link);
    link.click();
    await new Promise((resolve) => setTimeout(resolve, 500));
    return [flags.injectedHandler, flags.injectedScript, flags.injectedLink].map((f) => f === true);
  });
  assert.deepEqual(ran, [false, false, false], 'injected handler, inline script, javascript: link');
}

/**
 * Signing in ends by leaving the sign-in page. Until then a session restored on load may
 * already show the menu, and a click on it would be undone when the sign-in completes.
 */
async function leftSignIn(page: Page): Promise<void> {
  await page.waitForURL((u) => !u.pathname.endsWith('/sign-in') && !u.hash.endsWith('/sign-in'), { timeout: 60_000 });
}

test('a copy opened from a file, pointed at a node: first-run node choice, registration, a record read', { timeout: 300_000 }, async () => {
  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  const errors = watchErrors(page);
  await page.goto(pathToFileURL(join(copyDir, 'index.html')).href);
  await chooseNode(page, net.url);
  await registerAndRead(page, 'Kim', false);
  assert.deepEqual(errors.filter(notTheDeadAddress), []);
  await injectedScriptDoesNotRun(page);
});

test('a copy on a static host of another origin: the same, and the node is changed on the account page', { timeout: 300_000 }, async () => {
  const host = await startStaticHost(copyDir);
  closers.push(host.close);
  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${host.url}/`);
  await chooseNode(page, net.url);
  await registerAndRead(page, 'Lee');

  // The account page names the node and changes it (here: the same node by another address);
  // the choice is remembered across the reload, and the saved account opens there.
  const other = net.url.replace('127.0.0.1', 'localhost');
  await page.goto(`${host.url}/#/sign-in`);
  await page.getByLabel('Robin (saved on this device)').check();
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await leftSignIn(page);
  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByText(`This copy of the app talks to the node at ${net.url}`).waitFor();
  await page.getByLabel('Node address').fill('not a web address at all');
  await page.getByRole('button', { name: 'Change node' }).click();
  await page.getByText('That is not a web address.').waitFor();
  await page.getByLabel('Node address').fill(host.url); // a web server, but no MedLedger node
  await page.getByRole('button', { name: 'Change node' }).click();
  await page.getByText('No MedLedger node answered at that address.').waitFor();
  await page.getByLabel('Node address').fill(other);
  await page.getByRole('button', { name: 'Change node' }).click();
  await page.getByRole('heading', { level: 1, name: /health records/ }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('medledger.nodeUrl')), other);
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await page.getByLabel('Robin (saved on this device)').check();
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Pulse' }).first().waitFor();
  assert.deepEqual(
    errors.filter((e) => notTheDeadAddress(e) && !e.includes(`${host.url}/v1/`)),
    [],
  );
  await injectedScriptDoesNotRun(page);
});

test('a page on another origin cannot use the signed-in user: no token, no credentials, only 401s', { timeout: 120_000 }, async () => {
  const evil = await startStaticHost(work);
  closers.push(evil.close);
  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  writeFileSync(join(work, 'evil.html'), '<!doctype html><title>Another website</title><p>Any page on the web.</p>');
  await page.goto(`${evil.url}/evil.html`);
  const seen = await page.evaluate(async (node) => {
    const plain = await fetch(`${node}/v1/me/grants`);
    let credentialed = 'answered';
    try {
      await fetch(`${node}/v1/me/grants`, { credentials: 'include' });
    } catch (err) {
      credentialed = `refused: ${(err as Error).name}`;
    }
    return { status: plain.status, code: ((await plain.json()) as { error: { code: string } }).error.code, credentialed };
  }, net.url);
  // The node answers what it answers anyone without a token; the browser will not even hand
  // a credentialed answer to the page, since the node never allows credentials.
  assert.deepEqual(seen, { status: 401, code: 'UNAUTHENTICATED', credentialed: 'refused: TypeError' });
});

test('a page on another origin that frames a copy (clickjacking) gets a refusal, not the app', { timeout: 120_000 }, async () => {
  const host = await startStaticHost(copyDir);
  closers.push(host.close);
  const evil = await startStaticHost(work);
  closers.push(evil.close);
  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  writeFileSync(
    join(work, 'framing.html'),
    `<!doctype html><title>Win a prize</title><iframe src="${host.url}/#/sign-in" width="800" height="600"></iframe>`,
  );
  await page.goto(`${evil.url}/framing.html`);
  const frame = page.frameLocator('iframe');
  await frame.getByText('MedLedger does not run inside another page.').waitFor();
  assert.equal(await frame.getByRole('button').count(), 0, 'no control of the app inside the frame');
  assert.equal(await frame.getByRole('link').count(), 0);
});

test('served by the node, the same build routes by path: a deep link loads (relative assets) and names its node', {
  timeout: 120_000,
}, async () => {
  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${net.url}/explorer/blocks/1`);
  await page.getByRole('heading', { level: 1, name: 'Block 1' }).waitFor();
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  assert.equal(new URL(page.url()).pathname, '/sign-in', 'plain paths, no fragment');
  await page.getByLabel('Use my recovery file (for a new device)').check();
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(recoveryFile);
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await leftSignIn(page);
  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByText(`This app was loaded from the node at ${net.url} and talks only to it.`).waitFor();
  assert.equal(await page.getByLabel('Node address').count(), 0, 'a node-served page does not switch nodes');
  assert.deepEqual(errors, []);
});
