// One conformance suite for every NodeStore implementation (STYLE: interfaces with two
// implementations, one shared test suite).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSigningKeyPair } from '@medledger/crypto';
import { type Block, type Commit, signTx, txHash, ZERO_HASH } from '@medledger/ledger';
import type { BlockCommitBatch, NodeStore, StateWrite } from './types.js';
import { StorageError } from './types.js';

export interface StoreHarness {
  store: NodeStore;
  /** Close and reopen the same storage, when it persists. */
  reopen?: () => NodeStore;
  cleanup: () => void;
}

const signer = generateSigningKeyPair();
let nonce = 0;

/** A structurally valid block at `height` (storage does not check signatures). */
export function fakeBatch(height: number, writes: StateWrite[] = [], txCount = 2): BlockCommitBatch {
  const txs = Array.from({ length: txCount }, () =>
    signTx({ v: 1, chain: 'store-test', kind: 'test.noop', signer: signer.publicKey, nonce: nonce++, body: {} }, signer.privateKey),
  );
  const hash = height.toString(16).padStart(64, '0');
  const block: Block = {
    header: {
      chainId: 'store-test',
      height,
      time: height,
      prevHash: ZERO_HASH,
      txRoot: ZERO_HASH,
      appHash: ZERO_HASH,
      proposer: signer.publicKey,
      lastCommitHash: ZERO_HASH,
    },
    lastCommit: null,
    txs,
  };
  const commit: Commit = { height, round: 0, blockHash: hash, signatures: [] };
  return { block, hash, commit, results: txs.map((_, i) => ({ code: i === 0 ? 'ok' : 'NONCE_GAP', log: i === 0 ? '' : 'gap' })), writes };
}

export function runStoreConformance(name: string, open: () => StoreHarness): void {
  describe(`${name} store conformance`, () => {
    test('an empty store has height 0 and nothing in it', () => {
      const h = open();
      try {
        assert.equal(h.store.tipHeight(), 0);
        assert.equal(h.store.loadBlock(1), undefined);
        assert.equal(h.store.getState('a'), undefined);
        assert.deepEqual(h.store.scanState(''), []);
        assert.equal(h.store.findTx('00'.repeat(32)), undefined);
      } finally {
        h.cleanup();
      }
    });

    test('blocks commit in height order with their commit, results and tx index', () => {
      const h = open();
      try {
        const batches = [1, 2, 3].map((n) => fakeBatch(n, [{ key: `k${n}`, value: `v${n}` }]));
        for (const b of batches) h.store.commitBlock(b);
        assert.equal(h.store.tipHeight(), 3);
        const two = h.store.loadBlock(2);
        assert.deepEqual(two?.block, batches[1]?.block);
        assert.deepEqual(two?.commit, batches[1]?.commit);
        assert.equal(two?.hash, batches[1]?.hash);
        const tx = batches[1]?.block.txs[1];
        assert.deepEqual(h.store.findTx(txHash(tx as NonNullable<typeof tx>)), {
          height: 2,
          index: 1,
          result: { code: 'NONCE_GAP', log: 'gap' },
        });
        const raw = h.store.loadBlockRaw(2);
        assert.equal(raw?.block, JSON.stringify(batches[1]?.block));
      } finally {
        h.cleanup();
      }
    });

    test('a gap or a repeated height is refused and nothing is written', () => {
      const h = open();
      try {
        h.store.commitBlock(fakeBatch(1));
        const isMismatch = (e: unknown) => e instanceof StorageError && e.code === 'HEIGHT_MISMATCH';
        assert.throws(() => h.store.commitBlock(fakeBatch(3, [{ key: 'x', value: '1' }])), isMismatch);
        assert.throws(() => h.store.commitBlock(fakeBatch(1, [{ key: 'x', value: '1' }])), isMismatch);
        assert.equal(h.store.tipHeight(), 1);
        assert.equal(h.store.getState('x'), undefined);
      } finally {
        h.cleanup();
      }
    });

    test('a batch that fails part-way changes nothing (atomicity)', () => {
      const h = open();
      try {
        const first = fakeBatch(1, [{ key: 'a', value: '1' }]);
        h.store.commitBlock(first);
        // The second block repeats a transaction already stored: the tx index refuses it.
        const bad = fakeBatch(2, [
          { key: 'a', value: '2' },
          { key: 'b', value: '2' },
        ]);
        bad.block.txs[1] = first.block.txs[0] as (typeof bad.block.txs)[number];
        assert.throws(() => h.store.commitBlock(bad));
        assert.equal(h.store.tipHeight(), 1);
        assert.equal(h.store.loadBlock(2), undefined);
        assert.equal(h.store.getState('a'), '1');
        assert.equal(h.store.getState('b'), undefined);
        h.store.commitBlock(fakeBatch(2, [{ key: 'b', value: '3' }]));
        assert.equal(h.store.getState('b'), '3');
      } finally {
        h.cleanup();
      }
    });

    test('state writes, deletes and ordered prefix scans', () => {
      const h = open();
      try {
        h.store.commitBlock(
          fakeBatch(1, [
            { key: 'p/b', value: '2' },
            { key: 'p/a', value: '1' },
            { key: 'p/c', value: '3' },
            { key: 'q/a', value: 'x' },
            { key: 'p', value: 'root' },
          ]),
        );
        h.store.commitBlock(
          fakeBatch(2, [
            { key: 'p/b', value: null },
            { key: 'p/a', value: '1b' },
          ]),
        );
        assert.equal(h.store.getState('p/b'), undefined);
        assert.deepEqual(h.store.scanState('p/'), [
          ['p/a', '1b'],
          ['p/c', '3'],
        ]);
        assert.deepEqual(h.store.scanState('p/', { after: 'p/a' }), [['p/c', '3']]);
        assert.deepEqual(h.store.scanState('p/', { limit: 1 }), [['p/a', '1b']]);
        assert.deepEqual(
          h.store.scanState('').map(([k]) => k),
          ['p', 'p/a', 'p/c', 'q/a'],
        );
      } finally {
        h.cleanup();
      }
    });

    test('metadata round-trips and is overwritten', () => {
      const h = open();
      try {
        h.store.setMeta('signer/last', '{"height":1}');
        h.store.setMeta('signer/last', '{"height":2}');
        assert.equal(h.store.getMeta('signer/last'), '{"height":2}');
        assert.equal(h.store.getMeta('nope'), undefined);
      } finally {
        h.cleanup();
      }
    });

    test('blocks, state and metadata survive a reopen', (t) => {
      const h = open();
      if (h.reopen === undefined) {
        h.cleanup();
        t.diagnostic(`${name} does not persist: nothing to reopen`);
        return;
      }
      try {
        h.store.commitBlock(fakeBatch(1, [{ key: 'k', value: 'v' }]));
        h.store.setMeta('m', '1');
        const again = h.reopen();
        assert.equal(again.tipHeight(), 1);
        assert.equal(again.getState('k'), 'v');
        assert.equal(again.getMeta('m'), '1');
        assert.ok(again.loadBlock(1));
      } finally {
        h.cleanup();
      }
    });
  });
}
