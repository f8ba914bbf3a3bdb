// The explorer's "Verify the chain" in chromium against a chain CometBFT made (docs/cometbft.md
// "How clients verify CometBFT blocks"): four validators on the real CometBFT binary, each with
// the MedLedger API serving the web app. With the network's genesis file every block checks
// out in the browser; with a genesis that names the embedded engine instead (the same chain id
// and validators, as a chain whose genesis validators were since replaced would have them), the
// server's CometBFT blocks fail, since the engine is fixed by genesis, never by the answer.
// Needs scripts/install-cometbft.sh and the built web app; fails naming either when missing.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CometPorts, HOME_FILES, initCometHomes, initNetwork, startCometNode } from '@medledger/node';
import { freePort, freePorts, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { checkPage, openBrowser, requireBrowserAndBuild } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-web-comet-'));
type Running = Awaited<ReturnType<typeof startCometNode>>;
const nodes: Running[] = [];
const closers: Array<() => Promise<void>> = [];
let genesisFile = '';

before(async () => {
  requireBrowserAndBuild();
  const init = initNetwork({ validators: 4, out: dir, chainId: 'web-comet', ports: await freePorts(4), engine: 'cometbft' });
  const ports: CometPorts[] = [];
  for (const home of init.homes) {
    const config = JSON.parse(readFileSync(join(home, HOME_FILES.config), 'utf8')) as { p2p: { port: number } };
    ports.push({ p2p: config.p2p.port, rpc: await freePort(), abci: await freePort(), vault: await freePort() });
  }
  initCometHomes(init.homes, init.genesis, { passphrase: TEST_PASSPHRASE, ports });
  for (const home of init.homes) nodes.push(await startCometNode(home, TEST_PASSPHRASE, { log: () => {}, node: { logger: () => {} } }));
  genesisFile = join(dir, HOME_FILES.genesis);
});

after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  for (const n of nodes) await n.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the explorer verifies a CometBFT chain in the browser, and refuses its blocks under a genesis that names the embedded engine', async () => {
  const url = nodes[0]?.apiUrl as string;
  await waitFor(() => ((nodes[0]?.node?.chain.height ?? 0) >= 4 ? true : undefined), 'four blocks', 120_000);
  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  const failures: string[] = [];

  await page.goto(`${url}/explorer`);
  await page.getByRole('heading', { level: 1, name: 'Network explorer' }).waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Show technical options' }).click();
  await page.getByLabel('The network’s genesis file (optional)').setInputFiles(genesisFile);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await page
    .getByTestId('verify-result')
    .getByText(/blocks check out/)
    .waitFor({ timeout: 180_000 });
  await checkPage(page, 'explorer-cometbft-verified', failures);

  // The same chain id and validators, but a genesis naming the embedded engine: a server that
  // answers with CometBFT blocks is not believed, whatever keys signed them.
  const { engine, ...embedded } = JSON.parse(readFileSync(genesisFile, 'utf8')) as Record<string, unknown>;
  assert.equal(engine, 'cometbft');
  const embeddedFile = join(dir, 'embedded-genesis.json');
  writeFileSync(embeddedFile, JSON.stringify(embedded));
  await page.getByLabel('The network’s genesis file (optional)').setInputFiles(embeddedFile);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  const refused = page.getByTestId('verify-result');
  await refused.getByText(/blocks failed/).waitFor({ timeout: 180_000 });
  await refused
    .getByText(/CometBFT block, but the genesis says this network's blocks are MedLedger's/)
    .first()
    .waitFor();
  assert.equal(await page.getByText(/check out/).count(), 0, 'no green result for the wrong engine');
  await checkPage(page, 'explorer-cometbft-wrong-engine', failures);

  assert.deepEqual(failures, [], failures.join('\n'));
  assert.deepEqual(problems, [], problems.join('\n'));
});
