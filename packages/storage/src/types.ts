// The store contract every node uses (DESIGN §9), implemented by SQLite and in memory.
import type { Block, Commit, StateTreeUpdate, TxResult } from '@medledger/ledger';

/** One change to application state; `value: null` deletes the key. */
export interface StateWrite {
  key: string;
  value: string | null;
}

/** A committed block with the commit that finalised it and its transactions' results. */
export interface StoredBlock {
  block: Block;
  commit: Commit;
  results: TxResult[];
  hash: string;
}

/** A stored block's header and commit, without its transactions (light clients walk these). */
export interface StoredHeader {
  header: Block['header'];
  commit: Commit;
  hash: string;
}

/** Everything written for one block, atomically. */
export interface BlockCommitBatch {
  block: Block;
  hash: string;
  commit: Commit;
  results: TxResult[];
  writes: StateWrite[];
  /**
   * The state tree after this block (docs/state.md): its root, and the tree nodes to add
   * and to delete, written in the same transaction as `writes`; deletes go first.
   */
  tree: StateTreeUpdate;
}

/**
 * A verified state snapshot to install into an empty store (state sync, docs/deploy.md
 * "Joining"): the block at the snapshot height with its commit and results, which becomes
 * the store's first and tip block, the whole state at that height, and its state tree.
 */
export interface SnapshotInstallBatch {
  block: Block;
  hash: string;
  commit: Commit;
  results: TxResult[];
  /** Every state key and value at the snapshot height. */
  writes: StateWrite[];
  /** The state tree built from `writes` (from the empty tree). */
  tree: StateTreeUpdate;
}

/** Where a committed transaction is. */
export interface TxLocation {
  height: number;
  index: number;
  result: TxResult;
}

/** A stored block's rows exactly as kept, for verification of what is on disk. */
export interface RawBlock {
  hash: string;
  block: string;
  commit: string;
  results: string;
}

/** Options of NodeStore.scanState. */
export interface ScanOptions {
  after?: string;
  limit?: number;
  reverse?: boolean;
}

export interface NodeStore {
  /** Height of the last committed block; 0 when empty. */
  tipHeight(): number;
  /**
   * Height of the first stored block: 1, or the snapshot height for a store filled by
   * state sync (installSnapshot), which holds no blocks below it; 0 when empty.
   */
  baseHeight(): number;
  /**
   * Fill an empty store from a verified snapshot, in one atomic transaction. Throws
   * StorageError('HEIGHT_MISMATCH'), writing nothing, unless the store holds no block yet.
   */
  installSnapshot(batch: SnapshotInstallBatch): void;
  loadBlock(height: number): StoredBlock | undefined;
  loadBlockRaw(height: number): RawBlock | undefined;
  /** Block `height`'s header and commit without reading its transactions. */
  loadHeader(height: number): StoredHeader | undefined;
  findTx(txHash: string): TxLocation | undefined;
  getState(key: string): string | undefined;
  /**
   * Keys starting with `prefix`, ascending (descending with `reverse`), at most `limit`.
   * `after` is exclusive and in scan order: ascending it skips keys <= after, reversed it
   * skips keys >= after, so the last key of one page is the cursor of the next.
   */
  scanState(prefix: string, opts?: ScanOptions): Array<[string, string]>;
  /** Root of the committed state tree (32 zero bytes, hex, before the first block). */
  stateRoot(): string;
  /** A committed state-tree node: its 65-byte preimage under its hex SHA-256, or undefined. */
  getTreeNode(hash: string): Uint8Array | undefined;
  /**
   * Write the block, its commit, results, tx index, state writes and state-tree nodes in one atomic
   * transaction. Throws StorageError('HEIGHT_MISMATCH') unless it is the next height,
   * and then nothing is written.
   */
  commitBlock(batch: BlockCommitBatch): void;
  /** Small durable metadata (signer state, consensus locks); durable when this returns. */
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  /** Several metadata writes in one transaction: durable together, with one sync, when this returns. */
  setMetas(entries: ReadonlyArray<readonly [string, string]>): void;

  // The vault (docs/records.md): ciphertext objects and key envelopes kept off chain,
  // addressed by the SHA-256 hex of their bytes. An object is held or not; a held one is
  // anchored (a committed anchor names it, so it never expires) or not yet; a hash that
  // is anchored but not held is wanted, for the node to fetch from its peers.

  /**
   * Keep `data` under `hash`, which the caller has checked is its SHA-256 hex; created at
   * `now` (ms), uploaded by identity `uploader` (absent for copies fetched from peers). A
   * wanted hash becomes held and stays anchored. Returns false, changing nothing, when the
   * hash is already held.
   */
  putVaultObject(hash: string, data: Uint8Array, now: number, uploader?: string): boolean;
  /** Size, uploader and status of a held object, without reading its bytes. */
  vaultObjectInfo(hash: string): VaultObjectInfo | undefined;
  /** What `uploader` holds on this node: unanchored uploads (count and bytes) and anchored bytes. */
  vaultUsage(uploader: string): VaultUsage;
  /** A consistent copy of the database file at `dest` (SQLite only; backups, docs/deploy.md). */
  snapshotTo?(dest: string): Promise<void>;
  /** Objects held in this node's vault and their bytes, all uploaders together (the metrics' vault size). */
  vaultTotals(): { objects: number; bytes: number };
  /** The stored bytes, unverified: the caller re-hashes them before trusting them. */
  getVaultObject(hash: string): Uint8Array | undefined;
  hasVaultObject(hash: string): boolean;
  /** Whether `hash` is held anchored, held unanchored, wanted, or unknown (undefined). */
  vaultObjectStatus(hash: string): VaultObjectStatus | undefined;
  /**
   * Delete held objects (erasure, or a copy that failed its hash check) so the bytes are
   * gone from disk, not merely unlinked; wanted marks are left alone. Returns how many
   * were held.
   */
  deleteVaultObjects(hashes: readonly string[]): number;
  /**
   * Mark objects as named by a committed anchor. Hashes not held are recorded as wanted
   * and returned (each once, in first-seen order).
   */
  markVaultAnchored(hashes: readonly string[]): string[];
  /** Wanted hashes, ascending, after `after` (exclusive), at most `limit`. */
  wantedVaultObjects(limit: number, after?: string): string[];
  /** Stop wanting `hash` (its record was erased). */
  unwantVaultObject(hash: string): void;
  /** Delete unanchored objects created before `olderThan` (ms), like deleteVaultObjects; returns how many. */
  expireUnanchoredVaultObjects(olderThan: number): number;

  /**
   * Append items to the durable outbox (access events waiting to be committed); they are
   * on disk when this returns. Returns their sequence numbers, increasing and never
   * reused, in the order given.
   */
  appendOutbox(items: readonly string[]): number[];
  /** The oldest outbox items, ascending by sequence number, at most `limit`. */
  loadOutbox(limit?: number): Array<{ seq: number; item: string }>;
  /** Remove outbox items by sequence number; unknown numbers are ignored. */
  removeOutbox(seqs: readonly number[]): void;
  /**
   * Remove `remove` and append `add` in one atomic step (a crash leaves both or neither),
   * so items can be merged without being lost or counted twice. Returns the new numbers.
   */
  replaceOutbox(remove: readonly number[], add: readonly string[]): number[];

  close(): void;
}

export type VaultObjectStatus = 'anchored' | 'unanchored' | 'wanted';

/** A held vault object's metadata. */
export interface VaultObjectInfo {
  size: number;
  /** The identity that uploaded it to this node; null for a copy fetched from a peer. */
  uploader: string | null;
  status: 'anchored' | 'unanchored';
}

/** One identity's use of this node's vault (quotas, docs/records.md). */
export interface VaultUsage {
  pendingObjects: number;
  pendingBytes: number;
  anchoredBytes: number;
}

export type StorageErrorCode = 'HEIGHT_MISMATCH' | 'CORRUPT' | 'LOCKED' | 'SCHEMA' | 'CLOSED';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
  }
}
