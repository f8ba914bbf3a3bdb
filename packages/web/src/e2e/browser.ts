// Test helpers for driving the built UI in Debian's chromium with playwright-core, checking
// pages with axe-core and saving screenshots under artifacts/screenshots/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.MEDLEDGER_CHROMIUM ?? '/usr/bin/chromium';
export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
export const SCREENSHOTS = join(REPO, 'artifacts', 'screenshots');
const WEB_DIST = fileURLToPath(new URL('../../dist/index.html', import.meta.url));

/** Fail (never skip) when the browser or the built UI is missing, saying how to fix it. */
export function requireBrowserAndBuild(): void {
  assert.ok(existsSync(CHROMIUM), `chromium is not installed at ${CHROMIUM}: run apt-get install -y chromium`);
  assert.ok(existsSync(WEB_DIST), `the web UI is not built (${WEB_DIST} is missing): run npm run build`);
}

/** A fresh browser profile (own storage) in headless chromium. */
export async function openBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'medledger-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1100, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context.setDefaultTimeout(60_000);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const axeSource: string = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/** Run axe-core (WCAG 2 A/AA rules) on the page; return serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = (await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return result.violations;
  })) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Save a full-page screenshot as artifacts/screenshots/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Check a main page: no serious or critical axe violations, and a screenshot saved. */
export async function checkPage(page: Page, name: string, failures: string[]): Promise<void> {
  await screenshot(page, name);
  for (const v of await seriousViolations(page)) {
    failures.push(`${name}: ${v.impact} ${v.id} — ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
  }
}
