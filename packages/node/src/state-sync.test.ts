// The joining side of state sync against scripted peers: a peer whose chunk does not match
// its manifest, or whose manifest is not signed by the validators, is refused and the next
// peer's snapshot is taken; with no usable snapshot the node gives up (and block-syncs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSigningKeyPair } from '@medledger/crypto';
import { appHashOf, type Block, blockHash, EMPTY_STATE_ROOT, resultsRootOf, updateStateTree, ZERO_HASH } from '@medledger/ledger';
import { makeChain, signCommit } from '@medledger/ledger/testing';
import { chunkHashOf, encodeChunks, SNAPSHOT_FORMAT } from './snapshot-check.js';
import { StateSync } from './state-sync.js';

const fixture = makeChain({ validators: 4, blocks: 1, txsPerBlock: 0 });
const { genesis, validatorKeys } = fixture;
const state: Array<[string, string]> = Array.from({ length: 200 }, (_, i) => [`k/${String(i).padStart(3, '0')}`, `v${i}`]);

function honestSnapshot(signers = validatorKeys) {
  const tree = updateStateTree(
    { getTreeNode: () => undefined },
    EMPTY_STATE_ROOT,
    state.map(([key, value]) => ({ key, value })),
  );
  const base = fixture.blocks[0]?.block as Block;
  const block: Block = {
    ...base,
    header: { ...base.header, height: 9, prevHash: ZERO_HASH, appHash: appHashOf(tree.root, resultsRootOf([])) },
  };
  const chunks = encodeChunks(state, 1024);
  const manifest = {
    format: SNAPSHOT_FORMAT,
    height: 9,
    block,
    commit: signCommit(genesis.chainId, 9, blockHash(block.header), signers),
    results: [],
    chunks: chunks.map(chunkHashOf),
  };
  return { manifest, chunks };
}

type Peer = { manifest: unknown; chunks: string[] };

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
            msg.type === 'snapshots-get'
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
  const batch = await sync.run();
  assert.equal(batch?.block.header.height, 9);
  assert.equal(batch?.writes.length, state.length);
  assert.deepEqual(disconnected, ['liar']);
  assert.ok(logs.some((l) => /refused the snapshot of liar: chunk 1 does not match its hash/.test(l)));
});

test('a manifest not signed by the validators is refused before any chunk is fetched', async () => {
  const forged = honestSnapshot([generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()]);
  const { sync, logs, disconnected } = harness({ forger: forged, honest: honestSnapshot() });
  assert.equal((await sync.run())?.block.header.height, 9);
  assert.deepEqual(disconnected, ['forger']);
  assert.ok(logs.some((l) => /refused the snapshot of forger: the snapshot block's commit does not verify/.test(l)));
});

test('with only lying peers the node gives up on state sync and says it will block-sync', async () => {
  const honest = honestSnapshot();
  const { sync, logs } = harness({
    liar: { manifest: honest.manifest, chunks: honest.chunks.map((c) => c.replace(/"v\d+"/, '"forged"')) },
  });
  assert.equal(await sync.run(), undefined);
  assert.ok(logs.some((l) => /syncing blocks from genesis/.test(l)));
});
