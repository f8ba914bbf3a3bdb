// The SQLite store: the shared conformance suite, plus what only a file can do — one
// writer at a time, schema versions, and equivalence with the memory twin.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { fakeBatch, runStoreConformance } from './conformance.js';
import { MemoryStore } from './memory.js';
import { openSqliteStore } from './sqlite.js';
import { StorageError } from './types.js';

function tempDb() {
  const dir = mkdtempSync(join(tmpdir(), 'medledger-store-'));
  return { dir, path: join(dir, 'chain.db') };
}

runStoreConformance('sqlite', () => {
  const { dir, path } = tempDb();
  let store = openSqliteStore(path);
  return {
    store,
    reopen: () => {
      store.close();
      store = openSqliteStore(path);
      return store;
    },
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite store specifics', () => {
  test('a second writer on the same file is refused while the first is open', () => {
    const { dir, path } = tempDb();
    const first = openSqliteStore(path);
    try {
      first.commitBlock(fakeBatch(1));
      assert.throws(
        () => openSqliteStore(path),
        (e: unknown) => e instanceof StorageError && e.code === 'LOCKED',
      );
    } finally {
      first.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a database from an unknown schema version is refused', () => {
    const { dir, path } = tempDb();
    try {
      openSqliteStore(path).close();
      const db = new Database(path);
      db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
      db.close();
      assert.throws(
        () => openSqliteStore(path),
        (e: unknown) => e instanceof StorageError && e.code === 'SCHEMA',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a read-only open sees what the writer stored', () => {
    const { dir, path } = tempDb();
    try {
      const w = openSqliteStore(path);
      w.commitBlock(fakeBatch(1, [{ key: 'a', value: '1' }]));
      w.close();
      const r = openSqliteStore(path, { readonly: true });
      assert.equal(r.tipHeight(), 1);
      assert.equal(r.getState('a'), '1');
      assert.throws(() => r.setMeta('x', 'y'), StorageError);
      r.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('random write sequences read back the same from SQLite and memory (property)', () => {
    const write = fc.record({
      key: fc.constantFrom('a', 'a/1', 'a/2', 'b', 'b/x', 'c'),
      value: fc.option(fc.string({ maxLength: 5 }), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(fc.array(write, { maxLength: 6 }), { minLength: 1, maxLength: 6 }), (blocks) => {
        const { dir, path } = tempDb();
        const sql = openSqliteStore(path);
        const mem = new MemoryStore();
        try {
          blocks.forEach((writes, i) => {
            const batch = fakeBatch(i + 1, writes, 1);
            sql.commitBlock(batch);
            mem.commitBlock(batch);
          });
          for (const prefix of ['', 'a', 'a/', 'b', 'c', 'z']) assert.deepEqual(sql.scanState(prefix), mem.scanState(prefix), prefix);
          for (const key of ['a', 'a/1', 'b', 'c']) assert.equal(sql.getState(key), mem.getState(key));
        } finally {
          sql.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });
});
