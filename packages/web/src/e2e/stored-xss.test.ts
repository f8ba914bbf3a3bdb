// Stored XSS: everything a patient, a clinician or another organization controls and the app
// renders — FHIR fields of decrypted records (titles, values, notes, the narrative text.div,
// attachment titles, data and URLs), personal details, the account's label — is shown as
// text (staff and organization names cannot hold markup: the chain allows letters, digits
// and .,'()- only). Checked in the DOM, not only by whether a script ran: the node's page would refuse
// inline script by its Content-Security-Policy anyway, so this catches markup that got in.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKeystore, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import type { Page } from 'playwright-core';
import { openBrowser, requireBrowserAndBuild } from './browser.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const PASS = 'a long patient passphrase';
const hostile = (tag: string) => `<img src="x-${tag}" onerror="xss='${tag}'"><script>xss='${tag}'</script>`;
const work = mkdtempSync(join(tmpdir(), 'medledger-web-xss-'));
let net: TestNode;
let recoveryFile: string;
const recordIds: string[] = [];
const closers: Array<() => Promise<void>> = [];

before(async () => {
  requireBrowserAndBuild();
  net = await startSoloNode();
  const genesis = TrustedGenesis.fromDocument(net.node.chain.genesis);
  const keys = generateKeyBundle();
  const patient = new MedLedgerClient({ url: net.url, keys, genesis, pollIntervalMs: 20 });
  await patient.registerPatient();
  const write = async (resource: object, category: string) =>
    recordIds.push((await patient.writeRecord({ patient: patient.id, resource: resource as never, category })).recordId);
  const narrative = {
    status: 'generated',
    div: `<div xmlns="http://www.w3.org/1999/xhtml">${hostile('div')}<a href="javascript:window.xss='a'">x</a></div>`,
  };
  await write(
    {
      resourceType: 'Observation',
      status: 'final',
      text: narrative,
      code: { text: hostile('obs') },
      valueString: hostile('value'),
      note: [{ text: hostile('note') }],
    },
    'vital-signs',
  );
  await write(
    { resourceType: 'Condition', text: narrative, code: { text: hostile('cond'), coding: [{ display: hostile('display') }] } },
    'problems',
  );
  await write(
    {
      resourceType: 'DocumentReference',
      status: 'current',
      description: hostile('desc'),
      content: [
        { attachment: { contentType: 'text/html', data: Buffer.from(hostile('data')).toString('base64') } },
        { attachment: { title: hostile('title'), url: "javascript:window.xss='url'" } },
      ],
    },
    'documents',
  );
  await write({ resourceType: 'Patient', name: [{ text: hostile('name') }], birthDate: '1980-01-01' }, 'demographics');
  recoveryFile = join(work, 'recovery.json');
  writeFileSync(recoveryFile, JSON.stringify(await createKeystore(keys, PASS, { label: hostile('label') })));
});
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await net?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** What of the hostile markup made it into the page as markup, or ran. */
async function injected(page: Page): Promise<Record<string, unknown>> {
  return page.evaluate(() => ({
    images: [...document.querySelectorAll('img')].map((i) => i.getAttribute('src')).filter((s) => s?.startsWith('x-')),
    inlineScripts: [...document.querySelectorAll('script')].filter((s) => !s.src).length,
    scriptLinks: [...document.querySelectorAll('[href]')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')).length,
    ran: (window as unknown as { xss?: string }).xss ?? null,
  }));
}

const CLEAN = { images: [], inlineScripts: 0, scriptLinks: 0, ran: null };

test('hostile record fields, names and labels are shown as text on every page that renders them', { timeout: 300_000 }, async () => {
  const browser = await openBrowser();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  await page.goto(`${net.url}/sign-in`);
  await page.getByLabel('Recovery file', { exact: true }).setInputFiles(recoveryFile);
  await page.getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/records$/, { timeout: 120_000 });
  // The markup is there as words (so the fields were rendered), not as elements.
  await page.getByText(hostile('obs')).first().waitFor();
  assert.deepEqual(await injected(page), CLEAN, 'timeline');
  const pages: Array<[string, string | RegExp]> = [
    ...recordIds.map((id): [string, RegExp] => [`/records/${id}`, /Check this record on the ledger/]),
    ['/records/summary', /Print this summary/],
    ['/sharing', /Who can see my records now/],
    ['/access-log', /Access log/],
    ['/notifications', /Notifications/],
    ['/account', /My account/],
  ];
  for (const [path, shows] of pages) {
    await page.goto(`${net.url}${path}`);
    await page.getByText(shows).first().waitFor({ timeout: 60_000 });
    await page.waitForLoadState('networkidle');
    // Open every "Show technical details" and "Show …" disclosure the page has.
    for (const more of await page.getByRole('button', { name: /^Show / }).all()) await more.click().catch(() => undefined);
    await page.waitForTimeout(300);
    assert.deepEqual(await injected(page), CLEAN, path);
  }
  await page.goto(`${net.url}/records/${recordIds[2]}`);
  await page.getByText(hostile('data')).first().waitFor({ timeout: 60_000 });
  assert.deepEqual(await injected(page), CLEAN, 'the document record');
  await page.goto(`${net.url}/account`);
  await page.getByText(hostile('label')).first().waitFor({ timeout: 60_000 });
  // The check itself sees markup that does get in; and the node's policy still stops it running.
  await page.evaluate((markup) => document.body.insertAdjacentHTML('beforeend', markup), hostile('probe'));
  await page.waitForTimeout(300);
  assert.deepEqual(await injected(page), { ...CLEAN, images: ['x-probe'], inlineScripts: 1 });
});
