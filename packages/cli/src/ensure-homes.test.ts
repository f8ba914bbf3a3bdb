// `start`'s data directory keeps the engine its genesis names (docs/cometbft.md "The engine is
// fixed by genesis"): a new one is written for the engine asked, an existing one reports its
// genesis's engine, and one made for CometBFT before the genesis named the engine is refused
// rather than run as an embedded chain.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Genesis } from '@medledger/ledger';
import { COMET_HOME_DIR, HOME_FILES, initNetwork } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { CliError } from './exit-codes.js';
import { ensureHomes } from './network.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;
const dir = mkdtempSync(join(tmpdir(), 'medledger-ensure-homes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('an existing data directory runs the engine its genesis names; a CometBFT one made before genesis named engines is refused', () => {
  const comet = join(dir, 'comet');
  const made = ensureHomes(comet, 1, 27100, undefined, 'cometbft');
  assert.equal(made.created, true);
  assert.equal((JSON.parse(readFileSync(join(comet, HOME_FILES.genesis), 'utf8')) as Genesis).engine, 'cometbft');
  assert.equal(ensureHomes(comet, 1, 27100).engine, 'cometbft', 'the genesis says cometbft, whatever is asked');

  const embedded = join(dir, 'embedded');
  initNetwork({ validators: 1, out: embedded });
  assert.equal(ensureHomes(embedded, 1, 27200).engine, 'embedded');

  // An older CometBFT data directory: a CometBFT home beside a genesis that names no engine.
  mkdirSync(join(embedded, 'node0', COMET_HOME_DIR));
  assert.throws(
    () => ensureHomes(embedded, 1, 27200),
    (e: Error) => e instanceof CliError && /before the genesis named its engine/.test(e.message),
  );
});
