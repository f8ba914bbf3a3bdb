// The SQLite store: the shared conformance suite, plus what only a file can do — one
// writer at a time, schema versions, and equivalence with the memory twin.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { utf8 } from '@medledger/crypto';
import { updateStateTree } from '@medledger/ledger';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { fakeBatch, runStoreConformance, vaultObject } from './conformance.js';
import { MemoryStore } from './memory.js';
import { openSqliteStore } from './sqlite.js';
import { StorageError } from './types.js';

/** Whether `pattern` occurs anywhere in the file at `path` (a missing file holds nothing). */
function fileContains(path: string, pattern: Buffer): boolean {
  return existsSync(path) && readFileSync(path).includes(pattern);
}

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

  test('deleted vault objects leave no trace in the database or its WAL (secure_delete, WAL truncated)', () => {
    const { dir, path } = tempDb();
    try {
      const store = openSqliteStore(path);
      // One object spills into overflow pages, the other sits in a b-tree page beside a
      // neighbour that stays: both kinds of freed space must be wiped.
      const marker = Buffer.from('MEDLEDGER-ERASE-ME-7f3a9c');
      const large = Buffer.concat(Array.from({ length: 4000 }, () => marker));
      const small = Buffer.concat([Buffer.from('small:'), marker]);
      const keep = vaultObject('a neighbour that stays');
      for (const data of [large, small]) store.putVaultObject(vaultObject(data.toString('latin1')).hash, data, 1);
      store.putVaultObject(keep.hash, keep.data, 1);
      store.markVaultAnchored([keep.hash]);
      assert.ok(fileContains(path, marker) || fileContains(`${path}-wal`, marker), 'the pattern was written');
      const hashes = [large, small].map((d) => vaultObject(d.toString('latin1')).hash);
      assert.equal(store.deleteVaultObjects(hashes), 2);
      assert.equal(fileContains(path, marker), false, 'pattern left in the database file while open');
      assert.equal(fileContains(`${path}-wal`, marker), false, 'pattern left in the WAL while open');
      store.close();
      assert.equal(fileContains(path, marker), false, 'pattern left in the database file');
      assert.equal(fileContains(`${path}-wal`, marker), false, 'pattern left in the WAL');
      const again = openSqliteStore(path);
      assert.deepEqual(again.getVaultObject(keep.hash), keep.data);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('expired vault objects leave no trace in the database or its WAL', () => {
    const { dir, path } = tempDb();
    try {
      const store = openSqliteStore(path);
      const marker = Buffer.from('MEDLEDGER-EXPIRE-ME-41be07');
      const data = Buffer.concat(Array.from({ length: 500 }, () => marker));
      store.putVaultObject(vaultObject(data.toString('latin1')).hash, data, 1);
      assert.equal(store.expireUnanchoredVaultObjects(2), 1);
      assert.equal(fileContains(path, marker), false, 'pattern left in the database file while open');
      assert.equal(fileContains(`${path}-wal`, marker), false, 'pattern left in the WAL while open');
      store.close();
      assert.equal(fileContains(path, marker), false);
      assert.equal(fileContains(`${path}-wal`, marker), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a read-only store reads the vault and outbox and refuses to change them', () => {
    const { dir, path } = tempDb();
    try {
      const w = openSqliteStore(path);
      const a = vaultObject('a');
      w.putVaultObject(a.hash, a.data, 1);
      w.markVaultAnchored([a.hash, vaultObject('wanted').hash]);
      w.appendOutbox(['event']);
      w.close();
      const r = openSqliteStore(path, { readonly: true });
      try {
        assert.deepEqual(r.getVaultObject(a.hash), a.data);
        assert.equal(r.vaultObjectStatus(a.hash), 'anchored');
        assert.equal(r.wantedVaultObjects(10).length, 1);
        assert.equal(r.loadOutbox().length, 1);
        const isClosed = (e: unknown) => e instanceof StorageError && e.code === 'CLOSED';
        assert.throws(() => r.putVaultObject(vaultObject('b').hash, utf8('b'), 1), isClosed);
        assert.throws(() => r.deleteVaultObjects([a.hash]), isClosed);
        assert.throws(() => r.markVaultAnchored([a.hash]), isClosed);
        assert.throws(() => r.unwantVaultObject(a.hash), isClosed);
        assert.throws(() => r.expireUnanchoredVaultObjects(10), isClosed);
        assert.throws(() => r.appendOutbox(['x']), isClosed);
        assert.throws(() => r.removeOutbox([1]), isClosed);
      } finally {
        r.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a database made before the vault tables existed opens, read-only and for writing', () => {
    const { dir, path } = tempDb();
    try {
      openSqliteStore(path).close();
      const db = new Database(path);
      db.exec('DROP TABLE vault_objects; DROP TABLE vault_wanted; DROP TABLE outbox;');
      db.close();
      const r = openSqliteStore(path, { readonly: true });
      assert.equal(r.getVaultObject(vaultObject('a').hash), undefined);
      assert.equal(r.vaultObjectStatus(vaultObject('a').hash), undefined);
      assert.deepEqual(r.wantedVaultObjects(10), []);
      assert.deepEqual(r.loadOutbox(), []);
      r.close();
      const w = openSqliteStore(path);
      const a = vaultObject('a');
      assert.equal(w.putVaultObject(a.hash, a.data, 1), true);
      w.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a vault made before uploaders were recorded gains the column and keeps its objects, with no uploader', () => {
    const { dir, path } = tempDb();
    try {
      openSqliteStore(path).close();
      const old = vaultObject('old object');
      const db = new Database(path);
      db.exec(
        'DROP TRIGGER vault_usage_insert; DROP TRIGGER vault_usage_anchor; DROP TRIGGER vault_usage_delete; DROP TABLE vault_usage; DROP INDEX vault_objects_uploader; ALTER TABLE vault_objects DROP COLUMN uploader;',
      );
      db.prepare('INSERT INTO vault_objects (hash, data, created_at, anchored) VALUES (?, ?, 1, 1)').run(old.hash, Buffer.from(old.data));
      db.close();
      const r = openSqliteStore(path, { readonly: true });
      assert.deepEqual(r.getVaultObject(old.hash), old.data);
      r.close();
      const w = openSqliteStore(path);
      assert.deepEqual(w.vaultObjectInfo(old.hash), { size: old.data.length, uploader: null, status: 'anchored' });
      const fresh = vaultObject('fresh');
      w.putVaultObject(fresh.hash, fresh.data, 2, 'aa'.repeat(20));
      assert.deepEqual(w.vaultUsage('aa'.repeat(20)), { pendingObjects: 1, pendingBytes: fresh.data.length, anchoredBytes: 0 });
      w.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('blocks stored before headers had their own column: headers read from the block, read-only and after the column is added', () => {
    const { dir, path } = tempDb();
    try {
      openSqliteStore(path).close();
      const db = new Database(path);
      db.exec('ALTER TABLE blocks DROP COLUMN header;');
      const b = fakeBatch(1, [{ key: 'k', value: 'v' }]);
      db.prepare('INSERT INTO blocks (height, hash, block, commit_json, results) VALUES (?, ?, ?, ?, ?)').run(
        1,
        b.hash,
        JSON.stringify(b.block),
        JSON.stringify(b.commit),
        JSON.stringify(b.results),
      );
      db.close();
      const want = { hash: b.hash, header: b.block.header, commit: b.commit };
      const r = openSqliteStore(path, { readonly: true });
      assert.deepEqual(r.loadHeader(1), want);
      r.close();
      const w = openSqliteStore(path);
      assert.deepEqual(w.loadHeader(1), want, 'the old row, with no header column value');
      w.commitBlock(fakeBatch(2, [{ key: 'k2', value: 'v2' }]));
      assert.equal(w.loadHeader(2)?.header.height, 2);
      w.close();
      const raw = new Database(path, { readonly: true });
      assert.deepEqual(
        raw.prepare('SELECT height, header IS NULL AS missing FROM blocks ORDER BY height').all(),
        [
          { height: 1, missing: 1 },
          { height: 2, missing: 0 },
        ],
        'new blocks store their header apart',
      );
      raw.close();
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
            const batch = fakeBatch(i + 1, writes, 1, updateStateTree(sql, sql.stateRoot(), writes));
            sql.commitBlock(batch);
            mem.commitBlock(batch);
            assert.equal(updateStateTree(mem, mem.stateRoot(), []).root, sql.stateRoot());
          });
          const probe = updateStateTree(mem, mem.stateRoot(), [{ key: 'z', value: '1' }]);
          assert.deepEqual(updateStateTree(sql, sql.stateRoot(), [{ key: 'z', value: '1' }]), probe, 'both stores hold the same tree');
          for (const prefix of ['', 'a', 'a/', 'b', 'c', 'z']) {
            assert.deepEqual(sql.scanState(prefix), mem.scanState(prefix), prefix);
            assert.deepEqual(sql.scanState(prefix, { reverse: true }), mem.scanState(prefix, { reverse: true }), `${prefix} reversed`);
            assert.deepEqual(sql.scanState(prefix, { reverse: true }), [...sql.scanState(prefix)].reverse(), `${prefix} mirrored`);
          }
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
