#!/usr/bin/env node
// Finds every packages/*/src/**/*.test.ts and runs them with Node's test runner.
// Node 20 does not expand globs and passes silently with no files, so the list is
// built here and an empty list, or a missing file named on the command line, fails.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const requested = process.argv.slice(2);
let files;
if (requested.length > 0) {
  const missing = requested.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    console.error(`test files not found: ${missing.join(', ')}`);
    process.exit(2);
  }
  files = requested;
} else {
  files = readdirSync(join(root, 'packages'))
    .map((p) => join(root, 'packages', p, 'src'))
    .filter((d) => existsSync(d))
    .flatMap(findTests)
    .map((f) => relative(process.cwd(), f))
    .sort();
}
if (files.length === 0) {
  console.error('no test files found under packages/*/src');
  process.exit(2);
}
// The CometBFT engine's tests run the real binary (docs/cometbft.md): build or find the
// pinned one first, so a fresh clone's `npm test` needs nothing installed by hand. If that
// fails (no Go), those tests fail and say how to install it; they are never skipped.
if (process.env.MEDLEDGER_COMETBFT === undefined && files.some((f) => /cometbft/.test(f))) {
  const install = spawnSync('bash', [join(root, 'scripts', 'install-cometbft.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (install.status === 0) process.env.MEDLEDGER_COMETBFT = String(install.stdout).trim();
  else console.error('scripts/install-cometbft.sh failed; the CometBFT tests will fail (docs/cometbft.md)');
}
// Likewise the API fuzz test's schemathesis (PyPI, pinned, into a cached venv).
if (process.env.MEDLEDGER_SCHEMATHESIS === undefined && files.some((f) => /openapi-fuzz/.test(f))) {
  const install = spawnSync('bash', [join(root, 'scripts', 'install-schemathesis.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (install.status === 0) process.env.MEDLEDGER_SCHEMATHESIS = String(install.stdout).trim().split('\n').pop();
  else console.error('scripts/install-schemathesis.sh failed; the API fuzz test will fail (docs/api.md)');
}
console.log(`running ${files.length} test files`);
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
