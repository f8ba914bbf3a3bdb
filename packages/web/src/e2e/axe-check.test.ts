// The accessibility check itself: axe-core in chromium finds a serious violation on a page
// made to have one, so a clean result on the app's pages means something.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openBrowser, requireBrowserAndBuild, seriousViolations } from './browser.js';

test('the axe-core check reports an unlabeled input and an image without text', { timeout: 120_000 }, async () => {
  requireBrowserAndBuild();
  const browser = await openBrowser();
  try {
    const page = await browser.context.newPage();
    await page.setContent(
      '<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>t</h1><input type="text"><img src="data:,"></main></body></html>',
    );
    const ids = (await seriousViolations(page)).map((v) => v.id).sort();
    assert.ok(ids.includes('label'), `expected a label violation, got ${ids.join(', ')}`);
    assert.ok(ids.includes('image-alt'), `expected an image-alt violation, got ${ids.join(', ')}`);
  } finally {
    await browser.close();
  }
});
