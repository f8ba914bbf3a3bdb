// What a joining node checks before it believes a state snapshot (snapshot-check.ts): the
// block's commit against the validators, each chunk's shape and order, and the rebuilt
// state against the signed app hash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSigningKeyPair } from '@medledger/crypto';
import {
  appHashOf,
  type Block,
  blockHash,
  EMPTY_STATE_ROOT,
  resultsRootOf,
  type TxResult,
  updateStateTree,
  ZERO_HASH,
} from '@medledger/ledger';
import { makeChain, signCommit } from '@medledger/ledger/testing';
import { assembleSnapshot, checkManifest, chunkHashOf, encodeChunks, SNAPSHOT_FORMAT, SnapshotError } from './snapshot-check.js';

const fixture = makeChain({ validators: 4, blocks: 1, txsPerBlock: 2 });
const { genesis, validatorKeys } = fixture;
const entries: Array<[string, string]> = Array.from({ length: 300 }, (_, i) => [`identity/${String(i).padStart(4, '0')}`, `{"n":${i}}`]);
const results: TxResult[] = [
  { code: 'ok', log: '' },
  { code: 'NONCE_GAP', log: 'gap' },
];

/** A manifest for `entries` at height 7 whose header carries their app hash, signed by `signers`. */
function manifestFor(state: Array<[string, string]>, signers = validatorKeys, chunkBytes = 2048) {
  const tree = updateStateTree(
    { getTreeNode: () => undefined },
    EMPTY_STATE_ROOT,
    state.map(([key, value]) => ({ key, value })),
  );
  const base = fixture.blocks[0]?.block as Block;
  const block: Block = {
    ...base,
    header: { ...base.header, height: 7, appHash: appHashOf(tree.root, resultsRootOf(results)), prevHash: ZERO_HASH },
  };
  const chunks = encodeChunks(state, chunkBytes);
  const manifest = {
    format: SNAPSHOT_FORMAT,
    height: 7,
    block,
    commit: signCommit(genesis.chainId, 7, blockHash(block.header), signers),
    results,
    chunks: chunks.map(chunkHashOf),
  };
  return { manifest, chunks, root: tree.root };
}

const codeOf = (code: string) => (err: unknown) => err instanceof SnapshotError && err.code === code;

test('chunks are deterministic, bounded, and an honest snapshot assembles to its signed state', () => {
  const { manifest, chunks, root } = manifestFor(entries);
  assert.ok(chunks.length > 1, 'several chunks');
  assert.ok(chunks.every((c) => Buffer.byteLength(c) <= 2048));
  assert.deepEqual(encodeChunks(entries, 2048), chunks);
  const batch = assembleSnapshot(checkManifest(genesis, manifest), chunks);
  assert.equal(batch.tree.root, root);
  assert.equal(batch.writes.length, entries.length);
  assert.equal(batch.block.header.height, 7);
});

test('a snapshot whose commit is not signed by more than 2/3 of the validators is refused', () => {
  const twoOfFour = manifestFor(entries, validatorKeys.slice(0, 2));
  assert.throws(() => checkManifest(genesis, twoOfFour.manifest), codeOf('BAD_COMMIT'));
  const outsiders = manifestFor(entries, [generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()]);
  assert.throws(() => checkManifest(genesis, outsiders.manifest), codeOf('BAD_COMMIT'));
});

test('a snapshot with a changed, added or removed key does not give the signed app hash', () => {
  const { manifest } = manifestFor(entries);
  const checked = checkManifest(genesis, manifest);
  const changed = entries.map(([k, v], i): [string, string] => [k, i === 5 ? '{"n":"forged"}' : v]);
  const added: Array<[string, string]> = [...entries, ['identity/zzzz', '{}']];
  const removed = entries.slice(1);
  for (const state of [changed, added, removed]) {
    const chunks = encodeChunks(state, 2048);
    // The liar's manifest would list these chunks' hashes; the app hash is what gives it away.
    assert.throws(() => assembleSnapshot({ ...checked, chunks: chunks.map(chunkHashOf) }, chunks), codeOf('APP_HASH_MISMATCH'));
  }
});

test('chunks with keys out of order or repeated, or not [key, value] strings, are refused', () => {
  const { manifest } = manifestFor(entries);
  const checked = checkManifest(genesis, manifest);
  const swapped = [...entries];
  [swapped[0], swapped[1]] = [swapped[1] as [string, string], swapped[0] as [string, string]];
  const repeated = [entries[0], ...entries] as Array<[string, string]>;
  for (const state of [swapped, repeated]) {
    const chunks = encodeChunks(state, 1 << 20);
    assert.throws(() => assembleSnapshot({ ...checked, chunks: chunks.map(chunkHashOf) }, chunks), codeOf('BAD_CHUNK'));
  }
  assert.throws(() => assembleSnapshot({ ...checked, chunks: [chunkHashOf('[[1,2]]')] }, ['[[1,2]]']), codeOf('BAD_CHUNK'));
});

test('a malformed manifest is refused before anything is fetched', () => {
  const { manifest } = manifestFor(entries);
  assert.throws(() => checkManifest(genesis, { ...manifest, format: 2 }), codeOf('BAD_MANIFEST'));
  assert.throws(() => checkManifest(genesis, { ...manifest, height: 8 }), codeOf('BAD_MANIFEST'));
  assert.throws(() => checkManifest(genesis, { ...manifest, chunks: [] }), codeOf('BAD_MANIFEST'));
  assert.throws(() => checkManifest(genesis, { ...manifest, results: [] }), codeOf('BAD_MANIFEST'));
  assert.throws(() => checkManifest({ ...genesis, chainId: 'other' }, manifest), codeOf('BAD_MANIFEST'));
});
