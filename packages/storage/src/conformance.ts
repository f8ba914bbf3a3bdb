// One conformance suite for every NodeStore implementation (STYLE: interfaces with two
// implementations, one shared test suite).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSigningKeyPair, sha256Hex, utf8 } from '@medledger/crypto';
import {
  type Block,
  type Commit,
  EMPTY_STATE_ROOT,
  proveStateKey,
  type StateTreeUpdate,
  signTx,
  txHash,
  updateStateTree,
  verifyStateProof,
  ZERO_HASH,
} from '@medledger/ledger';
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
export function fakeBatch(
  height: number,
  writes: StateWrite[] = [],
  txCount = 2,
  tree: StateTreeUpdate = { root: EMPTY_STATE_ROOT, put: [], remove: [] },
): BlockCommitBatch {
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
  return {
    block,
    hash,
    commit,
    results: txs.map((_, i) => ({ code: i === 0 ? 'ok' : 'NONCE_GAP', log: i === 0 ? '' : 'gap' })),
    writes,
    tree,
  };
}

/** A vault object and its hash, as the node would store it. */
export function vaultObject(text: string): { hash: string; data: Uint8Array } {
  const data = utf8(text);
  return { hash: sha256Hex(data), data };
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
        assert.deepEqual(h.store.loadHeader(2), { hash: batches[1]?.hash, header: batches[1]?.block.header, commit: batches[1]?.commit });
        assert.equal(h.store.loadHeader(4), undefined);
      } finally {
        h.cleanup();
      }
    });

    test('a snapshot installs into an empty store as its first block, and blocks follow it', () => {
      const h = open();
      try {
        const writes = [
          { key: 'a', value: '1' },
          { key: 'b', value: '2' },
        ];
        const tree = updateStateTree({ getTreeNode: () => undefined }, EMPTY_STATE_ROOT, writes);
        const at = fakeBatch(40, [], 1, tree);
        h.store.installSnapshot({ block: at.block, hash: at.hash, commit: at.commit, results: at.results, writes, tree });
        assert.equal(h.store.tipHeight(), 40);
        assert.equal(h.store.baseHeight(), 40);
        assert.equal(h.store.loadBlock(39), undefined);
        assert.deepEqual(h.store.loadBlock(40)?.block, at.block);
        assert.equal(h.store.getState('b'), '2');
        assert.equal(h.store.stateRoot(), tree.root);
        const proven = proveStateKey(h.store, h.store.stateRoot(), 'a');
        assert.equal(proven.valueHash, sha256Hex(utf8('1')));
        const isMismatch = (e: unknown) => e instanceof StorageError && e.code === 'HEIGHT_MISMATCH';
        assert.throws(
          () => h.store.installSnapshot({ block: at.block, hash: at.hash, commit: at.commit, results: at.results, writes, tree }),
          isMismatch,
        );
        h.store.commitBlock(fakeBatch(41, [{ key: 'c', value: '3' }], 1, { root: tree.root, put: [], remove: [] }));
        assert.equal(h.store.tipHeight(), 41);
        assert.equal(h.store.baseHeight(), 40);
        assert.equal(h.store.getState('c'), '3');
        const tx = at.block.txs[0];
        assert.equal(h.store.findTx(txHash(tx as NonNullable<typeof tx>))?.height, 40);
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
        bad.tree = updateStateTree(h.store, h.store.stateRoot(), bad.writes);
        assert.throws(() => h.store.commitBlock(bad));
        assert.equal(h.store.stateRoot(), EMPTY_STATE_ROOT, 'the state root is unchanged');
        for (const n of bad.tree.put) assert.equal(h.store.getTreeNode(n.hash), undefined, 'no tree node is written');
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

    test('state-tree nodes and root commit with the block; removed nodes go; proofs from the store verify', () => {
      const h = open();
      try {
        const block = (height: number, writes: StateWrite[]) => {
          const tree = updateStateTree(h.store, h.store.stateRoot(), writes);
          h.store.commitBlock(fakeBatch(height, writes, 2, tree));
          return tree;
        };
        assert.equal(h.store.stateRoot(), EMPTY_STATE_ROOT);
        const one = block(
          1,
          Array.from({ length: 20 }, (_, i) => ({ key: `t/${i}`, value: `v${i}` })),
        );
        assert.equal(h.store.stateRoot(), one.root);
        for (const n of one.put) assert.deepEqual(h.store.getTreeNode(n.hash), n.bytes);
        const two = block(2, [
          { key: 't/3', value: null },
          { key: 't/4', value: 'changed' },
        ]);
        assert.ok(two.remove.length > 0);
        for (const gone of two.remove) assert.equal(h.store.getTreeNode(gone), undefined, 'a node the new root does not reach is deleted');
        const check = (store: NodeStore) => {
          assert.equal(store.stateRoot(), two.root);
          verifyStateProof(two.root, 't/4', 'changed', proveStateKey(store, store.stateRoot(), 't/4').proof);
          verifyStateProof(two.root, 't/3', null, proveStateKey(store, store.stateRoot(), 't/3').proof);
          verifyStateProof(two.root, 't/5', 'v5', proveStateKey(store, store.stateRoot(), 't/5').proof);
        };
        check(h.store);
        if (h.reopen !== undefined) check(h.reopen());
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
        // Reversed: newest-first logs page down from the end, `after` being the last key seen.
        assert.deepEqual(h.store.scanState('p/', { reverse: true }), [
          ['p/c', '3'],
          ['p/a', '1b'],
        ]);
        assert.deepEqual(h.store.scanState('p/', { reverse: true, limit: 1 }), [['p/c', '3']]);
        assert.deepEqual(h.store.scanState('p/', { reverse: true, after: 'p/c' }), [['p/a', '1b']]);
        assert.deepEqual(h.store.scanState('p/', { reverse: true, after: 'p/a' }), []);
        assert.deepEqual(
          h.store.scanState('', { reverse: true }).map(([k]) => k),
          ['q/a', 'p/c', 'p/a', 'p'],
        );
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
        h.store.setMetas([
          ['signer/last', '{"height":3}'],
          ['consensus/lock', 'L'],
        ]);
        assert.equal(h.store.getMeta('signer/last'), '{"height":3}');
        assert.equal(h.store.getMeta('consensus/lock'), 'L');
      } finally {
        h.cleanup();
      }
    });

    test('a vault object is stored once under its hash and read back', () => {
      const h = open();
      try {
        const a = vaultObject('ciphertext a');
        assert.equal(h.store.putVaultObject(a.hash, a.data, 1), true);
        assert.equal(h.store.putVaultObject(a.hash, utf8('other bytes'), 2), false);
        assert.deepEqual(h.store.getVaultObject(a.hash), a.data);
        assert.equal(h.store.hasVaultObject(a.hash), true);
        assert.equal(h.store.vaultObjectStatus(a.hash), 'unanchored');
        const unknown = vaultObject('never stored').hash;
        assert.equal(h.store.getVaultObject(unknown), undefined);
        assert.equal(h.store.hasVaultObject(unknown), false);
        assert.equal(h.store.vaultObjectStatus(unknown), undefined);
      } finally {
        h.cleanup();
      }
    });

    test('a caller reusing its buffer does not change a stored vault object', () => {
      const h = open();
      try {
        const a = vaultObject('ciphertext a');
        const buffer = a.data.slice();
        h.store.putVaultObject(a.hash, buffer, 1);
        buffer.fill(0);
        const read = h.store.getVaultObject(a.hash) as Uint8Array;
        read.fill(1);
        assert.deepEqual(h.store.getVaultObject(a.hash), a.data);
      } finally {
        h.cleanup();
      }
    });

    test('anchoring marks held objects and records missing ones as wanted until they arrive', () => {
      const h = open();
      try {
        const held = vaultObject('held');
        const missing = vaultObject('missing');
        h.store.putVaultObject(held.hash, held.data, 1);
        assert.deepEqual(h.store.markVaultAnchored([held.hash, missing.hash, missing.hash]), [missing.hash]);
        assert.equal(h.store.vaultObjectStatus(held.hash), 'anchored');
        assert.equal(h.store.vaultObjectStatus(missing.hash), 'wanted');
        assert.equal(h.store.hasVaultObject(missing.hash), false);
        assert.deepEqual(h.store.wantedVaultObjects(10), [missing.hash]);
        // Anchoring again reports it again: it is still not held.
        assert.deepEqual(h.store.markVaultAnchored([missing.hash]), [missing.hash]);
        assert.equal(h.store.putVaultObject(missing.hash, missing.data, 5), true);
        assert.equal(h.store.vaultObjectStatus(missing.hash), 'anchored');
        assert.deepEqual(h.store.wantedVaultObjects(10), []);
        // Anchored objects never expire, however old.
        assert.equal(h.store.expireUnanchoredVaultObjects(Number.MAX_SAFE_INTEGER), 0);
        assert.equal(h.store.hasVaultObject(held.hash), true);
      } finally {
        h.cleanup();
      }
    });

    test('wanted hashes page in ascending order and can be given up', () => {
      const h = open();
      try {
        const hashes = ['a', 'b', 'c', 'd', 'e'].map((t) => vaultObject(t).hash);
        h.store.markVaultAnchored(hashes);
        const sorted = [...hashes].sort();
        assert.deepEqual(h.store.wantedVaultObjects(10), sorted);
        assert.deepEqual(h.store.wantedVaultObjects(2), sorted.slice(0, 2));
        assert.deepEqual(h.store.wantedVaultObjects(2, sorted[1]), sorted.slice(2, 4));
        assert.deepEqual(h.store.wantedVaultObjects(10, sorted[4]), []);
        assert.deepEqual(h.store.wantedVaultObjects(0), []);
        h.store.unwantVaultObject(sorted[2] as string);
        h.store.unwantVaultObject(vaultObject('not wanted').hash);
        assert.deepEqual(h.store.wantedVaultObjects(10), [sorted[0], sorted[1], sorted[3], sorted[4]]);
        assert.equal(h.store.vaultObjectStatus(sorted[2] as string), undefined);
      } finally {
        h.cleanup();
      }
    });

    test('deleting vault objects removes held copies and leaves wanted marks', () => {
      const h = open();
      try {
        const a = vaultObject('a');
        const b = vaultObject('b');
        const wanted = vaultObject('wanted');
        h.store.putVaultObject(a.hash, a.data, 1);
        h.store.putVaultObject(b.hash, b.data, 1);
        h.store.markVaultAnchored([b.hash, wanted.hash]);
        assert.equal(h.store.deleteVaultObjects([a.hash, b.hash, wanted.hash, vaultObject('unknown').hash]), 2);
        assert.equal(h.store.getVaultObject(a.hash), undefined);
        assert.equal(h.store.vaultObjectStatus(b.hash), undefined);
        assert.equal(h.store.vaultObjectStatus(wanted.hash), 'wanted');
        assert.equal(h.store.deleteVaultObjects([]), 0);
        // A deleted object can be stored again (a repaired copy).
        assert.equal(h.store.putVaultObject(a.hash, a.data, 2), true);
      } finally {
        h.cleanup();
      }
    });

    test('each object keeps its uploader; usage sums one uploader’s pending and anchored objects', () => {
      const h = open();
      try {
        const [alice, bob] = ['aa'.repeat(20), 'bb'.repeat(20)];
        const a = vaultObject('alice pending');
        const b = vaultObject('alice anchored!');
        const c = vaultObject('bob');
        const fetched = vaultObject('from a peer');
        h.store.putVaultObject(a.hash, a.data, 1, alice);
        h.store.putVaultObject(b.hash, b.data, 1, alice);
        h.store.putVaultObject(c.hash, c.data, 1, bob);
        h.store.markVaultAnchored([b.hash, fetched.hash]);
        h.store.putVaultObject(fetched.hash, fetched.data, 2);
        // A second upload of held bytes changes nothing, the uploader included.
        assert.equal(h.store.putVaultObject(a.hash, a.data, 3, bob), false);
        assert.deepEqual(h.store.vaultObjectInfo(a.hash), { size: a.data.length, uploader: alice, status: 'unanchored' });
        assert.deepEqual(h.store.vaultObjectInfo(b.hash), { size: b.data.length, uploader: alice, status: 'anchored' });
        assert.deepEqual(h.store.vaultObjectInfo(fetched.hash), { size: fetched.data.length, uploader: null, status: 'anchored' });
        assert.equal(h.store.vaultObjectInfo(vaultObject('unknown').hash), undefined);
        assert.deepEqual(h.store.vaultUsage(alice), { pendingObjects: 1, pendingBytes: a.data.length, anchoredBytes: b.data.length });
        assert.deepEqual(h.store.vaultUsage(bob), { pendingObjects: 1, pendingBytes: c.data.length, anchoredBytes: 0 });
        assert.deepEqual(h.store.vaultTotals(), { objects: 4, bytes: a.data.length + b.data.length + c.data.length + fetched.data.length });
        h.store.deleteVaultObjects([b.hash]);
        assert.deepEqual(h.store.vaultTotals(), { objects: 3, bytes: a.data.length + c.data.length + fetched.data.length });
        assert.deepEqual(h.store.vaultUsage(alice), { pendingObjects: 1, pendingBytes: a.data.length, anchoredBytes: 0 });
        assert.deepEqual(h.store.vaultUsage('cc'.repeat(20)), { pendingObjects: 0, pendingBytes: 0, anchoredBytes: 0 });
        // An upload of a wanted object is anchored at once, and counts as anchored.
        const wanted = vaultObject('wanted, then uploaded');
        h.store.markVaultAnchored([wanted.hash]);
        h.store.putVaultObject(wanted.hash, wanted.data, 4, bob);
        assert.deepEqual(h.store.vaultUsage(bob), { pendingObjects: 1, pendingBytes: c.data.length, anchoredBytes: wanted.data.length });
        // Anchoring twice counts once.
        h.store.markVaultAnchored([wanted.hash, c.hash, c.hash]);
        assert.deepEqual(h.store.vaultUsage(bob), {
          pendingObjects: 0,
          pendingBytes: 0,
          anchoredBytes: wanted.data.length + c.data.length,
        });
      } finally {
        h.cleanup();
      }
    });

    test('only unanchored objects created before the cutoff expire', () => {
      const h = open();
      try {
        const old = vaultObject('old');
        const fresh = vaultObject('fresh');
        const anchored = vaultObject('anchored');
        const boundary = vaultObject('boundary');
        h.store.putVaultObject(old.hash, old.data, 100);
        h.store.putVaultObject(fresh.hash, fresh.data, 200);
        h.store.putVaultObject(anchored.hash, anchored.data, 50);
        h.store.putVaultObject(boundary.hash, boundary.data, 150);
        h.store.markVaultAnchored([anchored.hash]);
        assert.equal(h.store.expireUnanchoredVaultObjects(150), 1);
        assert.equal(h.store.hasVaultObject(old.hash), false);
        assert.equal(h.store.hasVaultObject(fresh.hash), true);
        assert.equal(h.store.hasVaultObject(anchored.hash), true);
        assert.equal(h.store.hasVaultObject(boundary.hash), true);
      } finally {
        h.cleanup();
      }
    });

    test('outbox items come back in order and sequence numbers are never reused', () => {
      const h = open();
      try {
        const first = h.store.appendOutbox(['x', 'y']);
        const [s1, s2] = first as [number, number];
        assert.ok(s2 > s1);
        const [s3] = h.store.appendOutbox(['z']) as [number];
        assert.ok(s3 > s2);
        assert.deepEqual(h.store.appendOutbox([]), []);
        assert.deepEqual(h.store.loadOutbox(2), [
          { seq: s1, item: 'x' },
          { seq: s2, item: 'y' },
        ]);
        h.store.removeOutbox([s1, s3 + 1000]);
        assert.deepEqual(h.store.loadOutbox(), [
          { seq: s2, item: 'y' },
          { seq: s3, item: 'z' },
        ]);
        h.store.removeOutbox([s2, s3]);
        assert.deepEqual(h.store.loadOutbox(), []);
        // Merging: the parts go and the whole comes in one step, with a fresh number.
        const [m1, m2] = h.store.appendOutbox(['part-1', 'part-2']) as [number, number];
        const [merged] = h.store.replaceOutbox([m1, m2], ['whole']) as [number];
        assert.ok(merged > m2);
        assert.deepEqual(h.store.loadOutbox(), [{ seq: merged, item: 'whole' }]);
        h.store.removeOutbox([merged]);
        const [s4] = h.store.appendOutbox(['w']) as [number];
        assert.ok(s4 > s3);
      } finally {
        h.cleanup();
      }
    });

    test('vault objects, wanted marks and the outbox survive a reopen', (t) => {
      const h = open();
      if (h.reopen === undefined) {
        h.cleanup();
        t.diagnostic(`${name} does not persist: nothing to reopen`);
        return;
      }
      try {
        const a = vaultObject('a');
        const wanted = vaultObject('wanted');
        h.store.putVaultObject(a.hash, a.data, 7);
        h.store.markVaultAnchored([a.hash, wanted.hash]);
        const [seq] = h.store.appendOutbox(['event']) as [number];
        const again = h.reopen();
        assert.deepEqual(again.getVaultObject(a.hash), a.data);
        assert.equal(again.vaultObjectStatus(a.hash), 'anchored');
        assert.deepEqual(again.wantedVaultObjects(10), [wanted.hash]);
        assert.deepEqual(again.loadOutbox(), [{ seq, item: 'event' }]);
        assert.ok((again.appendOutbox(['next'])[0] as number) > seq);
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
