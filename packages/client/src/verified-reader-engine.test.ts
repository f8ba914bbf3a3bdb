// The verified reader checks proven state only as the engine the trusted genesis names
// (docs/cometbft.md "The engine is fixed by genesis"): an answer in the other engine's
// format is refused with ENGINE_MISMATCH before any of its headers or commits is looked at,
// so a node cannot choose the rules its forgery passes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeChain } from '@medledger/ledger/testing';
import type { ClientError } from './errors.js';
import { TrustedGenesis } from './trust.js';
import { VerifiedReader } from './verified-reader.js';

const { genesis } = makeChain({ blocks: 1 });
const roots = { stateRoot: 'aa'.repeat(32), resultsRoot: 'bb'.repeat(32), entries: [] };
const isMismatch = (e: ClientError) => {
  assert.equal(e.code, 'ENGINE_MISMATCH', e.message);
  return true;
};

test('a CometBFT-shaped state answer is refused for a genesis that names the embedded engine (or none)', async () => {
  const answer = { ...roots, engine: 'cometbft', height: 1, cometHeader: {}, next: { header: {}, commit: {} } };
  for (const doc of [genesis, { ...genesis, engine: 'embedded' }]) {
    const reader = new VerifiedReader(TrustedGenesis.fromDocument(doc), { post: async () => answer });
    await assert.rejects(reader.read(['identity/x']), isMismatch);
  }
});

test('a MedLedger-shaped state answer is refused for a genesis that names CometBFT', async () => {
  const answer = { ...roots, height: 1, header: { chainId: genesis.chainId, height: 1 }, commit: {} };
  const reader = new VerifiedReader(TrustedGenesis.fromDocument({ ...genesis, engine: 'cometbft' }), { post: async () => answer });
  await assert.rejects(reader.read(['identity/x']), isMismatch);
});

test('a genesis naming an unknown engine is not trusted at all', () => {
  assert.throws(
    () => TrustedGenesis.fromDocument({ ...genesis, engine: 'tendermint' }),
    (e: ClientError) => e.code === 'MALFORMED_GENESIS',
  );
});
