// State-tree nodes written behind the blocks (docs/state.md, "The tree journal").
// A block changes ~45 tree nodes per registration, each a row at a random place in the
// hash-keyed state_nodes table, so storing every block's nodes dirtied about a page per node:
// 44 MiB written (WAL and checkpoint) for a block of 100 registrations at 40,000 keys, and
// four validators on one disk waited for it on every height. So a block's node changes go to
// an append-only journal row (one sequential write) in the block's own transaction, and are
// kept in memory, in 32 slices of the hash space. Each block writes one slice out to
// state_nodes (block h: slice h mod 32), with everything that slice gathered in up to 32
// blocks: nodes replaced meanwhile (the upper levels) never reach the table, and the rest
// land on a 32nd of its pages. state_nodes plus the journal replayed in height order is
// always the tip's tree, so a crash at any point, a read-only open and a backup copy all see
// exactly the committed tree.
import type { StateTreeUpdate } from '@medledger/ledger';
import type Database from 'better-sqlite3';
import { HEX_DIGIT, type TreeNodeRows } from './tree-rows.js';

export const TREE_JOURNAL_SCHEMA = `
-- A block's state-tree node changes not yet in state_nodes (tree-journal.ts): puts as
-- (32-byte hash, 4-byte length, node bytes) records, removes as 32-byte hashes.
CREATE TABLE IF NOT EXISTS tree_journal (height INTEGER PRIMARY KEY, puts BLOB NOT NULL, removes BLOB NOT NULL);
`;

export interface DeferredTreeOptions {
  /**
   * Blocks a node change waits in the journal at most: the number of slices, one written out
   * per block. 0 writes every block's nodes out with it (no journal rows).
   */
  maxAgeBlocks?: number;
  /** Node changes held at most; beyond this a block writes out further slices. */
  maxPending?: number;
}

/**
 * 32 blocks: a node above the deepest few levels is replaced within that many blocks of a
 * busy chain, so it never reaches state_nodes. 300,000 changes: about 75 MB of heap at most.
 */
export const DEFAULT_TREE_JOURNAL: Required<DeferredTreeOptions> = { maxAgeBlocks: 32, maxPending: 300_000 };

/** A node change not yet in state_nodes: the node, or null once removed. */
interface Pending {
  node: Uint8Array | null;
  height: number;
}

/** What one block's commit writes (inside its transaction) and then drops from memory. */
export interface StagedTreeWrite {
  height: number;
  /** The journal row, unless every change is written out at once. */
  journal: { puts: Buffer; removes: Buffer } | undefined;
  /** The oldest changes, to write to state_nodes now. */
  flush: Array<[string, Pending]>;
  /** Journal rows below this height are no longer needed. */
  keepFrom: number;
}

const HASH_BYTES = 32;

/** `opts` over the defaults; RangeError unless each limit is a non-negative integer. */
export function treeJournalOptions(opts: DeferredTreeOptions = {}): Required<DeferredTreeOptions> {
  const full = { ...DEFAULT_TREE_JOURNAL, ...opts };
  for (const [name, value] of Object.entries(full))
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`treeJournal.${name} must be a non-negative integer, got ${value}`);
  return full;
}

function encodePuts(puts: StateTreeUpdate['put']): Buffer {
  let size = 0;
  for (const n of puts) size += HASH_BYTES + 4 + n.bytes.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const n of puts) {
    if (out.write(n.hash, at, 'hex') !== HASH_BYTES) throw new TypeError(`tree node hash ${n.hash} is not 32 bytes of hex`);
    out.writeUInt32BE(n.bytes.byteLength, at + HASH_BYTES);
    out.set(n.bytes, at + HASH_BYTES + 4);
    at += HASH_BYTES + 4 + n.bytes.byteLength;
  }
  return out;
}

function encodeRemoves(hashes: readonly string[]): Buffer {
  const out = Buffer.allocUnsafe(hashes.length * HASH_BYTES);
  hashes.forEach((hash, i) => {
    if (out.write(hash, i * HASH_BYTES, 'hex') !== HASH_BYTES) throw new TypeError(`tree node hash ${hash} is not 32 bytes of hex`);
  });
  return out;
}

/**
 * The node changes of the committed blocks that state_nodes does not hold yet, in `slices`
 * maps by the first 16 bits of the node hash. Block h writes out slice h mod slices (and
 * the slices after it while over maxPending): each change waits at most `slices` blocks, and
 * each block's write-out touches about 1/slices of the table's pages with everything that
 * slice gathered meanwhile, instead of a page per change (measured in docs/state.md).
 */
export class DeferredTreeNodes {
  private slices: Array<Map<string, Pending>> = [];
  /** Pending changes in all slices. */
  private count = 0;
  /** How many pending changes each height holds (heights holding none are absent). */
  private byHeight = new Map<number, number>();
  private readonly sliceCount: number;
  private readonly maxPending: number;
  private readonly stmts;

  constructor(
    db: Database.Database,
    /** The node table's writer; undefined for a read-only store (it only replays). */
    private readonly rows: TreeNodeRows | undefined,
    opts: DeferredTreeOptions = {},
  ) {
    const { maxAgeBlocks, maxPending } = treeJournalOptions(opts);
    // maxAgeBlocks 0: one slice, written out with the block that made it.
    this.sliceCount = Math.max(1, maxAgeBlocks);
    this.maxPending = maxAgeBlocks === 0 ? 0 : maxPending;
    const hasTable = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tree_journal'").get() !== undefined;
    this.stmts = hasTable
      ? {
          all: db.prepare('SELECT height, puts, removes FROM tree_journal ORDER BY height'),
          append: rows === undefined ? undefined : db.prepare('INSERT INTO tree_journal (height, puts, removes) VALUES (?, ?, ?)'),
          truncate: rows === undefined ? undefined : db.prepare('DELETE FROM tree_journal WHERE height < ?'),
        }
      : undefined;
    this.reload();
  }

  /**
   * The tip's node under `hash` as far as the journal knows: the node, null when a block
   * removed it, undefined when the journal has no word on it (state_nodes does).
   */
  lookup(hash: string): Uint8Array | null | undefined {
    return this.slices[this.sliceOf(hash)]?.get(hash)?.node;
  }

  /** Rebuild the in-memory changes from the journal rows (at open, and after a failed commit). */
  reload(): void {
    this.slices = Array.from({ length: this.sliceCount }, () => new Map());
    this.count = 0;
    this.byHeight = new Map();
    if (this.stmts === undefined) return;
    for (const row of this.stmts.all.iterate() as Iterable<{ height: number; puts: Buffer; removes: Buffer }>) {
      for (let at = 0; at + HASH_BYTES <= row.removes.length; at += HASH_BYTES)
        this.change(row.removes.toString('hex', at, at + HASH_BYTES), null, row.height);
      for (let at = 0; at < row.puts.length; ) {
        const hash = row.puts.toString('hex', at, at + HASH_BYTES);
        const length = row.puts.readUInt32BE(at + HASH_BYTES);
        const start = at + HASH_BYTES + 4;
        this.change(hash, new Uint8Array(row.puts.buffer, row.puts.byteOffset + start, length), row.height);
        at = start + length;
      }
    }
  }

  /**
   * Take in block `height`'s node changes (removes first, as the table applied them: a node
   * removed and added again stays) and choose the slices to write out with it. Memory only;
   * `write` then does the SQL inside the block's transaction, and `settle` after it commits
   * (or `reload` if it fails).
   */
  stage(height: number, update: Pick<StateTreeUpdate, 'put' | 'remove'>): StagedTreeWrite {
    for (const hash of update.remove) this.change(hash, null, height);
    for (const n of update.put) this.change(n.hash, n.bytes, height);
    const flush: Array<[string, Pending]> = [];
    const first = height % this.sliceCount;
    for (let k = 0; k < this.sliceCount; k++) {
      if (k > 0 && this.count - flush.length <= this.maxPending) break;
      for (const entry of this.slices[(first + k) % this.sliceCount] as Map<string, Pending>) flush.push(entry);
    }
    // The lowest height that still holds a change once these are written out.
    const leaving = new Map<number, number>();
    for (const [, change] of flush) leaving.set(change.height, (leaving.get(change.height) ?? 0) + 1);
    let keepFrom = height + 1;
    for (const [h, n] of this.byHeight) if (h < keepFrom && n > (leaving.get(h) ?? 0)) keepFrom = h;
    const journal =
      keepFrom <= height && (update.put.length > 0 || update.remove.length > 0)
        ? { puts: encodePuts(update.put), removes: encodeRemoves(update.remove) }
        : undefined;
    return { height, journal, flush, keepFrom };
  }

  /** The SQL of a staged block, inside its transaction: its journal row, the written-out changes, the journal's trimmed head. */
  write(staged: StagedTreeWrite): void {
    const { rows, stmts } = this;
    if (rows === undefined || stmts?.append === undefined || stmts.truncate === undefined)
      throw new TypeError('the tree journal is read-only');
    if (staged.journal !== undefined) stmts.append.run(staged.height, staged.journal.puts, staged.journal.removes);
    const removed: string[] = [];
    const added: Array<{ hash: string; bytes: Uint8Array }> = [];
    for (const [hash, change] of staged.flush) {
      if (change.node === null) removed.push(hash);
      else added.push({ hash, bytes: change.node });
    }
    // Each hash is written once, with its last change, so the order of the two does not matter.
    rows.remove(removed);
    rows.put(added);
    stmts.truncate.run(staged.keepFrom);
  }

  /** After the block's transaction committed: the written-out changes leave memory. */
  settle(staged: StagedTreeWrite): void {
    for (const [hash, change] of staged.flush) {
      const slice = this.slices[this.sliceOf(hash)] as Map<string, Pending>;
      if (slice.get(hash) !== change) continue;
      slice.delete(hash);
      this.count--;
      this.forget(change.height);
    }
  }

  private change(hash: string, node: Uint8Array | null, height: number): void {
    const slice = this.slices[this.sliceOf(hash)] as Map<string, Pending>;
    const old = slice.get(hash);
    if (old === undefined) this.count++;
    else this.forget(old.height);
    slice.set(hash, { node, height });
    this.byHeight.set(height, (this.byHeight.get(height) ?? 0) + 1);
  }

  private forget(height: number): void {
    const n = (this.byHeight.get(height) ?? 0) - 1;
    if (n > 0) this.byHeight.set(height, n);
    else this.byHeight.delete(height);
  }

  /** The slice of a hex hash: its first 16 bits scaled to the slice count (0 for anything not hex). */
  private sliceOf(hash: string): number {
    let top = 0;
    for (let i = 0; i < 4; i++) {
      const d = HEX_DIGIT[hash.charCodeAt(i)] ?? -1;
      if (d < 0) return 0;
      top = (top << 4) | d;
    }
    return Math.floor((top * this.sliceCount) / 65536);
  }
}
