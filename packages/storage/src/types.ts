// The store contract every node uses (DESIGN §9), implemented by SQLite and in memory.
import type { Block, Commit, TxResult } from '@medledger/ledger';

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

/** Everything written for one block, atomically. */
export interface BlockCommitBatch {
  block: Block;
  hash: string;
  commit: Commit;
  results: TxResult[];
  writes: StateWrite[];
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

export interface NodeStore {
  /** Height of the last committed block; 0 when empty. */
  tipHeight(): number;
  loadBlock(height: number): StoredBlock | undefined;
  loadBlockRaw(height: number): RawBlock | undefined;
  findTx(txHash: string): TxLocation | undefined;
  getState(key: string): string | undefined;
  /** Keys starting with `prefix`, ascending, after `after` (exclusive), at most `limit`. */
  scanState(prefix: string, opts?: { after?: string; limit?: number }): Array<[string, string]>;
  /**
   * Write the block, its commit, results, tx index and state writes in one atomic
   * transaction. Throws StorageError('HEIGHT_MISMATCH') unless it is the next height,
   * and then nothing is written.
   */
  commitBlock(batch: BlockCommitBatch): void;
  /** Small durable metadata (signer state, consensus locks); durable when this returns. */
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  close(): void;
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
