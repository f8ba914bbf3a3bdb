// The tree journal (tree-journal.ts): whatever has reached state_nodes and whatever still
// waits in the journal, the store reads exactly the committed tree, after every block, after
// a reopen, in a read-only open, after a failed commit and after a kill -9 at any statement.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MemoryStateTree, proveStateKey, updateStateTree } from '@medledger/ledger';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { fakeBatch } from './conformance.js';
import { runUntilKilled } from './crash-child.js';
import { openSqliteStore, type SqliteStore } from './sqlite.js';
import { type StateWrite, StorageError } from './types.js';

/** Block `height`'s writes (new keys, updates of old ones, deletes), the same for the same seed. */
function blockWrites(seed: number, height: number, keys: number): StateWrite[] {
  const write = fc.record({ k: fc.nat(keys - 1), del: fc.integer({ min: 0, max: 4 }), v: fc.nat(999) });
  const [writes] = fc.sample(fc.array(write, { minLength: 1, maxLength: 40 }), { seed: seed * 7919 + height, numRuns: 1 });
  return (writes ?? []).map(({ k, del, v }) => ({ key: `k/${k}`, value: del === 0 ? null : `v${height}/${v}` }));
}

type Db = Database.Database;
const dbOf = (store: SqliteStore): Db => (store as unknown as { db: Db }).db;

/** The store reads the model's tree exactly: every node it holds, none it removed, the same proofs. */
function assertSameTree(store: SqliteStore, model: MemoryStateTree, removed: Set<string>, keys: number, where: string): void {
  assert.equal(store.stateRoot(), model.root, `${where}: state root`);
  for (const [hash, bytes] of model.nodes) assert.deepEqual(store.getTreeNode(hash), bytes, `${where}: node ${hash}`);
  for (const hash of removed)
    if (!model.nodes.has(hash)) assert.equal(store.getTreeNode(hash), undefined, `${where}: removed node ${hash}`);
  for (let k = 0; k < keys; k++)
    assert.deepEqual(
      proveStateKey(store, store.stateRoot(), `k/${k}`),
      proveStateKey(model, model.root, `k/${k}`),
      `${where}: proof of k/${k}`,
    );
}

function tableHashes(db: Db): Set<string> {
  return new Set((db.prepare('SELECT hash FROM state_nodes').all() as Array<{ hash: Buffer }>).map((r) => r.hash.toString('hex')));
}

/**
 * What a restart would read: state_nodes, then every journal row replayed in height order
 * (removes, then puts). Checked after each block, so a journal trimmed too early shows at once.
 */
function replayed(db: Db): Map<string, string> {
  const nodes = new Map<string, string>();
  for (const r of db.prepare('SELECT hash, node FROM state_nodes').iterate() as Iterable<{ hash: Buffer; node: Buffer }>)
    nodes.set(r.hash.toString('hex'), r.node.toString('hex'));
  const rows = db.prepare('SELECT puts, removes FROM tree_journal ORDER BY height').all() as Array<{ puts: Buffer; removes: Buffer }>;
  for (const { puts, removes } of rows) {
    for (let at = 0; at < removes.length; at += 32) nodes.delete(removes.toString('hex', at, at + 32));
    for (let at = 0; at < puts.length; ) {
      const length = puts.readUInt32BE(at + 32);
      nodes.set(puts.toString('hex', at, at + 32), puts.toString('hex', at + 36, at + 36 + length));
      at += 36 + length;
    }
  }
  return nodes;
}

const hexNodes = (model: MemoryStateTree): Map<string, string> =>
  new Map([...model.nodes].map(([hash, bytes]) => [hash, Buffer.from(bytes).toString('hex')]));

const journalRows = (db: Db): number => (db.prepare('SELECT COUNT(*) AS n FROM tree_journal').get() as { n: number }).n;

/** Commit `height` to both the store and the model; returns the batch. */
function commitBoth(store: SqliteStore, model: MemoryStateTree, removed: Set<string>, writes: StateWrite[], height: number) {
  const update = updateStateTree(store, store.stateRoot(), writes);
  const batch = fakeBatch(height, writes, 1, update);
  store.commitBlock(batch);
  model.apply(updateStateTree(model, model.root, writes));
  for (const hash of update.remove) removed.add(hash);
  return batch;
}

describe('tree journal', () => {
  test('60 seeded blocks with a small journal (by age and by size): the tree reads exactly, then after reopen, read-only, and once written out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medledger-journal-'));
    try {
      const path = join(dir, 'chain.db');
      const keys = 120;
      const opts = { treeJournal: { maxAgeBlocks: 4, maxPending: 300 } };
      let store = openSqliteStore(path, opts);
      const model = new MemoryStateTree();
      const removed = new Set<string>();
      let sawJournal = false;
      let sawFlush = false;
      for (let height = 1; height <= 60; height++) {
        commitBoth(store, model, removed, blockWrites(1, height, keys), height);
        const rows = journalRows(dbOf(store));
        const table = tableHashes(dbOf(store));
        sawJournal ||= rows > 0 && [...model.nodes.keys()].some((h) => !table.has(h));
        sawFlush ||= [...model.nodes.keys()].some((h) => table.has(h));
        assertSameTree(store, model, removed, keys, `block ${height}`);
        assert.deepEqual(replayed(dbOf(store)), hexNodes(model), `block ${height}: state_nodes plus the journal is the tree`);
        if (height % 20 === 0) {
          store.close();
          store = openSqliteStore(path, opts);
          assertSameTree(store, model, removed, keys, `block ${height}, reopened`);
        }
      }
      assert.ok(sawJournal, 'some nodes were only in the journal');
      assert.ok(sawFlush, 'some nodes reached state_nodes');
      store.close();

      const reader = openSqliteStore(path, { readonly: true });
      try {
        assertSameTree(reader, model, removed, keys, 'read-only');
      } finally {
        reader.close();
      }

      // maxAgeBlocks 0: the next block writes every waiting change out and empties the journal.
      store = openSqliteStore(path, { treeJournal: { maxAgeBlocks: 0 } });
      commitBoth(store, model, removed, blockWrites(1, 61, keys), 61);
      assert.equal(journalRows(dbOf(store)), 0, 'the journal is empty');
      assert.deepEqual(tableHashes(dbOf(store)), new Set(model.nodes.keys()), 'state_nodes alone is the tree, nothing more');
      assertSameTree(store, model, removed, keys, 'written out');
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a block whose transaction fails leaves the tree as the previous block left it, and commits afterwards', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medledger-journal-'));
    try {
      const store = openSqliteStore(join(dir, 'chain.db'), { treeJournal: { maxAgeBlocks: 2, maxPending: 100 } });
      const model = new MemoryStateTree();
      const removed = new Set<string>();
      for (let height = 1; height <= 6; height++) commitBoth(store, model, removed, blockWrites(2, height, 80), height);
      const writes = blockWrites(2, 7, 80);
      const update = updateStateTree(store, store.stateRoot(), writes);
      assert.ok(update.remove.length > 0, 'block 7 removes nodes');
      // The block's last statement fails, after its journal row and written-out changes.
      dbOf(store).exec(
        "CREATE TEMP TRIGGER fail_root BEFORE INSERT ON main.meta WHEN NEW.key = 'state_root' BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
      );
      dbOf(store).exec(
        "CREATE TEMP TRIGGER fail_root_update BEFORE UPDATE ON main.meta WHEN NEW.key = 'state_root' BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
      );
      assert.throws(() => store.commitBlock(fakeBatch(7, writes, 1, update)), /disk trouble/);
      assert.equal(store.tipHeight(), 6);
      assertSameTree(store, model, removed, 80, 'after the failed block');
      dbOf(store).exec('DROP TRIGGER temp.fail_root; DROP TRIGGER temp.fail_root_update');
      commitBoth(store, model, removed, writes, 7);
      assertSameTree(store, model, removed, 80, 'block 7 on the second try');
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('limits that are not non-negative integers are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medledger-journal-'));
    try {
      for (const treeJournal of [{ maxAgeBlocks: -1 }, { maxPending: 1.5 }, { maxPending: Number.NaN }])
        assert.throws(() => openSqliteStore(join(dir, 'chain.db'), { treeJournal }), RangeError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a version-2 file (no journal) opens read-only as it is, and a writer upgrades it to version 3', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medledger-journal-'));
    try {
      const path = join(dir, 'chain.db');
      const model = new MemoryStateTree();
      const removed = new Set<string>();
      let store = openSqliteStore(path, { treeJournal: { maxAgeBlocks: 0 } });
      for (let height = 1; height <= 3; height++) commitBoth(store, model, removed, blockWrites(3, height, 50), height);
      store.close();
      // What a version-2 node left: no tree_journal table, version '2'.
      const raw = new Database(path);
      raw.exec("DROP TABLE tree_journal; UPDATE meta SET value = '2' WHERE key = 'schema_version'");
      raw.close();
      const reader = openSqliteStore(path, { readonly: true });
      assertSameTree(reader, model, removed, 50, 'version 2, read-only');
      reader.close();
      store = openSqliteStore(path);
      const version = dbOf(store).prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string };
      assert.equal(version.value, '3');
      commitBoth(store, model, removed, blockWrites(3, 4, 50), 4);
      assertSameTree(store, model, removed, 50, 'upgraded, block 4');
      store.close();
      const raw2 = new Database(path);
      raw2.exec("UPDATE meta SET value = '4' WHERE key = 'schema_version'");
      raw2.close();
      assert.throws(
        () => openSqliteStore(path),
        (e: unknown) => e instanceof StorageError && e.code === 'SCHEMA',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Run in a child process: commit blocks 1..(N-1) with a small journal, then block N with a
 * trigger that SIGKILLs the process at a chosen statement of its transaction. Prints block
 * N-1's root first.
 */
const CRASH_CHILD = `
import { writeSync } from 'node:fs';
import { updateStateTree } from ${JSON.stringify(import.meta.resolve('@medledger/ledger'))};
import { fakeBatch } from ${JSON.stringify(new URL('./conformance.ts', import.meta.url).href)};
import { openSqliteStore } from ${JSON.stringify(new URL('./sqlite.ts', import.meta.url).href)};
const [path, blocksJson, trigger] = process.argv.slice(2);
const blocks = JSON.parse(blocksJson);
const store = openSqliteStore(path, { treeJournal: { maxAgeBlocks: 3, maxPending: 5000 } });
blocks.forEach((writes, i) => {
  if (i === blocks.length - 1) {
    const db = store.db;
    db.function('crash_now', () => process.kill(process.pid, 'SIGKILL'));
    db.exec(trigger);
    writeSync(1, store.stateRoot() + '\\n');
  }
  store.commitBlock(fakeBatch(i + 1, writes, 1, updateStateTree(store, store.stateRoot(), writes)));
});
writeSync(1, 'not killed\\n');
`;

describe('kill -9 during a block with the tree journal', () => {
  const cases = {
    'at its journal row': 'CREATE TEMP TRIGGER crash BEFORE INSERT ON main.tree_journal BEGIN SELECT crash_now(); END',
    'while writing out old removals': 'CREATE TEMP TRIGGER crash BEFORE DELETE ON main.state_nodes BEGIN SELECT crash_now(); END',
    'while trimming the journal': 'CREATE TEMP TRIGGER crash BEFORE DELETE ON main.tree_journal BEGIN SELECT crash_now(); END',
  };
  for (const [where, trigger] of Object.entries(cases)) {
    test(`killed ${where}: restarts at the previous block with its tree whole, and commits the block again`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'medledger-journal-crash-'));
      try {
        const path = join(dir, 'chain.db');
        const script = join(dir, 'child.mts');
        writeFileSync(script, CRASH_CHILD);
        const blocks = Array.from({ length: 12 }, (_, i) => blockWrites(4, i + 1, 90));
        const committedRoot = runUntilKilled(script, [path, JSON.stringify(blocks), trigger]);

        const model = new MemoryStateTree();
        const removed = new Set<string>();
        for (const writes of blocks.slice(0, 11)) {
          const update = updateStateTree(model, model.root, writes);
          model.apply(update);
          for (const hash of update.remove) removed.add(hash);
        }
        assert.equal(committedRoot, model.root);
        const store = openSqliteStore(path);
        try {
          assert.equal(store.tipHeight(), 11);
          assertSameTree(store, model, removed, 90, 'after the kill');
          commitBoth(store, model, removed, blocks[11] as StateWrite[], 12);
          assertSameTree(store, model, removed, 90, 'block 12 after restart');
        } finally {
          store.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
