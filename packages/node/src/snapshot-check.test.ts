// What a joining node checks before it believes a state snapshot (snapshot-check.ts): the
// block's commit against the validators in force at its height (followed from genesis through
// the headers), each chunk's shape and order, and the rebuilt state against the signed app hash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type HeaderSource, ValidatorSetTracker } from '@medledger/client/light';
import { generateSigningKeyPair, type SigningKeyPair } from '@medledger/crypto';
import { appHashOf, type Block, EMPTY_STATE_ROOT, type Genesis, resultsRootOf, type TxResult, updateStateTree } from '@medledger/ledger';
import {
  type FixtureValidator,
  type GovernedChainFixture,
  makeChain,
  makeGovernedChain,
  nextGovernedBlock,
} from '@medledger/ledger/testing';
import { assembleSnapshot, checkManifest, chunkHashOf, encodeChunks, SNAPSHOT_FORMAT, SnapshotError } from './snapshot-check.js';

const txFixture = makeChain({ validators: 4, blocks: 1, txsPerBlock: 2 });
const genesisSet: FixtureValidator[] = Array.from({ length: 4 }, () => ({ key: generateSigningKeyPair(), power: 1 }));
/** Six blocks before the snapshot's, under the genesis set. */
const chain = makeGovernedChain({ genesisSet, changes: [], blocks: 6, chainId: 'snapshot-check' });
const { genesis } = chain;
const validatorKeys = genesisSet.map((v) => v.key);

/** A node's GET /v1/headers over `fx`'s blocks. */
function headersOf(fx: GovernedChainFixture): HeaderSource {
  return {
    async get(path) {
      const q = new URLSearchParams(path.slice(path.indexOf('?') + 1));
      const from = Number(q.get('from'));
      const slice = fx.blocks.slice(from - 1, from - 1 + Number(q.get('limit')));
      return structuredClone({
        headers: slice.map((b) => ({
          header: b.block.header,
          commit: b.commit,
          ...(b.nextValidators ? { nextValidators: b.nextValidators } : {}),
        })),
      });
    },
  };
}

const trustOf = (g: Genesis = genesis, fx: GovernedChainFixture = chain) => new ValidatorSetTracker(g, headersOf(fx));
const entries: Array<[string, string]> = Array.from({ length: 300 }, (_, i) => [`identity/${String(i).padStart(4, '0')}`, `{"n":${i}}`]);
const results: TxResult[] = [
  { code: 'ok', log: '' },
  { code: 'NONCE_GAP', log: 'gap' },
];

/** A manifest for `entries` at height 7 whose header carries their app hash, signed by `signers`. */
function manifestFor(state: Array<[string, string]>, signers: SigningKeyPair[] = validatorKeys, chunkBytes = 2048) {
  const tree = updateStateTree(
    { getTreeNode: () => undefined },
    EMPTY_STATE_ROOT,
    state.map(([key, value]) => ({ key, value })),
  );
  const txs = (txFixture.blocks[0] as { block: Block }).block.txs;
  const { block, commit } = nextGovernedBlock(chain, { appHash: appHashOf(tree.root, resultsRootOf(results)), txs, signers });
  const chunks = encodeChunks(state, chunkBytes);
  const manifest = { format: SNAPSHOT_FORMAT, height: 7, block, commit, results, chunks: chunks.map(chunkHashOf) };
  return { manifest, chunks, root: tree.root };
}

const codeOf = (code: string) => (err: unknown) => err instanceof SnapshotError && err.code === code;

test('chunks are deterministic, bounded, and an honest snapshot assembles to its signed state', async () => {
  const { manifest, chunks, root } = manifestFor(entries);
  assert.ok(chunks.length > 1, 'several chunks');
  assert.ok(chunks.every((c) => Buffer.byteLength(c) <= 2048));
  assert.deepEqual(encodeChunks(entries, 2048), chunks);
  const batch = assembleSnapshot(await checkManifest(trustOf(), manifest), chunks);
  assert.equal(batch.tree.root, root);
  assert.equal(batch.writes.length, entries.length);
  assert.equal(batch.block.header.height, 7);
});

test('a snapshot whose commit is not signed by more than 2/3 of the validators is refused', async () => {
  const twoOfFour = manifestFor(entries, validatorKeys.slice(0, 2));
  await assert.rejects(checkManifest(trustOf(), twoOfFour.manifest), codeOf('BAD_COMMIT'));
  const outsiders = manifestFor(entries, [generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()]);
  await assert.rejects(checkManifest(trustOf(), outsiders.manifest), codeOf('BAD_COMMIT'));
});

test('a snapshot signed by the genesis set after governance replaced it is refused; one signed by the new set is taken', async () => {
  // Genesis set G until height 3; from 4 on a set with one of G replaced and a fifth added.
  const replaced: FixtureValidator[] = [
    ...genesisSet.slice(1),
    { key: generateSigningKeyPair(), power: 1 },
    { key: generateSigningKeyPair(), power: 1 },
  ];
  const governed = makeGovernedChain({
    genesisSet,
    changes: [{ effectiveHeight: 4, set: replaced }],
    blocks: 6,
    chainId: 'snapshot-check',
  });
  const tree = updateStateTree(
    { getTreeNode: () => undefined },
    EMPTY_STATE_ROOT,
    entries.map(([key, value]) => ({ key, value })),
  );
  const appHash = appHashOf(tree.root, resultsRootOf([]));
  const chunks = encodeChunks(entries, 2048);
  const manifestOf = (b: ReturnType<typeof nextGovernedBlock>) => ({
    format: SNAPSHOT_FORMAT,
    height: 7,
    ...b,
    results: [],
    chunks: chunks.map(chunkHashOf),
  });
  // The old genesis keys sign block 7 (the real chain's block: same header) after they were replaced.
  const byOldSet = manifestOf(nextGovernedBlock(governed, { appHash, signers: validatorKeys }));
  await assert.rejects(checkManifest(trustOf(genesis, governed), byOldSet), (err: unknown) => {
    assert.ok(codeOf('BAD_COMMIT')(err), String(err));
    assert.match((err as Error).message, /validators in force at its height/);
    return true;
  });
  // The same block signed by the set in force at height 7 checks out, and says which set that is.
  const checked = await checkManifest(trustOf(genesis, governed), manifestOf(nextGovernedBlock(governed, { appHash })));
  assert.deepEqual(
    checked.validators.map((v) => v.publicKey),
    replaced.map((v) => v.key.publicKey),
  );
  assert.equal(assembleSnapshot(checked, chunks).block.header.height, 7);
  // A forged header chain, not linked to the walked one, is refused as well.
  const unlinked = nextGovernedBlock(chain, { appHash, signers: validatorKeys });
  await assert.rejects(checkManifest(trustOf(genesis, governed), manifestOf(unlinked)), codeOf('BAD_COMMIT'));
});

test('a snapshot with a changed, added or removed key does not give the signed app hash', async () => {
  const { manifest } = manifestFor(entries);
  const checked = await checkManifest(trustOf(), manifest);
  const changed = entries.map(([k, v], i): [string, string] => [k, i === 5 ? '{"n":"forged"}' : v]);
  const added: Array<[string, string]> = [...entries, ['identity/zzzz', '{}']];
  const removed = entries.slice(1);
  for (const state of [changed, added, removed]) {
    const chunks = encodeChunks(state, 2048);
    // The liar's manifest would list these chunks' hashes; the app hash is what gives it away.
    assert.throws(() => assembleSnapshot({ ...checked, chunks: chunks.map(chunkHashOf) }, chunks), codeOf('APP_HASH_MISMATCH'));
  }
});

test('chunks with keys out of order or repeated, or not [key, value] strings, are refused', async () => {
  const { manifest } = manifestFor(entries);
  const checked = await checkManifest(trustOf(), manifest);
  const swapped = [...entries];
  [swapped[0], swapped[1]] = [swapped[1] as [string, string], swapped[0] as [string, string]];
  const repeated = [entries[0], ...entries] as Array<[string, string]>;
  for (const state of [swapped, repeated]) {
    const chunks = encodeChunks(state, 1 << 20);
    assert.throws(() => assembleSnapshot({ ...checked, chunks: chunks.map(chunkHashOf) }, chunks), codeOf('BAD_CHUNK'));
  }
  assert.throws(() => assembleSnapshot({ ...checked, chunks: [chunkHashOf('[[1,2]]')] }, ['[[1,2]]']), codeOf('BAD_CHUNK'));
});

test('a malformed manifest is refused before anything is fetched', async () => {
  const { manifest } = manifestFor(entries);
  await assert.rejects(checkManifest(trustOf(), { ...manifest, format: 2 }), codeOf('BAD_MANIFEST'));
  await assert.rejects(checkManifest(trustOf(), { ...manifest, height: 8 }), codeOf('BAD_MANIFEST'));
  await assert.rejects(checkManifest(trustOf(), { ...manifest, chunks: [] }), codeOf('BAD_MANIFEST'));
  await assert.rejects(checkManifest(trustOf(), { ...manifest, results: [] }), codeOf('BAD_MANIFEST'));
  await assert.rejects(checkManifest(trustOf({ ...genesis, chainId: 'other' }), manifest), codeOf('BAD_MANIFEST'));
});
