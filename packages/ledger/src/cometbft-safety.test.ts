// The browser-safe ledger entries (`@medledger/ledger/cometbft`, `/epcis-hash`) run in browsers too:
// the SDK and the web app verify CometBFT headers and recompute EPCIS event ids with them. Nothing in
// their module graph may import a Node built-in or use Buffer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = new URL('../src/', import.meta.url);
const IMPORT_RE = /^\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;
const BROWSER_SAFE = /^(@medledger\/crypto\/browser|cosmjs-types\/.+)$/;

/** The files `entry` reaches, each checked to import only browser-safe modules and never Buffer. */
function walk(entry: string): string[] {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(fileURLToPath(new URL(file, SRC)), 'utf8');
    assert.ok(!/\bBuffer\b/.test(source.replace(/\/\/.*$/gm, '')), `${file} uses Buffer`);
    for (const m of source.matchAll(IMPORT_RE)) {
      const dep = (m[1] ?? m[2]) as string;
      if (dep.startsWith('./')) pending.push(dep.replace(/\.js$/, '.ts'));
      else assert.ok(BROWSER_SAFE.test(dep) && !builtinModules.includes(dep), `${file} imports ${dep}`);
    }
  }
  return [...seen].sort();
}

test('cometbft.ts imports only browser-safe modules and never Buffer', () => {
  assert.deepEqual(walk('./cometbft.ts'), ['./cometbft.ts', './errors.ts']);
});

test('epcis-hash.ts (the SDK recomputes EPCIS event ids with it) imports only browser-safe modules and never Buffer', () => {
  assert.deepEqual(walk('./epcis-hash.ts'), ['./epcis-hash.ts']);
});
