// The application's store under CometBFT: one block's writes land together with the new
// (height, app hash, time), a skipped height writes nothing, and one process holds the file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EMPTY_STATE_ROOT, MemoryStateTree, updateStateTree } from '@medledger/ledger';
import { SqliteAppState } from './app-state.js';
import { StorageError } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'medledger-app-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const APP_HASH = 'ab'.repeat(32);
const RESULTS_ROOT = 'ef'.repeat(32);

test('a block is saved whole with its height, app hash and time; a skipped height writes nothing', () => {
  const path = join(dir, 'a.db');
  const store = new SqliteAppState(path);
  assert.deepEqual(store.lastCommitted(), { height: 0, appHash: '', time: 0, resultsRoot: '' });
  assert.equal(store.stateRoot(), EMPTY_STATE_ROOT);
  const writes = [
    { key: 'nonce/a', value: '1' },
    { key: 'nonce/b', value: '2' },
  ];
  const tree = updateStateTree(new MemoryStateTree(), EMPTY_STATE_ROOT, writes);
  const result = { code: 'ok', log: '' };
  store.saveBlock({
    height: 1,
    appHash: APP_HASH,
    time: 5,
    resultsRoot: RESULTS_ROOT,
    writes,
    tree,
    txs: [{ hash: 'cd'.repeat(32), result }],
  });
  assert.throws(
    () =>
      store.saveBlock({
        height: 3,
        appHash: APP_HASH,
        time: 6,
        resultsRoot: RESULTS_ROOT,
        writes: [{ key: 'nonce/c', value: '1' }],
        tree,
        txs: [],
      }),
    (err: unknown) => err instanceof StorageError && err.code === 'HEIGHT_MISMATCH',
  );
  assert.equal(store.getState('nonce/c'), undefined);
  assert.throws(
    () => new SqliteAppState(path),
    (err: unknown) => err instanceof StorageError && err.code === 'LOCKED',
  );
  store.close();

  const reopened = new SqliteAppState(path);
  assert.deepEqual(reopened.lastCommitted(), { height: 1, appHash: APP_HASH, time: 5, resultsRoot: RESULTS_ROOT });
  assert.equal(reopened.stateRoot(), tree.root);
  assert.deepEqual(reopened.scanState('nonce/'), [
    ['nonce/a', '1'],
    ['nonce/b', '2'],
  ]);
  assert.deepEqual(reopened.findTx('cd'.repeat(32)), { height: 1, index: 0, result });
  for (const n of tree.put) assert.deepEqual(reopened.getTreeNode(n.hash), n.bytes);
  reopened.close();
});
