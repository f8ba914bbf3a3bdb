// The governance page in a real browser against a real node: an organization's admin proposes
// a parameter change and votes yes; one vote of three members is not enough; once two more
// members vote (through the SDK), the page shows the proposal passed. Checked with axe-core.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { govVote, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { initNetwork, loadHome, MedLedgerNode, type OrgKeyFile, readOrgKey } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE } from '@medledger/node/testing';
import type { Page } from 'playwright-core';
import { checkPage, openBrowser, requireBrowserAndBuild } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-web-gov-'));
let node: MedLedgerNode | undefined;
let url = '';
let home = '';
let orgs: OrgKeyFile[] = [];
const closers: Array<() => Promise<void>> = [];

before(async () => {
  requireBrowserAndBuild();
  const init = initNetwork({
    validators: 1,
    out: dir,
    chainId: 'web-gov',
    ports: await freePorts(1),
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Riverside Clinic', kind: 'clinic' },
      { name: 'Northside Lab', kind: 'lab' },
    ],
  });
  home = init.homes[0] as string;
  orgs = init.orgKeys;
  const loaded = loadHome(home);
  loaded.config.consensus.blockIntervalMs = 50;
  node = new MedLedgerNode(loaded, { logger: () => {} });
  url = await node.start();
});
after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function go(page: Page, path: string): Promise<void> {
  await page.evaluate((to) => {
    history.pushState(null, '', to);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
}

test('an admin proposes and votes on the governance page; the page shows it passed once enough members voted', {
  timeout: 300_000,
}, async () => {
  const failures: string[] = [];
  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));

  await page.goto(`${url}/sign-in`);
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(join(home, (orgs[0] as OrgKeyFile).file));
  await page.getByLabel('Passphrase').fill(TEST_PASSPHRASE);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: /^Staff of / }).waitFor();

  await page.getByRole('link', { name: 'Governance' }).click();
  await page.getByRole('heading', { level: 1, name: 'Governance' }).waitFor();
  await page.getByText('No proposals yet.').waitFor();
  await page.getByLabel('Parameter', { exact: true }).selectOption('emergencyMaxDurationMs');
  await page.getByLabel('New value', { exact: true }).fill('abc');
  await page.getByRole('button', { name: 'Propose' }).click();
  await page.getByText('Enter the new value as a whole number').waitFor();
  await page.getByLabel('New value', { exact: true }).fill('1800000');
  await page.getByRole('button', { name: 'Propose' }).click();
  await page.getByText('Proposal #1 is open.').waitFor();
  const card = page.getByRole('article', { name: /#1: Set “Longest emergency access window \(ms\)” to 1,800,000/ });
  await card.getByText('Open for votes').waitFor();
  await card.getByText(/checked against the ledger at block \d+/).waitFor();
  await card.getByRole('button', { name: 'Vote yes on #1' }).click();
  await card.getByText('Your organization voted yes.').waitFor();
  await card.getByText(/1 yes and 0 no of 3 members; it needs 3 yes/).waitFor();
  await checkPage(page, 'governance-open', failures);

  const genesis = TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));
  for (const o of orgs.slice(1)) {
    const sdk = new MedLedgerClient({ url, keys: readOrgKey(home, { file: o.file }), genesis });
    await govVote(sdk, 1, true);
  }
  await go(page, '/organization');
  await go(page, '/governance');
  const passed = page.getByRole('article', { name: /#1:/ });
  await passed.getByText('Passed', { exact: true }).waitFor();
  await passed.getByText(/3 yes and 0 no of 3 members/).waitFor();
  assert.equal(await passed.getByRole('button', { name: /Vote/ }).count(), 0);
  await checkPage(page, 'governance-passed', failures);
  assert.deepEqual(problems, []);
  assert.deepEqual(failures, []);
});
