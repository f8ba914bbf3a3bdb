// The web app against a lying node, in chromium: the page is served through a proxy in front
// of an honest node. The account keeps the network the user confirmed (chain name in plain
// words, fingerprint on request); a forged commit is refused on the records page, and a
// server that later presents another network is refused at sign-in.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKeystore, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { type Answer, editJson, type LyingProxy, pathOf, type SentRequest, startLyingProxy } from '@medledger/client/testing/lying-proxy';
import { generateKeyBundle } from '@medledger/crypto';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import { openBrowser, requireBrowserAndBuild } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const PASS = 'a long patient passphrase';
let net: TestNode;
let proxy: LyingProxy;
let trusted: TrustedGenesis;
const work = mkdtempSync(join(tmpdir(), 'medledger-web-lying-'));
const closers: Array<() => Promise<void>> = [];

before(async () => {
  requireBrowserAndBuild();
  net = await startSoloNode();
  trusted = TrustedGenesis.fromDocument(net.node.chain.genesis);
  proxy = await startLyingProxy(net.url);
});
after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  await proxy?.close();
  await net?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

test('the web app keeps the confirmed network and refuses forged commits and another chain', { timeout: 300_000 }, async () => {
  // A patient with one record, made with the SDK; the browser signs in with its recovery file.
  const keys = generateKeyBundle();
  const sdk = new MedLedgerClient({ url: net.url, keys, genesis: trusted, pollIntervalMs: 20 });
  await sdk.registerPatient();
  await sdk.writeRecord({
    patient: sdk.id,
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, valueQuantity: { value: 61, unit: '/min' } },
    category: 'vital-signs',
  });
  const recoveryFile = join(work, 'recovery.json');
  writeFileSync(recoveryFile, JSON.stringify(await createKeystore(keys, PASS, { label: 'Robin' })));

  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();

  // Account creation names the network in plain words, with the fingerprint on request.
  await page.goto(`${proxy.url}/start`);
  await page.getByText(`You are joining the network ${trusted.chainId}`).waitFor();
  await page.getByText('Show the network’s fingerprint').click();
  assert.equal(await page.getByTestId('network-fingerprint').textContent(), trusted.fingerprint());

  // Honest: sign in with the recovery file; the network is remembered with the account.
  await page.goto(`${proxy.url}/sign-in`);
  await page.getByLabel('Use my recovery file (for a new device)').check();
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(recoveryFile);
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/records$/);
  await page.getByText('Pulse').first().waitFor();
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('medledger.accounts') ?? '[]'));
  assert.deepEqual(saved[0].chain, { chainId: trusted.chainId, hash: trusted.hash });

  // A forged commit signature on the proofs: the records page refuses and says why.
  proxy.lie((r: SentRequest, a: Answer) =>
    r.method === 'POST' && pathOf(r) === '/v1/state/proofs' && a.status === 200
      ? editJson(a, (j) => {
          const sig: string = j.commit.signatures[0].sig;
          j.commit.signatures[0].sig = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
        })
      : undefined,
  );
  await page.getByRole('button', { name: 'Refresh' }).first().click();
  await page.getByText(/UNTRUSTED_COMMIT/).waitFor();
  proxy.lie(undefined);
  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();

  // Later the server presents another chain: signing in with the saved account stops, in plain words.
  const other = { ...net.node.chain.genesis, chainId: 'another-network' };
  proxy.lie((r: SentRequest) => (pathOf(r) === '/v1/genesis' ? { status: 200, body: JSON.stringify(other) } : undefined));
  const from = proxy.sent.length;
  await page.goto(`${proxy.url}/sign-in`);
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(/presents a different network than the one you confirmed/).waitFor();
  assert.ok(!page.url().endsWith('/records'), 'not signed in');
  const afterLie = proxy.sent.slice(from).map((r) => `${r.method} ${pathOf(r)}`);
  assert.ok(!afterLie.some((r) => r.startsWith('POST /v1/auth') || r.startsWith('POST /v1/txs')), afterLie.join(', '));
  proxy.lie(undefined);
});
