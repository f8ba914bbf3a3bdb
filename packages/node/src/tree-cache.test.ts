// The state-tree node cache: hot nodes survive a generation rotation, new nodes are served
// without a store read, and a node's bytes are always the store's (content-addressed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StateTreeReader } from '@medledger/ledger';
import { TreeNodeCache } from './tree-cache.js';

function countingStore(): StateTreeReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    getTreeNode(hash: string) {
      reads.push(hash);
      return hash.startsWith('missing') ? undefined : Uint8Array.of(hash.length);
    },
  };
}

test('a node read often stays cached across generations; one not read again is dropped after two', () => {
  const store = countingStore();
  const cache = new TreeNodeCache(store, 3);
  cache.getTreeNode('top');
  // Fill three generations with other nodes, reading the top node in each (as every block does).
  for (let i = 0; i < 9; i++) {
    cache.getTreeNode(`n${i}`);
    if (i % 3 === 2) cache.getTreeNode('top');
  }
  assert.equal(store.reads.filter((h) => h === 'top').length, 1, 'the hot node was read from the store once');
  assert.ok(cache.size <= 6, 'at most two generations are held');
  cache.getTreeNode('n0');
  assert.equal(store.reads.filter((h) => h === 'n0').length, 2, 'a cold node was dropped and read again');
});

test('a committed block’s new nodes are served without a store read, and misses are not cached', () => {
  const store = countingStore();
  const cache = new TreeNodeCache(store, 10);
  const bytes = Uint8Array.of(1, 2, 3);
  cache.add({ root: 'r', put: [{ hash: 'new', bytes }], remove: [] });
  assert.equal(cache.getTreeNode('new'), bytes);
  assert.equal(cache.getTreeNode('missing-1'), undefined);
  assert.equal(cache.getTreeNode('missing-1'), undefined);
  assert.deepEqual(store.reads, ['missing-1', 'missing-1']);
});

test('a new node kept across a generation gets its own bytes, so its block’s chunk is not kept alive', () => {
  const cache = new TreeNodeCache(countingStore(), 2);
  const chunk = new Uint8Array(65 * 4).fill(7);
  const view = new Uint8Array(chunk.buffer, 65, 65);
  cache.add({ root: 'r', put: [{ hash: 'kept', bytes: view }], remove: [] });
  assert.equal(cache.getTreeNode('kept'), view, 'served as added while in its generation');
  cache.getTreeNode('a');
  cache.getTreeNode('b'); // rotates: 'kept' is now in the previous generation
  const moved = cache.getTreeNode('kept');
  assert.deepEqual(moved, view);
  assert.notEqual(moved?.buffer, chunk.buffer, 'copied out of the chunk');
  assert.equal(moved?.buffer.byteLength, 65);
  const own = Uint8Array.of(1, 2, 3);
  cache.add({ root: 'r', put: [{ hash: 'own', bytes: own }], remove: [] });
  cache.getTreeNode('c');
  cache.getTreeNode('d');
  assert.equal(cache.getTreeNode('own'), own, 'bytes that own their buffer are kept as they are');
});
