// The joining side of state sync against scripted peers: a peer whose chunk does not match
// its manifest, or whose manifest is not signed by the validators, is refused and the next
// peer's snapshot is taken; with no usable snapshot the node gives up (and block-syncs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSigningKeyPair, type SigningKeyPair } from '@medledger/crypto';
import { appHashOf, EMPTY_STATE_ROOT, resultsRootOf, updateStateTree } from '@medledger/ledger';
import { type FixtureValidator, makeGovernedChain, nextGovernedBlock } from '@medledger/ledger/testing';
import { chunkHashOf, encodeChunks, SNAPSHOT_FORMAT } from './snapshot-check.js';
import { StateSync } from './state-sync.js';

const genesisSet: FixtureValidator[] = Array.from({ length: 4 }, () => ({ key: generateSigningKeyPair(), power: 1 }));
/** The set that replaced genesis's at height 5: two genesis validators swapped for new ones. */
const laterSet: FixtureValidator[] = [
  ...genesisSet.slice(2),
  { key: generateSigningKeyPair(), power: 1 },
  { key: generateSigningKeyPair(), power: 1 },
];
/** Eight blocks before the snapshot's (height 9); the set changes at height 5. */
const chain = makeGovernedChain({ genesisSet, changes: [{ effectiveHeight: 5, set: laterSet }], blocks: 8, chainId: 'state-sync' });
const { genesis } = chain;
const state: Array<[string, string]> = Array.from({ length: 200 }, (_, i) => [`k/${String(i).padStart(3, '0')}`, `v${i}`]);

function honestSnapshot(signers?: SigningKeyPair[]) {
  const tree = updateStateTree(
    { getTreeNode: () => undefined },
    EMPTY_STATE_ROOT,
    state.map(([key, value]) => ({ key, value })),
  );
  const { block, commit } = nextGovernedBlock(chain, { appHash: appHashOf(tree.root, resultsRootOf([])), ...(signers ? { signers } : {}) });
  const chunks = encodeChunks(state, 1024);
  const manifest = { format: SNAPSHOT_FORMAT, height: 9, block, commit, results: [], chunks: chunks.map(chunkHashOf) };
  return { manifest, chunks };
}

/** A peer's snapshot, and whether it serves the chain's headers (a node that joined by state sync holds none below its snapshot). */
type Peer = { manifest: unknown; chunks: string[]; noHeaders?: boolean };

/** The `headers` answer of a peer holding `chain`'s blocks. */
function headersAnswer(from: number, limit: number) {
  const slice = chain.blocks.slice(from - 1, from - 1 + limit);
  return structuredClone({
    type: 'headers',
    from,
    headers: slice.map((b) => ({
      header: b.block.header,
      commit: b.commit,
      ...(b.nextValidators ? { nextValidators: b.nextValidators } : {}),
    })),
  });
}

/** A StateSync whose peers answer from `peers` (in config order), and a log of what it did. */
function harness(peers: Record<string, Peer>) {
  const logs: string[] = [];
  const disconnected: string[] = [];
  let now = 0;
  const sync: StateSync = new StateSync(
    { genesis, discoverMs: 3_000, answerMs: 500, window: 2, peerOrder: Object.keys(peers) },
    {
      net: {
        connectedPeers: () => Object.keys(peers).filter((p) => !disconnected.includes(p)),
        nameOf: (p) => p,
        disconnect: (p) => disconnected.push(p),
        send: (peer, msg) => {
          const p = peers[peer] as Peer;
          const answer =
            msg.type === 'headers-get'
              ? p.noHeaders
                ? { type: 'headers', from: msg.from, headers: [] }
                : headersAnswer(msg.from as number, msg.limit as number)
              : msg.type === 'snapshots-get'
                ? { type: 'snapshots', list: [{ height: 9, blockHash: 'x' }] }
                : msg.type === 'snapshot-get'
                  ? { type: 'snapshot', height: msg.height, manifest: p.manifest }
                  : { type: 'snapshot-chunk', height: msg.height, index: msg.index, data: p.chunks[msg.index as number] };
          queueMicrotask(() => sync.onPeerMessage(peer, answer));
        },
      },
      log: (_level, message) => logs.push(message),
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    },
  );
  return { sync, logs, disconnected };
}

test('a peer whose chunk does not match its manifest is refused and the next peer is used', async () => {
  const honest = honestSnapshot();
  const tampered = [...honest.chunks];
  tampered[1] = (tampered[1] as string).replace(/"v\d+"/, '"forged"');
  assert.notEqual(tampered[1], honest.chunks[1]);
  const { sync, logs, disconnected } = harness({ liar: { manifest: honest.manifest, chunks: tampered }, honest });
  const synced = await sync.run();
  assert.equal(synced?.batch.block.header.height, 9);
  assert.equal(synced?.batch.writes.length, state.length);
  assert.deepEqual(
    synced?.validators.map((v) => v.publicKey),
    laterSet.map((v) => v.key.publicKey),
    'the set in force at the snapshot, followed from genesis',
  );
  // The headers walked below the snapshot come back to be kept, so clients can walk them on this node too.
  assert.deepEqual(
    synced?.headers.map((e) => e.header.height),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.deepEqual(synced?.headers[4]?.nextValidators, undefined);
  assert.ok(synced?.headers[3]?.nextValidators !== undefined, 'the header announcing the change keeps the new set');
  assert.deepEqual(disconnected, ['liar']);
  assert.ok(logs.some((l) => /refused the snapshot of liar: chunk 1 does not match its hash/.test(l)));
});

test('a manifest not signed by the validators is refused before any chunk is fetched', async () => {
  const forged = honestSnapshot([generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()]);
  const { sync, logs, disconnected } = harness({ forger: forged, honest: honestSnapshot() });
  assert.equal((await sync.run())?.batch.block.header.height, 9);
  assert.deepEqual(disconnected, ['forger']);
  assert.ok(logs.some((l) => /refused the snapshot of forger: the snapshot block's commit does not verify/.test(l)));
});

test('a snapshot signed by the genesis set after governance replaced it is refused; the next peer’s, signed by the set in force, is taken', async () => {
  const byReplacedSet = honestSnapshot(genesisSet.map((v) => v.key));
  const { sync, logs, disconnected } = harness({ replaced: byReplacedSet, honest: honestSnapshot() });
  const synced = await sync.run();
  assert.equal(synced?.batch.block.header.height, 9);
  assert.deepEqual(disconnected, ['replaced']);
  assert.ok(
    logs.some((l) => /refused the snapshot of replaced: .*validators in force at its height/.test(l)),
    logs.join('\n'),
  );
});

test('headers are taken from another peer when the one offering the snapshot holds none below it', async () => {
  const { sync, disconnected } = harness({
    synced: { ...honestSnapshot(), noHeaders: true },
    archive: { ...honestSnapshot(), noHeaders: false },
  });
  const synced = await sync.run();
  assert.equal(synced?.batch.block.header.height, 9);
  assert.deepEqual(disconnected, []);
});

test('with only lying peers the node gives up on state sync and says it will block-sync', async () => {
  const honest = honestSnapshot();
  const { sync, logs } = harness({
    liar: { manifest: honest.manifest, chunks: honest.chunks.map((c) => c.replace(/"v\d+"/, '"forged"')) },
  });
  assert.equal(await sync.run(), undefined);
  assert.ok(logs.some((l) => /syncing blocks from genesis/.test(l)));
});
