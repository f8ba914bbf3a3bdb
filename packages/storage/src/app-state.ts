// The application's own store when CometBFT is the engine (docs/cometbft.md): CometBFT keeps
// the blocks and their commits; the app keeps state, its tree, each transaction's result,
// and the (height, app hash) it last committed, all written for a block in one SQLite
// transaction so that ABCI Info and the stored state agree after a crash at any point.
import { EMPTY_STATE_ROOT, type StateTreeUpdate, type TxResult } from '@medledger/ledger';
import Database from 'better-sqlite3';
import { type ScanOptions, type StateWrite, StorageError } from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- State values as a rowid table (an index on key beside it), not WITHOUT ROWID: a claim
-- or a record's anchor is a kilobyte or more, and SQLite's WITHOUT ROWID B-tree, made for
-- rows under about a twentieth of a page, split and rewrote whole leaf pages for each one
-- (scripts/claim-cost.mjs: storing a block of claims took about 40 % less; docs/state.md).
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state_nodes (hash BLOB PRIMARY KEY, node BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS txs (hash TEXT PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL, result TEXT NOT NULL) WITHOUT ROWID;
`;

/** Everything the application writes for one committed block, atomically. */
export interface AppBlockBatch {
  height: number;
  /** App hash after this block (hex), as answered in FinalizeBlock. */
  appHash: string;
  /** The block's time (ms), which the next block's admission checks use. */
  time: number;
  /** Root of the block's results (hex): with the state root, what the app hash commits to. */
  resultsRoot: string;
  writes: readonly StateWrite[];
  tree: StateTreeUpdate;
  /** Each transaction's hash (SHA-256 of its bytes, as CometBFT names it) and result, in block order. */
  txs: ReadonlyArray<{ hash: string; result: TxResult }>;
}

/** Where a committed transaction is, by the application's record. */
export interface AppTxLocation {
  height: number;
  index: number;
  result: TxResult;
}

/** The application's committed state under CometBFT, in one SQLite file. */
export class SqliteAppState {
  private readonly db: Database.Database;
  private readonly stmts;

  /** Opens (creating) `path`; throws StorageError('LOCKED') if another process holds it. */
  constructor(path: string) {
    try {
      this.db = new Database(path, { timeout: 0 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('secure_delete = ON');
      this.db.exec(SCHEMA);
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.exec('BEGIN EXCLUSIVE');
      this.db.exec('COMMIT');
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw new StorageError('LOCKED', `${path} is in use by another process`);
      throw err;
    }
    this.stmts = {
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      get: this.db.prepare('SELECT value FROM state WHERE key = ?'),
      scan: this.db.prepare('SELECT key, value FROM state WHERE key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?'),
      scanReverse: this.db.prepare('SELECT key, value FROM state WHERE key >= ? AND key < ? AND key < ? ORDER BY key DESC LIMIT ?'),
      put: this.db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      del: this.db.prepare('DELETE FROM state WHERE key = ?'),
      getNode: this.db.prepare('SELECT node FROM state_nodes WHERE hash = ?'),
      putNode: this.db.prepare('INSERT OR IGNORE INTO state_nodes (hash, node) VALUES (?, ?)'),
      delNode: this.db.prepare('DELETE FROM state_nodes WHERE hash = ?'),
      getTx: this.db.prepare('SELECT height, idx, result FROM txs WHERE hash = ?'),
      putTx: this.db.prepare('INSERT OR REPLACE INTO txs (hash, height, idx, result) VALUES (?, ?, ?, ?)'),
    };
  }

  /**
   * The last committed height, app hash, block time and results root; height 0, empty
   * hashes and time 0 before block 1. Throws StorageError('CORRUPT') if the record is malformed.
   */
  lastCommitted(): { height: number; appHash: string; time: number; resultsRoot: string } {
    const raw = this.meta('last_committed');
    if (raw === undefined) return { height: 0, appHash: '', time: 0, resultsRoot: '' };
    const m = /^(\d+):([0-9a-f]{64}):(\d+):([0-9a-f]{64})$/.exec(raw);
    if (m === null) throw new StorageError('CORRUPT', 'the last committed height is malformed');
    return { height: Number(m[1]), appHash: m[2] as string, time: Number(m[3]), resultsRoot: m[4] as string };
  }

  getState(key: string): string | undefined {
    return (this.stmts.get.get(key) as { value: string } | undefined)?.value;
  }

  /** Keys starting with `prefix`, as NodeStore.scanState pages them. */
  scanState(prefix: string, opts: ScanOptions = {}): Array<[string, string]> {
    const end = `${prefix}\uffff`;
    const rows = (
      opts.reverse === true
        ? this.stmts.scanReverse.all(prefix, end, opts.after ?? end, opts.limit ?? -1)
        : this.stmts.scan.all(prefix, end, opts.after ?? '', opts.limit ?? -1)
    ) as Array<{ key: string; value: string }>;
    return rows.map((r) => [r.key, r.value]);
  }

  stateRoot(): string {
    return this.meta('state_root') ?? EMPTY_STATE_ROOT;
  }

  getTreeNode(hash: string): Uint8Array | undefined {
    const row = this.stmts.getNode.get(Buffer.from(hash, 'hex')) as { node: Buffer } | undefined;
    return row === undefined ? undefined : new Uint8Array(row.node.buffer, row.node.byteOffset, row.node.byteLength);
  }

  findTx(hash: string): AppTxLocation | undefined {
    const row = this.stmts.getTx.get(hash) as { height: number; idx: number; result: string } | undefined;
    return row === undefined ? undefined : { height: row.height, index: row.idx, result: JSON.parse(row.result) as TxResult };
  }

  /**
   * Write one block's state, tree, results and the new (height, app hash) in one transaction.
   * Throws StorageError('HEIGHT_MISMATCH'), writing nothing, unless it is the next height.
   */
  saveBlock(batch: AppBlockBatch): void {
    const last = this.lastCommitted().height;
    if (batch.height !== last + 1) throw new StorageError('HEIGHT_MISMATCH', `cannot store block ${batch.height} on top of height ${last}`);
    const s = this.stmts;
    this.db.transaction(() => {
      for (const w of batch.writes) {
        if (w.value === null) s.del.run(w.key);
        else s.put.run(w.key, w.value);
      }
      for (const hash of batch.tree.remove) s.delNode.run(Buffer.from(hash, 'hex'));
      for (const n of batch.tree.put)
        s.putNode.run(Buffer.from(n.hash, 'hex'), Buffer.from(n.bytes.buffer, n.bytes.byteOffset, n.bytes.byteLength));
      batch.txs.forEach((tx, i) => {
        s.putTx.run(tx.hash, batch.height, i, JSON.stringify(tx.result));
      });
      s.setMeta.run('state_root', batch.tree.root);
      s.setMeta.run('last_committed', `${batch.height}:${batch.appHash}:${batch.time}:${batch.resultsRoot}`);
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private meta(key: string): string | undefined {
    return (this.stmts.getMeta.get(key) as { value: string } | undefined)?.value;
  }
}
