// The in-memory twin of the SQLite store, for tests and for replaying a chain in `verify`.
import { txHash } from '@medledger/ledger';
import { type BlockCommitBatch, type NodeStore, type RawBlock, StorageError, type StoredBlock, type TxLocation } from './types.js';

export class MemoryStore implements NodeStore {
  private readonly blocks: RawBlock[] = [];
  private readonly txIndex = new Map<string, { height: number; index: number }>();
  private readonly state = new Map<string, string>();
  private readonly meta = new Map<string, string>();
  private sortedKeys: string[] | undefined;

  tipHeight(): number {
    return this.blocks.length;
  }

  loadBlockRaw(height: number): RawBlock | undefined {
    const raw = this.blocks[height - 1];
    return raw === undefined ? undefined : { ...raw };
  }

  loadBlock(height: number): StoredBlock | undefined {
    const raw = this.blocks[height - 1];
    if (raw === undefined) return undefined;
    return { hash: raw.hash, block: JSON.parse(raw.block), commit: JSON.parse(raw.commit), results: JSON.parse(raw.results) };
  }

  findTx(txHash: string): TxLocation | undefined {
    const loc = this.txIndex.get(txHash);
    if (loc === undefined) return undefined;
    const results = JSON.parse((this.blocks[loc.height - 1] as RawBlock).results);
    return { ...loc, result: results[loc.index] };
  }

  getState(key: string): string | undefined {
    return this.state.get(key);
  }

  scanState(prefix: string, opts: { after?: string; limit?: number } = {}): Array<[string, string]> {
    this.sortedKeys ??= [...this.state.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const out: Array<[string, string]> = [];
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    for (const key of this.sortedKeys) {
      if (out.length >= limit) break;
      if (!key.startsWith(prefix)) continue;
      if (opts.after !== undefined && key <= opts.after) continue;
      out.push([key, this.state.get(key) as string]);
    }
    return out;
  }

  commitBlock(batch: BlockCommitBatch): void {
    const height = batch.block.header.height;
    if (height !== this.blocks.length + 1) {
      throw new StorageError('HEIGHT_MISMATCH', `cannot store block ${height} on top of height ${this.blocks.length}`);
    }
    // Validate and serialise everything first, so a failure changes nothing.
    const raw: RawBlock = {
      hash: batch.hash,
      block: JSON.stringify(batch.block),
      commit: JSON.stringify(batch.commit),
      results: JSON.stringify(batch.results),
    };
    const hashes = batch.block.txs.map((tx) => txHash(tx));
    for (const w of batch.writes) {
      if (typeof w.key !== 'string' || (w.value !== null && typeof w.value !== 'string')) {
        throw new StorageError('CORRUPT', 'state writes must be string keys with string or null values');
      }
    }
    if (new Set(hashes).size !== hashes.length || hashes.some((h) => this.txIndex.has(h))) {
      throw new StorageError('CORRUPT', `block ${height} repeats a transaction already stored`);
    }
    this.blocks.push(raw);
    hashes.forEach((hash, index) => {
      this.txIndex.set(hash, { height, index });
    });
    for (const w of batch.writes) {
      if (w.value === null) this.state.delete(w.key);
      else this.state.set(w.key, w.value);
    }
    this.sortedKeys = undefined;
  }

  getMeta(key: string): string | undefined {
    return this.meta.get(key);
  }

  setMeta(key: string, value: string): void {
    this.meta.set(key, value);
  }

  close(): void {}
}
