// The SQLite store (DESIGN §9): one database per node home, WAL journal, and every write
// for a block in one transaction, so a crash leaves the previous or the next height.
import { EMPTY_STATE_ROOT, type TxResult, txHash } from '@medledger/ledger';
import Database from 'better-sqlite3';
import {
  DeferredTreeNodes,
  type DeferredTreeOptions,
  type StagedTreeWrite,
  TREE_JOURNAL_SCHEMA,
  treeJournalOptions,
} from './tree-journal.js';
import { TreeNodeRows } from './tree-rows.js';
import {
  type BlockCommitBatch,
  type NodeStore,
  type RawBlock,
  type ScanOptions,
  type SnapshotInstallBatch,
  StorageError,
  type StoredBlock,
  type StoredHeader,
  type TxLocation,
  type VaultObjectInfo,
  type VaultObjectStatus,
  type VaultUsage,
} from './types.js';

// 2: the state tree (state_nodes, meta 'state_root') and the v2 app hash; a version-1
// database holds a chain whose app hashes this node no longer computes.
// 3: the tree journal (tree-journal.ts): state_nodes alone is no longer the tip's tree, so a
// node that only knows version 2 must not open the file. A version-2 file is upgraded on open
// (its journal starts empty).
const SCHEMA_VERSION = '3';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (
  height INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  block TEXT NOT NULL,
  commit_json TEXT NOT NULL,
  results TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (hash TEXT PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL) WITHOUT ROWID;
-- State values as a rowid table (an index on key beside it), not WITHOUT ROWID: a claim
-- or a record's anchor is a kilobyte or more, and SQLite's WITHOUT ROWID B-tree, made for
-- rows under about a twentieth of a page, split and rewrote whole leaf pages for each one
-- (scripts/claim-cost.mjs: storing a block of claims took about 40 % less; docs/state.md).
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- State-tree nodes by their 32-byte hash (BLOB keys: half the index of hex text).
CREATE TABLE IF NOT EXISTS state_nodes (hash BLOB PRIMARY KEY, node BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vault_objects (
  hash TEXT PRIMARY KEY,
  data BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  anchored INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS vault_objects_unanchored ON vault_objects (created_at) WHERE anchored = 0;
CREATE TABLE IF NOT EXISTS vault_wanted (hash TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL);
`;

/** Who uploaded each object (vault quotas); added to vault_objects after it first shipped. */
/**
 * Each block's header, apart from its transactions, so that a light client's header walk does
 * not parse megabytes of transactions per header. Files from before it have NULL there, and
 * the header is then read out of the block by SQLite (loadHeader).
 */
const HEADER_COLUMN = `
ALTER TABLE blocks ADD COLUMN header TEXT;
`;
const UPLOADER_COLUMN = `
ALTER TABLE vault_objects ADD COLUMN uploader TEXT;
`;
/**
 * Quota bookkeeping: an index that covers one uploader's pending sizes, and a running total of
 * each uploader's anchored bytes that triggers keep exact in the same transaction as every
 * insert, anchoring and delete, so a quota check costs one lookup however much is anchored.
 */
const UPLOADER_INDEX = `
CREATE INDEX IF NOT EXISTS vault_objects_uploader ON vault_objects (uploader, anchored, length(data)) WHERE uploader IS NOT NULL;
CREATE TABLE IF NOT EXISTS vault_usage (uploader TEXT PRIMARY KEY, anchored_bytes INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS vault_usage_insert AFTER INSERT ON vault_objects
  WHEN NEW.anchored = 1 AND NEW.uploader IS NOT NULL
BEGIN
  INSERT INTO vault_usage (uploader, anchored_bytes) VALUES (NEW.uploader, length(NEW.data))
    ON CONFLICT (uploader) DO UPDATE SET anchored_bytes = anchored_bytes + excluded.anchored_bytes;
END;
CREATE TRIGGER IF NOT EXISTS vault_usage_anchor AFTER UPDATE OF anchored ON vault_objects
  WHEN OLD.anchored = 0 AND NEW.anchored = 1 AND NEW.uploader IS NOT NULL
BEGIN
  INSERT INTO vault_usage (uploader, anchored_bytes) VALUES (NEW.uploader, length(NEW.data))
    ON CONFLICT (uploader) DO UPDATE SET anchored_bytes = anchored_bytes + excluded.anchored_bytes;
END;
CREATE TRIGGER IF NOT EXISTS vault_usage_delete AFTER DELETE ON vault_objects
  WHEN OLD.anchored = 1 AND OLD.uploader IS NOT NULL
BEGIN
  UPDATE vault_usage SET anchored_bytes = anchored_bytes - length(OLD.data) WHERE uploader = OLD.uploader;
END;
`;

/** Meta row holding the committed state tree's root, written with each block. */
const STATE_ROOT_META = 'state_root';
/** How many blocks' parsed results `findTx` keeps. */
const RECENT_RESULTS = 4;

/** Tables added after schema version 1 shipped; a read-only open of an older file lacks them. */
const LATER_TABLES = ['vault_objects', 'vault_wanted', 'outbox'];

export interface SqliteStoreOptions {
  /** Open for reading only (the `verify` command). */
  readonly?: boolean;
  /** When a block's state-tree nodes reach state_nodes (tree-journal.ts); the defaults suit a validator. */
  treeJournal?: DeferredTreeOptions;
}

/**
 * Open (creating if needed) a node database. A writer takes an exclusive lock for as long
 * as it is open, so a second node on the same file fails with StorageError('LOCKED').
 */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, opts);
}

export class SqliteStore implements NodeStore {
  private readonly db: Database.Database;
  private readonly stmts;
  private tip: number;
  private readonly recentResults = new Map<number, TxResult[]>();
  /** The node rows of a block's state tree; undefined when read-only. */
  private readonly treeRows: TreeNodeRows | undefined;
  /** The tree nodes of recent blocks, journalled and not yet in state_nodes. */
  private readonly deferred: DeferredTreeNodes;

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    // Checked before the file is opened (and locked).
    const treeJournal = treeJournalOptions(opts.treeJournal);
    try {
      this.db = new Database(path, { readonly: opts.readonly === true, fileMustExist: opts.readonly === true, timeout: 0 });
      if (!opts.readonly) {
        this.db.pragma('journal_mode = WAL');
        // FULL: the signer state must be on disk before a vote leaves the node.
        this.db.pragma('synchronous = FULL');
        // Erased health records must not linger in free pages (docs/records.md, erasure).
        this.db.pragma('secure_delete = ON');
        this.db.exec(SCHEMA);
        this.db.exec(TREE_JOURNAL_SCHEMA);
        if (!this.hasColumn('vault_objects', 'uploader')) this.db.exec(UPLOADER_COLUMN);
        if (!this.hasColumn('blocks', 'header')) this.db.exec(HEADER_COLUMN);
        this.db.exec(UPLOADER_INDEX);
        // Held until close: one writer per database file.
        this.db.exec('BEGIN IMMEDIATE');
        this.db.exec('COMMIT');
        this.db.pragma('locking_mode = EXCLUSIVE');
        this.db.exec('BEGIN EXCLUSIVE');
        this.db.exec('COMMIT');
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
        throw new StorageError('LOCKED', `${path} is in use by another process (is a node already running on this home?)`);
      }
      throw err;
    }
    const version = this.readMeta('schema_version');
    if (version === undefined && !opts.readonly)
      this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', SCHEMA_VERSION);
    else if (version === '2') {
      // No journal yet, so state_nodes is its whole tree: a writer upgrades it, a reader reads it as it is.
      if (!opts.readonly) this.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(SCHEMA_VERSION, 'schema_version');
    } else if (version !== SCHEMA_VERSION)
      throw new StorageError('SCHEMA', `${path} has schema version ${version ?? 'none'}, this node understands ${SCHEMA_VERSION}`);
    this.stmts = {
      tip: this.db.prepare('SELECT MAX(height) AS h FROM blocks'),
      base: this.db.prepare('SELECT MIN(height) AS h FROM blocks'),
      header: this.db.prepare(
        this.hasColumn('blocks', 'header')
          ? 'SELECT hash, COALESCE(header, json_extract(block, \'$.header\')) AS header, commit_json AS "commit" FROM blocks WHERE height = ?'
          : 'SELECT hash, json_extract(block, \'$.header\') AS header, commit_json AS "commit" FROM blocks WHERE height = ?',
      ),
      block: this.db.prepare('SELECT hash, block, commit_json AS "commit", results FROM blocks WHERE height = ?'),
      tx: this.db.prepare('SELECT height, idx FROM txs WHERE hash = ?'),
      results: this.db.prepare('SELECT results FROM blocks WHERE height = ?'),
      get: this.db.prepare('SELECT value FROM state WHERE key = ?'),
      scan: this.db.prepare('SELECT key, value FROM state WHERE key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?'),
      scanReverse: this.db.prepare('SELECT key, value FROM state WHERE key >= ? AND key < ? AND key < ? ORDER BY key DESC LIMIT ?'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      getNode: this.db.prepare('SELECT node FROM state_nodes WHERE hash = ?'),
      ...(LATER_TABLES.every((t) => this.hasTable(t))
        ? {
            getObject: this.db.prepare('SELECT data FROM vault_objects WHERE hash = ?'),
            objectStatus: this.db.prepare('SELECT anchored FROM vault_objects WHERE hash = ?'),
            isWanted: this.db.prepare('SELECT 1 AS one FROM vault_wanted WHERE hash = ?'),
            wanted: this.db.prepare('SELECT hash FROM vault_wanted WHERE hash > ? ORDER BY hash LIMIT ?'),
            loadOutbox: this.db.prepare('SELECT seq, item FROM outbox ORDER BY seq LIMIT ?'),
            vaultTotals: this.db.prepare('SELECT COUNT(*) AS n, SUM(length(data)) AS bytes FROM vault_objects'),
          }
        : {}),
      ...(this.hasTable('vault_usage') && this.hasTable('vault_objects') && this.hasColumn('vault_objects', 'uploader')
        ? {
            // length() of a BLOB reads its header, not its bytes.
            objectInfo: this.db.prepare('SELECT length(data) AS size, uploader, anchored FROM vault_objects WHERE hash = ?'),
            pendingUsage: this.db.prepare(
              'SELECT COUNT(*) AS n, SUM(length(data)) AS bytes FROM vault_objects WHERE uploader = ? AND anchored = 0',
            ),
            anchoredUsage: this.db.prepare('SELECT anchored_bytes AS bytes FROM vault_usage WHERE uploader = ?'),
          }
        : {}),
      ...(opts.readonly
        ? {}
        : {
            putBlock: this.db.prepare('INSERT INTO blocks (height, hash, block, commit_json, results, header) VALUES (?, ?, ?, ?, ?, ?)'),
            putTx: this.db.prepare('INSERT INTO txs (hash, height, idx) VALUES (?, ?, ?)'),
            put: this.db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
            del: this.db.prepare('DELETE FROM state WHERE key = ?'),
            setMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
            putObject: this.db.prepare('INSERT INTO vault_objects (hash, data, created_at, anchored, uploader) VALUES (?, ?, ?, ?, ?)'),
            deleteObject: this.db.prepare('DELETE FROM vault_objects WHERE hash = ?'),
            anchorObject: this.db.prepare('UPDATE vault_objects SET anchored = 1 WHERE hash = ?'),
            addWanted: this.db.prepare('INSERT OR IGNORE INTO vault_wanted (hash) VALUES (?)'),
            removeWanted: this.db.prepare('DELETE FROM vault_wanted WHERE hash = ?'),
            expire: this.db.prepare('DELETE FROM vault_objects WHERE anchored = 0 AND created_at < ?'),
            appendOutbox: this.db.prepare('INSERT INTO outbox (item) VALUES (?)'),
            removeOutbox: this.db.prepare('DELETE FROM outbox WHERE seq = ?'),
          }),
    };
    this.treeRows = opts.readonly ? undefined : new TreeNodeRows(this.db);
    this.deferred = new DeferredTreeNodes(this.db, this.treeRows, treeJournal);
    this.tip = (this.stmts.tip.get() as { h: number | null }).h ?? 0;
  }

  private hasTable(name: string): boolean {
    return this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  private hasColumn(table: string, column: string): boolean {
    return (this.db.pragma(`table_info(${table})`) as Array<{ name: string }>).some((c) => c.name === column);
  }

  private readMeta(key: string): string | undefined {
    if (!this.hasTable('meta')) return undefined;
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  tipHeight(): number {
    return this.tip;
  }

  baseHeight(): number {
    return (this.stmts.base.get() as { h: number | null }).h ?? 0;
  }

  installSnapshot(batch: SnapshotInstallBatch): void {
    const { putBlock, putTx, put, setMeta } = this.stmts;
    const treeRows = this.treeRows;
    if (putBlock === undefined || putTx === undefined || put === undefined || treeRows === undefined || setMeta === undefined)
      throw new StorageError('CLOSED', 'store is read-only');
    if (this.tip !== 0) throw new StorageError('HEIGHT_MISMATCH', `cannot install a snapshot over a store at height ${this.tip}`);
    const height = batch.block.header.height;
    this.db.transaction(() => {
      this.putBlockRows(batch, putBlock, putTx);
      for (const w of batch.writes) if (w.value !== null) put.run(w.key, w.value);
      treeRows.put(batch.tree.put);
      setMeta.run(STATE_ROOT_META, batch.tree.root);
    })();
    this.tip = height;
  }

  /** A stored block's own rows (the block, its commit, results and header; its tx index), inside the caller's transaction. */
  private putBlockRows(batch: BlockCommitBatch | SnapshotInstallBatch, putBlock: Database.Statement, putTx: Database.Statement): void {
    const height = batch.block.header.height;
    putBlock.run(
      height,
      batch.hash,
      JSON.stringify(batch.block),
      JSON.stringify(batch.commit),
      JSON.stringify(batch.results),
      JSON.stringify(batch.block.header),
    );
    batch.block.txs.forEach((tx, i) => {
      putTx.run(txHash(tx), height, i);
    });
  }

  loadBlockRaw(height: number): RawBlock | undefined {
    return this.stmts.block.get(height) as RawBlock | undefined;
  }

  loadHeader(height: number): StoredHeader | undefined {
    const raw = this.stmts.header.get(height) as { hash: string; header: string | null; commit: string } | undefined;
    if (raw === undefined) return undefined;
    try {
      return { hash: raw.hash, header: JSON.parse(raw.header as string), commit: JSON.parse(raw.commit) };
    } catch {
      throw new StorageError('CORRUPT', `stored block ${height} is not valid JSON`);
    }
  }

  loadBlock(height: number): StoredBlock | undefined {
    const raw = this.loadBlockRaw(height);
    if (raw === undefined) return undefined;
    try {
      return { hash: raw.hash, block: JSON.parse(raw.block), commit: JSON.parse(raw.commit), results: JSON.parse(raw.results) };
    } catch {
      throw new StorageError('CORRUPT', `stored block ${height} is not valid JSON`);
    }
  }

  findTx(hash: string): TxLocation | undefined {
    const loc = this.stmts.tx.get(hash) as { height: number; idx: number } | undefined;
    if (loc === undefined) return undefined;
    return { height: loc.height, index: loc.idx, result: this.resultsAt(loc.height, hash)[loc.idx] as TxResult };
  }

  /**
   * A block's results, parsed once for the last few heights asked: a client checking each of
   * its transactions in a 5,000-tx block would otherwise parse all 5,000 results per lookup.
   * Committed blocks never change, so the copies cannot go stale.
   */
  private resultsAt(height: number, hash: string): TxResult[] {
    const hit = this.recentResults.get(height);
    if (hit !== undefined) return hit;
    const row = this.stmts.results.get(height) as { results: string } | undefined;
    if (row === undefined) throw new StorageError('CORRUPT', `transaction ${hash} points at missing block ${height}`);
    const results = JSON.parse(row.results) as TxResult[];
    this.recentResults.set(height, results);
    if (this.recentResults.size > RECENT_RESULTS) this.recentResults.delete(this.recentResults.keys().next().value as number);
    return results;
  }

  getState(key: string): string | undefined {
    return (this.stmts.get.get(key) as { value: string } | undefined)?.value;
  }

  scanState(prefix: string, opts: ScanOptions = {}): Array<[string, string]> {
    const end = `${prefix}\uffff`;
    const rows = (
      opts.reverse === true
        ? this.stmts.scanReverse.all(prefix, end, opts.after ?? end, opts.limit ?? -1)
        : this.stmts.scan.all(prefix, end, opts.after ?? '', opts.limit ?? -1)
    ) as Array<{
      key: string;
      value: string;
    }>;
    return rows.map((r) => [r.key, r.value]);
  }

  stateRoot(): string {
    return this.getMeta(STATE_ROOT_META) ?? EMPTY_STATE_ROOT;
  }

  getTreeNode(hash: string): Uint8Array | undefined {
    const pending = this.deferred.lookup(hash);
    if (pending !== undefined) return pending ?? undefined;
    const row = this.stmts.getNode.get(Buffer.from(hash, 'hex')) as { node: Buffer } | undefined;
    return row === undefined ? undefined : new Uint8Array(row.node.buffer, row.node.byteOffset, row.node.byteLength);
  }

  commitBlock(batch: BlockCommitBatch): void {
    const { putBlock, putTx, put, del, setMeta } = this.stmts;
    const treeRows = this.treeRows;
    if (
      putBlock === undefined ||
      putTx === undefined ||
      put === undefined ||
      del === undefined ||
      treeRows === undefined ||
      setMeta === undefined
    )
      throw new StorageError('CLOSED', 'store is read-only');
    const height = batch.block.header.height;
    if (height !== this.tip + 1) throw new StorageError('HEIGHT_MISMATCH', `cannot store block ${height} on top of height ${this.tip}`);
    // The tree nodes go to the journal, and the oldest journalled ones to state_nodes
    // (tree-journal.ts). Staging changes memory first; a failed transaction reloads it.
    let tree: StagedTreeWrite;
    try {
      tree = this.deferred.stage(height, batch.tree);
      this.db.transaction(() => {
        this.putBlockRows(batch, putBlock, putTx);
        for (const w of batch.writes) {
          if (w.value === null) del.run(w.key);
          else put.run(w.key, w.value);
        }
        this.deferred.write(tree);
        setMeta.run(STATE_ROOT_META, batch.tree.root);
      })();
    } catch (err) {
      this.deferred.reload();
      throw err;
    }
    this.deferred.settle(tree);
    this.tip = height;
  }

  getMeta(key: string): string | undefined {
    return (this.stmts.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    if (this.stmts.setMeta === undefined) throw new StorageError('CLOSED', 'store is read-only');
    this.stmts.setMeta.run(key, value);
  }

  setMetas(entries: ReadonlyArray<readonly [string, string]>): void {
    const setMeta = this.stmts.setMeta;
    if (setMeta === undefined) throw new StorageError('CLOSED', 'store is read-only');
    // One transaction, so one WAL sync (synchronous = FULL) for the lot: a signed vote's
    // guard position, the vote itself and the lock it rests on were three.
    this.db.transaction(() => {
      for (const [key, value] of entries) setMeta.run(key, value);
    })();
  }

  /** A prepared write, or StorageError('CLOSED') when the store was opened read-only. */
  private writer<T>(stmt: T | undefined): T {
    if (stmt === undefined) throw new StorageError('CLOSED', 'store is read-only');
    return stmt;
  }

  putVaultObject(hash: string, data: Uint8Array, now: number, uploader?: string): boolean {
    const put = this.writer(this.stmts.putObject);
    const removeWanted = this.writer(this.stmts.removeWanted);
    return this.db.transaction(() => {
      if (this.hasVaultObject(hash)) return false;
      const wasWanted = removeWanted.run(hash).changes > 0;
      put.run(hash, Buffer.from(data.buffer, data.byteOffset, data.byteLength), now, wasWanted ? 1 : 0, uploader ?? null);
      return true;
    })();
  }

  vaultObjectInfo(hash: string): VaultObjectInfo | undefined {
    const row = this.stmts.objectInfo?.get(hash) as { size: number; uploader: string | null; anchored: number } | undefined;
    return row === undefined
      ? undefined
      : { size: row.size, uploader: row.uploader, status: row.anchored === 1 ? 'anchored' : 'unanchored' };
  }

  /**
   * A consistent copy of the whole database at `dest`, by SQLite's online backup API on this
   * connection (it holds the file's lock): blocks committed meanwhile are either all in the
   * copy or not at all. Throws on I/O errors.
   */
  async snapshotTo(dest: string): Promise<void> {
    await this.db.backup(dest);
  }

  vaultTotals(): { objects: number; bytes: number } {
    const row = this.stmts.vaultTotals?.get() as { n: number; bytes: number | null } | undefined;
    return { objects: row?.n ?? 0, bytes: row?.bytes ?? 0 };
  }

  vaultUsage(uploader: string): VaultUsage {
    const pending = this.stmts.pendingUsage?.get(uploader) as { n: number; bytes: number | null } | undefined;
    const anchored = this.stmts.anchoredUsage?.get(uploader) as { bytes: number } | undefined;
    return { pendingObjects: pending?.n ?? 0, pendingBytes: pending?.bytes ?? 0, anchoredBytes: anchored?.bytes ?? 0 };
  }

  getVaultObject(hash: string): Uint8Array | undefined {
    const row = this.stmts.getObject?.get(hash) as { data: Buffer } | undefined;
    return row === undefined ? undefined : Uint8Array.from(row.data);
  }

  hasVaultObject(hash: string): boolean {
    return this.stmts.objectStatus?.get(hash) !== undefined;
  }

  vaultObjectStatus(hash: string): VaultObjectStatus | undefined {
    const held = this.stmts.objectStatus?.get(hash) as { anchored: number } | undefined;
    if (held !== undefined) return held.anchored === 1 ? 'anchored' : 'unanchored';
    return this.stmts.isWanted?.get(hash) !== undefined ? 'wanted' : undefined;
  }

  deleteVaultObjects(hashes: readonly string[]): number {
    const del = this.writer(this.stmts.deleteObject);
    const deleted = this.db.transaction(() => hashes.reduce((n, hash) => n + del.run(hash).changes, 0))();
    if (deleted > 0) this.truncateWal();
    return deleted;
  }

  /**
   * secure_delete zeroes the freed pages, but in WAL mode the frames that held the bytes
   * stay in the -wal file until a checkpoint; TRUNCATE copies the zeroed pages into the
   * database and empties the WAL, so the deleted bytes are on disk nowhere.
   */
  private truncateWal(): void {
    const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    if (result !== undefined && result.busy !== 0)
      throw new StorageError('LOCKED', 'could not checkpoint the WAL after deleting vault objects');
  }

  markVaultAnchored(hashes: readonly string[]): string[] {
    const anchor = this.writer(this.stmts.anchorObject);
    const addWanted = this.writer(this.stmts.addWanted);
    return this.db.transaction(() => {
      const missing = new Set<string>();
      for (const hash of hashes) {
        if (missing.has(hash) || anchor.run(hash).changes > 0) continue;
        addWanted.run(hash);
        missing.add(hash);
      }
      return [...missing];
    })();
  }

  wantedVaultObjects(limit: number, after?: string): string[] {
    const rows = (this.stmts.wanted?.all(after ?? '', Math.max(0, limit)) ?? []) as Array<{ hash: string }>;
    return rows.map((r) => r.hash);
  }

  unwantVaultObject(hash: string): void {
    this.writer(this.stmts.removeWanted).run(hash);
  }

  expireUnanchoredVaultObjects(olderThan: number): number {
    const deleted = this.writer(this.stmts.expire).run(olderThan).changes;
    if (deleted > 0) this.truncateWal();
    return deleted;
  }

  appendOutbox(items: readonly string[]): number[] {
    const append = this.writer(this.stmts.appendOutbox);
    // One transaction: with synchronous=FULL every item is on disk when the commit returns.
    return this.db.transaction(() => items.map((item) => Number(append.run(item).lastInsertRowid)))();
  }

  loadOutbox(limit?: number): Array<{ seq: number; item: string }> {
    return (this.stmts.loadOutbox?.all(limit ?? -1) ?? []) as Array<{ seq: number; item: string }>;
  }

  removeOutbox(seqs: readonly number[]): void {
    const remove = this.writer(this.stmts.removeOutbox);
    this.db.transaction(() => {
      for (const seq of seqs) remove.run(seq);
    })();
  }

  replaceOutbox(remove: readonly number[], add: readonly string[]): number[] {
    const drop = this.writer(this.stmts.removeOutbox);
    const append = this.writer(this.stmts.appendOutbox);
    return this.db.transaction(() => {
      for (const seq of remove) drop.run(seq);
      return add.map((item) => Number(append.run(item).lastInsertRowid));
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
