// The explorer's in-browser checks: a valid chain passes; a tampered block, a broken link,
// a commit short of 2/3 or signed by a stranger fails; an inclusion proof is checked.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generateSigningKeyPair, toHex } from '@medledger/crypto';
import { blockHash, leafHash, type SignedTx, txBytes, txHash, txInclusionProof } from '@medledger/ledger';
import { makeChain, signCommit } from '@medledger/ledger/testing';
import { checkBlock, checkInclusion, parseStoredBlock, type StoredBlock } from './verify.js';

function stored(fixture: ReturnType<typeof makeChain>): StoredBlock[] {
  return fixture.blocks.map(({ block, commit }) => ({
    hash: blockHash(block.header),
    block,
    commit,
    leaves: block.txs.map((tx) => toHex(leafHash(txBytes(tx)))),
  }));
}

/** The block as an anonymous visitor gets it: no transactions, their leaf hashes only. */
function withheld(b: StoredBlock): StoredBlock {
  return { hash: b.hash, block: { header: b.block.header, lastCommit: b.block.lastCommit }, commit: b.commit, leaves: b.leaves };
}

test('every block of a valid chain checks out, linked to the one before', () => {
  const f = makeChain({ blocks: 4 });
  const blocks = stored(f);
  blocks.forEach((b, i) => {
    const r = checkBlock(f.genesis.chainId, f.genesis.validators, b, blocks[i - 1]);
    assert.equal(r.ok, true, r.problem);
    assert.deepEqual(r.signers, ['v0', 'v1', 'v2', 'v3']);
  });
});

test('a block whose transactions were changed fails, and so does one that does not link', () => {
  const f = makeChain({ blocks: 3 });
  const [b1, b2, b3] = stored(f) as [StoredBlock, StoredBlock, StoredBlock];
  const tampered: StoredBlock = { ...b2, block: { ...b2.block, txs: (b2.block.txs ?? []).slice(1) } };
  assert.match(checkBlock(f.genesis.chainId, f.genesis.validators, tampered).problem ?? '', /transactions do not match/);
  assert.match(checkBlock(f.genesis.chainId, f.genesis.validators, b3, b1).problem ?? '', /does not link/);
  const renamed: StoredBlock = { ...b2, hash: b1.hash };
  assert.match(checkBlock(f.genesis.chainId, f.genesis.validators, renamed).problem ?? '', /fingerprint/);
});

test('a commit with only 2 of 4 signatures, or one from a non-validator, fails', () => {
  const f = makeChain({ blocks: 1 });
  const [b] = stored(f) as [StoredBlock];
  const half = signCommit(f.genesis.chainId, 1, b.hash, f.validatorKeys.slice(0, 2));
  assert.equal(checkBlock(f.genesis.chainId, f.genesis.validators, { ...b, commit: half }).ok, false);
  const outsiders = signCommit(f.genesis.chainId, 1, b.hash, [generateSigningKeyPair(), ...f.validatorKeys.slice(0, 3)]);
  assert.equal(checkBlock(f.genesis.chainId, f.genesis.validators, { ...b, commit: outsiders }).ok, false);
  const three = signCommit(f.genesis.chainId, 1, b.hash, f.validatorKeys.slice(0, 3));
  assert.equal(checkBlock(f.genesis.chainId, f.genesis.validators, { ...b, commit: three }).ok, true);
  assert.equal(checkBlock('another-chain', f.genesis.validators, b).ok, false);
});

test('an inclusion proof is checked against the block root and its commit', () => {
  const f = makeChain({ blocks: 1, txsPerBlock: 5 });
  const [b] = stored(f) as [StoredBlock];
  const tx = (b.block.txs ?? [])[3] as SignedTx;
  const proof = { leafIndex: 3, treeSize: 5, root: b.block.header.txRoot, path: txInclusionProof(b.block.txs ?? [], 3) };
  assert.equal(checkInclusion(f.genesis.chainId, f.genesis.validators, b, tx, proof).ok, true);
  const wrongTx = (b.block.txs ?? [])[2] as SignedTx;
  assert.notEqual(txHash(wrongTx), txHash(tx));
  assert.equal(checkInclusion(f.genesis.chainId, f.genesis.validators, b, wrongTx, proof).ok, false);
  const forgedRoot = { ...proof, root: 'ab'.repeat(32) };
  assert.equal(checkInclusion(f.genesis.chainId, f.genesis.validators, b, tx, forgedRoot).ok, false);
});

test('an anonymous visitor’s blocks (no bodies) check their header chain, commits and leaf hashes, and say the bodies were not checked', () => {
  const f = makeChain({ blocks: 3, txsPerBlock: 3 });
  const blocks = stored(f).map(withheld);
  blocks.forEach((b, i) => {
    const r = checkBlock(f.genesis.chainId, f.genesis.validators, b, blocks[i - 1]);
    assert.equal(r.ok, true, r.problem);
    assert.equal(r.bodiesChecked, false);
  });
  const [, b2] = blocks as [StoredBlock, StoredBlock];
  const forged = { ...b2, leaves: b2.leaves.slice(1) };
  assert.match(checkBlock(f.genesis.chainId, f.genesis.validators, forged).problem ?? '', /entry fingerprints/);
  // The answer as the node sends it parses the same way.
  const parsed = parseStoredBlock(JSON.parse(JSON.stringify({ ...b2, bodies: 'withheld', own: [] })));
  assert.equal(parsed.block.txs, undefined);
  assert.equal(checkBlock(f.genesis.chainId, f.genesis.validators, parsed).ok, true);
  const full = stored(f)[1] as StoredBlock;
  assert.equal(checkBlock(f.genesis.chainId, f.genesis.validators, full).bodiesChecked, true);
});

// A block the real CometBFT made (packages/ledger/src/cometbft-vectors.json), as a node on
// CometBFT serves it (docs/cometbft.md "Blocks"): the explorer checks CometBFT's own header
// and commit, and refuses each forgery.
test('a CometBFT block checks out in the explorer; a rewritten data hash, a cut commit or another network fail', () => {
  const vec = JSON.parse(readFileSync(new URL('../../ledger/src/cometbft-vectors.json', import.meta.url), 'utf8')) as {
    genesis: { chainId: string; validators: Array<{ name: string; publicKey: string; power: number }> };
    signed: { header: Record<string, unknown>; commit: { block_id: { hash: string }; signatures: unknown[] } };
    txs: string[];
  };
  const bytes = vec.txs.map((b64) => new Uint8Array(Buffer.from(b64, 'base64')));
  const answer = (edit: (a: { block: { header: Record<string, unknown> }; commit: { signatures: unknown[] } }) => void = () => {}) => {
    const a = structuredClone({
      engine: 'cometbft',
      hash: vec.signed.commit.block_id.hash.toLowerCase(),
      block: { header: vec.signed.header, txs: bytes.map((b) => JSON.parse(Buffer.from(b).toString('utf8'))) },
      commit: vec.signed.commit,
      leaves: bytes.map((b) => createHash('sha256').update(b).digest('hex')),
    });
    edit(a);
    return parseStoredBlock(a, vec.genesis.validators, 'cometbft');
  };
  const { chainId, validators } = vec.genesis;
  // The vector's chain was made by CometBFT: its genesis names that engine.
  const check = (id: string, stored: StoredBlock) => checkBlock(id, validators, stored, undefined, 'cometbft');
  const good = check(chainId, answer());
  assert.equal(good.ok, true, good.problem);
  assert.equal(good.signers.length >= 3, true);
  assert.equal(good.bodiesChecked, true);
  assert.equal(
    check(
      chainId,
      answer((a) => (a.block.header.data_hash = 'AB'.repeat(32))),
    ).ok,
    false,
  );
  assert.equal(
    check(
      chainId,
      answer((a) => (a.commit.signatures = a.commit.signatures.slice(0, 2))),
    ).ok,
    false,
  );
  assert.equal(check('another-network', answer()).ok, false);
});

// The engine is fixed by genesis: for a chain whose genesis names the embedded engine (whose
// genesis validators may since have been replaced by vote), a server's CometBFT-shaped block
// signed by those keys fails the explorer's Verify instead of being checked under them.
test('the explorer refuses a CometBFT-shaped block for a chain whose genesis names the embedded engine, and the reverse', () => {
  const vec = JSON.parse(readFileSync(new URL('../../ledger/src/cometbft-vectors.json', import.meta.url), 'utf8')) as {
    genesis: { chainId: string; validators: Array<{ name: string; publicKey: string; power: number }> };
    signed: { header: Record<string, unknown>; commit: { block_id: { hash: string } } };
    txs: string[];
  };
  const bytes = vec.txs.map((b64) => new Uint8Array(Buffer.from(b64, 'base64')));
  const cometAnswer = {
    engine: 'cometbft',
    hash: vec.signed.commit.block_id.hash.toLowerCase(),
    block: { header: vec.signed.header, txs: bytes.map((b) => JSON.parse(Buffer.from(b).toString('utf8'))) },
    commit: vec.signed.commit,
    leaves: bytes.map((b) => createHash('sha256').update(b).digest('hex')),
  };
  assert.throws(
    () => parseStoredBlock(cometAnswer, vec.genesis.validators, 'embedded'),
    (e: Error & { code?: string }) => e.code === 'ENGINE_MISMATCH',
  );
  const parsed = parseStoredBlock(cometAnswer, vec.genesis.validators, 'cometbft');
  const refused = checkBlock(vec.genesis.chainId, vec.genesis.validators, parsed, undefined, 'embedded');
  assert.equal(refused.ok, false);
  assert.match(refused.problem ?? '', /genesis says/);

  const f = makeChain({ blocks: 1 });
  const b = f.blocks[0] as (typeof f.blocks)[number];
  const embeddedAnswer = { hash: blockHash(b.block.header), block: b.block, commit: b.commit };
  assert.throws(
    () => parseStoredBlock(embeddedAnswer, f.genesis.validators, 'cometbft'),
    (e: Error & { code?: string }) => e.code === 'ENGINE_MISMATCH',
  );
});
