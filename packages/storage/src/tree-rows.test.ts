// The block commit's multi-row statements and node order: every row written once and in
// order whatever the batch size, and a crash between two of a block's statements leaves
// the previous height with nothing of the block (DESIGN §9).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EMPTY_STATE_ROOT, updateStateTree } from '@medledger/ledger';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { fakeBatch } from './conformance.js';
import { runUntilKilled } from './crash-child.js';
import { MemoryStore } from './memory.js';
import { bindList, MultiRowStatement, valueTuples } from './multi-row.js';
import { openSqliteStore } from './sqlite.js';
import { inKeyBuckets } from './tree-rows.js';
import type { StateWrite } from './types.js';

describe('multi-row statements', () => {
  for (const rows of [0, 1, 3, 4, 5, 8, 11]) {
    test(`${rows} rows in chunks of 4 (not a multiple of the chunk when ${rows} % 4 ≠ 0) are all written, in order`, () => {
      const db = new Database(':memory:');
      db.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT NOT NULL, b INTEGER NOT NULL)');
      const prepared: number[] = [];
      const insert = new MultiRowStatement(
        db,
        (n) => {
          prepared.push(n);
          return `INSERT INTO t (a, b) VALUES ${valueTuples(n, 2)}`;
        },
        4,
      );
      const input = Array.from({ length: rows }, (_, i) => [`row${i}`, i * 10]);
      assert.equal(insert.run(input), rows);
      assert.equal(insert.run(input), rows, 'the second run reuses the prepared statements');
      const stored = db.prepare('SELECT a, b FROM t ORDER BY seq').all() as Array<{ a: string; b: number }>;
      assert.deepEqual(
        stored.map((r) => [r.a, r.b]),
        [...input, ...input],
      );
      assert.deepEqual(prepared, [...new Set(prepared)], 'each chunk size is prepared once');
      assert.ok(prepared.every((n) => n >= 1 && n <= 4));
      const del = new MultiRowStatement(db, (n) => `DELETE FROM t WHERE a IN (${bindList(n)})`, 4);
      assert.equal(del.run(input.map((r) => [r[0]])), 2 * rows);
      db.close();
    });
  }

  test('a chunk size that is not a positive integer is refused', () => {
    const db = new Database(':memory:');
    for (const chunk of [0, -1, 1.5]) assert.throws(() => new MultiRowStatement(db, () => 'SELECT 1', chunk), RangeError);
    db.close();
  });
});

describe('node order', () => {
  const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

  test('hashes grouped by their first three hex digits: a stable permutation (property)', () => {
    fc.assert(
      fc.property(fc.array(hex, { maxLength: 300 }), (hashes) => {
        const items = hashes.map((hash, i) => ({ hash, i }));
        const out = inKeyBuckets(items, (x) => x.hash);
        assert.deepEqual(
          [...out].sort((a, b) => a.i - b.i),
          items,
          'every item exactly once',
        );
        for (let k = 1; k < out.length; k++) {
          const [prev, cur] = [out[k - 1], out[k]] as [(typeof items)[number], (typeof items)[number]];
          const [p, c] = [prev.hash.slice(0, 3), cur.hash.slice(0, 3)];
          assert.ok(p < c || (p === c && prev.i < cur.i), 'bucket order, input order within a bucket');
        }
      }),
    );
  });

  test('a hash that is not lowercase hex is still kept (first bucket)', () => {
    const out = inKeyBuckets(['fff0', 'ZZ', '000a', ''], (h) => h);
    assert.deepEqual(out, ['ZZ', '000a', '', 'fff0']);
  });
});

/**
 * Run in a child process, with the tree journal off (every block's nodes written with it; the
 * journal's own crash test is in tree-journal.test.ts): store block 1, then start block 2 with a trigger that SIGKILLs the
 * process when SQLite reaches a node row in the third chunk of node inserts, after the
 * block row, tx index, state rows, node deletes and two node chunks are already written in
 * the open transaction. Prints block 2's tx hashes first, so the parent can look for them.
 */
const CRASH_CHILD = `
import { writeSync } from 'node:fs';
import { txHash, updateStateTree } from ${JSON.stringify(import.meta.resolve('@medledger/ledger'))};
import { fakeBatch } from ${JSON.stringify(new URL('./conformance.ts', import.meta.url).href)};
import { openSqliteStore } from ${JSON.stringify(new URL('./sqlite.ts', import.meta.url).href)};
import { inKeyBuckets } from ${JSON.stringify(new URL('./tree-rows.ts', import.meta.url).href)};
const [path, first, second] = process.argv.slice(2);
// maxAgeBlocks 0: each block's nodes go straight to state_nodes, as the trigger needs.
const store = openSqliteStore(path, { treeJournal: { maxAgeBlocks: 0 } });
store.commitBlock(fakeBatch(1, JSON.parse(first), 2, updateStateTree(store, store.stateRoot(), JSON.parse(first))));
const writes = JSON.parse(second);
const batch = fakeBatch(2, writes, 3, updateStateTree(store, store.stateRoot(), writes));
const ordered = inKeyBuckets(batch.tree.put, (n) => n.hash);
if (ordered.length < 3 * 64) throw new Error('block 2 needs three chunks of nodes, has ' + ordered.length + ' nodes');
if (batch.tree.remove.length === 0) throw new Error('block 2 must also remove nodes');
const db = store.db;
db.function('crash_now', () => process.kill(process.pid, 'SIGKILL'));
db.exec("CREATE TEMP TRIGGER crash BEFORE INSERT ON main.state_nodes WHEN NEW.hash = X'" + ordered[2 * 64 + 5].hash + "' BEGIN SELECT crash_now(); END");
writeSync(1, JSON.stringify(batch.block.txs.map((tx) => txHash(tx))) + '\\n');
store.commitBlock(batch);
writeSync(1, 'not killed\\n');
`;

describe('crash during a block commit', () => {
  test('a node killed between two multi-row statements of a block restarts at the previous height with nothing of the block', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medledger-crash-'));
    try {
      const path = join(dir, 'chain.db');
      const script = join(dir, 'child.mts');
      writeFileSync(script, CRASH_CHILD);
      const first: StateWrite[] = Array.from({ length: 150 }, (_, i) => ({ key: `k/${i}`, value: `one${i}` }));
      // Updates of block 1's keys (so nodes are removed), deletes and new keys.
      const second: StateWrite[] = [
        ...Array.from({ length: 60 }, (_, i) => ({ key: `k/${i}`, value: `two${i}` })),
        ...Array.from({ length: 10 }, (_, i) => ({ key: `k/${100 + i}`, value: null })),
        ...Array.from({ length: 60 }, (_, i) => ({ key: `new/${i}`, value: `v${i}` })),
      ];
      const block2Txs = JSON.parse(runUntilKilled(script, [path, JSON.stringify(first), JSON.stringify(second)])) as string[];

      const store = openSqliteStore(path);
      try {
        assert.equal(store.tipHeight(), 1);
        assert.equal(store.loadBlock(2), undefined);
        for (const hash of block2Txs) assert.equal(store.findTx(hash), undefined, 'no tx index row of block 2');
        // What block 1 alone leaves, kept in memory to compare the recovered file with.
        const blockOne = new MemoryStore();
        blockOne.commitBlock(fakeBatch(1, first, 2, updateStateTree(blockOne, EMPTY_STATE_ROOT, first)));
        assert.equal(store.stateRoot(), blockOne.stateRoot(), "block 1's state root");
        for (const w of first) assert.equal(store.getState(w.key), w.value, `${w.key} as block 1 left it`);
        for (let i = 0; i < 60; i++) assert.equal(store.getState(`new/${i}`), undefined);
        // Block 1's tree is whole (no node deleted by the lost block) and block 2's new nodes are absent.
        const again = fakeBatch(2, second, 3, updateStateTree(store, store.stateRoot(), second));
        // A node block 2 creates may equal one block 1 stored (a leaf moved up when its sibling went).
        const newNodes = again.tree.put.filter((n) => blockOne.getTreeNode(n.hash) === undefined);
        assert.ok(newNodes.length > 2 * 64, 'the lost block spanned several node chunks');
        for (const n of newNodes) assert.equal(store.getTreeNode(n.hash), undefined, 'no node of block 2');
        for (const hash of again.tree.remove) assert.notEqual(store.getTreeNode(hash), undefined, 'no node removed by block 2');
        // And block 2 commits cleanly on restart.
        store.commitBlock(again);
        assert.equal(store.tipHeight(), 2);
        assert.equal(store.stateRoot(), again.tree.root);
        assert.equal(store.getState('new/59'), 'v59');
        assert.equal(store.getState('k/100'), undefined);
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
