// The in-memory twin of the SQLite store, for tests and for replaying a chain in `verify`.
import { EMPTY_STATE_ROOT, txHash } from '@medledger/ledger';
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

interface HeldObject {
  data: Uint8Array;
  createdAt: number;
  anchored: boolean;
  uploader: string | null;
}

export class MemoryStore implements NodeStore {
  private readonly blocks: RawBlock[] = [];
  /** Blocks below this height are not held (a store filled by installSnapshot); blocks[i] is height base + 1 + i. */
  private base = 0;
  private readonly txIndex = new Map<string, { height: number; index: number }>();
  private readonly state = new Map<string, string>();
  private readonly meta = new Map<string, string>();
  private readonly treeNodes = new Map<string, Uint8Array>();
  private root = EMPTY_STATE_ROOT;
  private sortedKeys: string[] | undefined;
  private readonly vault = new Map<string, HeldObject>();
  private readonly wanted = new Set<string>();
  private readonly outbox = new Map<number, string>();
  private lastSeq = 0;

  tipHeight(): number {
    return this.base + this.blocks.length;
  }

  baseHeight(): number {
    return this.blocks.length === 0 ? 0 : this.base + 1;
  }

  installSnapshot(batch: SnapshotInstallBatch): void {
    if (this.tipHeight() !== 0)
      throw new StorageError('HEIGHT_MISMATCH', `cannot install a snapshot over a store at height ${this.tipHeight()}`);
    const height = batch.block.header.height;
    const raw: RawBlock = {
      hash: batch.hash,
      block: JSON.stringify(batch.block),
      commit: JSON.stringify(batch.commit),
      results: JSON.stringify(batch.results),
    };
    this.base = height - 1;
    this.blocks.push(raw);
    batch.block.txs.forEach((tx, index) => {
      this.txIndex.set(txHash(tx), { height, index });
    });
    for (const w of batch.writes) if (w.value !== null) this.state.set(w.key, w.value);
    for (const n of batch.tree.put) this.treeNodes.set(n.hash, Uint8Array.from(n.bytes));
    this.root = batch.tree.root;
    this.sortedKeys = undefined;
  }

  loadBlockRaw(height: number): RawBlock | undefined {
    const raw = height > this.base ? this.blocks[height - this.base - 1] : undefined;
    return raw === undefined ? undefined : { ...raw };
  }

  loadHeader(height: number): StoredHeader | undefined {
    const stored = this.loadBlock(height);
    return stored === undefined ? undefined : { hash: stored.hash, header: stored.block.header, commit: stored.commit };
  }

  loadBlock(height: number): StoredBlock | undefined {
    const raw = height > this.base ? this.blocks[height - this.base - 1] : undefined;
    if (raw === undefined) return undefined;
    return { hash: raw.hash, block: JSON.parse(raw.block), commit: JSON.parse(raw.commit), results: JSON.parse(raw.results) };
  }

  findTx(txHash: string): TxLocation | undefined {
    const loc = this.txIndex.get(txHash);
    if (loc === undefined) return undefined;
    const results = JSON.parse((this.blocks[loc.height - this.base - 1] as RawBlock).results);
    return { ...loc, result: results[loc.index] };
  }

  getState(key: string): string | undefined {
    return this.state.get(key);
  }

  scanState(prefix: string, opts: ScanOptions = {}): Array<[string, string]> {
    this.sortedKeys ??= [...this.state.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const out: Array<[string, string]> = [];
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    const { after, reverse } = opts;
    const keys = reverse === true ? [...this.sortedKeys].reverse() : this.sortedKeys;
    for (const key of keys) {
      if (out.length >= limit) break;
      if (!key.startsWith(prefix)) continue;
      if (after !== undefined && (reverse === true ? key >= after : key <= after)) continue;
      out.push([key, this.state.get(key) as string]);
    }
    return out;
  }

  stateRoot(): string {
    return this.root;
  }

  getTreeNode(hash: string): Uint8Array | undefined {
    return this.treeNodes.get(hash);
  }

  commitBlock(batch: BlockCommitBatch): void {
    const height = batch.block.header.height;
    if (height !== this.tipHeight() + 1) {
      throw new StorageError('HEIGHT_MISMATCH', `cannot store block ${height} on top of height ${this.tipHeight()}`);
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
    const { tree } = batch;
    if (typeof tree?.root !== 'string' || !Array.isArray(tree.put) || !Array.isArray(tree.remove)) {
      throw new StorageError('CORRUPT', 'a block batch must carry its state-tree update');
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
    for (const hash of tree.remove) this.treeNodes.delete(hash);
    for (const n of tree.put) this.treeNodes.set(n.hash, Uint8Array.from(n.bytes));
    this.root = tree.root;
    this.sortedKeys = undefined;
  }

  getMeta(key: string): string | undefined {
    return this.meta.get(key);
  }

  setMeta(key: string, value: string): void {
    this.meta.set(key, value);
  }

  setMetas(entries: ReadonlyArray<readonly [string, string]>): void {
    for (const [key, value] of entries) this.meta.set(key, value);
  }

  putVaultObject(hash: string, data: Uint8Array, now: number, uploader?: string): boolean {
    if (this.vault.has(hash)) return false;
    const anchored = this.wanted.delete(hash);
    // A copy, so a caller reusing its buffer cannot change what is stored.
    this.vault.set(hash, { data: data.slice(), createdAt: now, anchored, uploader: uploader ?? null });
    return true;
  }

  vaultObjectInfo(hash: string): VaultObjectInfo | undefined {
    const held = this.vault.get(hash);
    if (held === undefined) return undefined;
    return { size: held.data.length, uploader: held.uploader, status: held.anchored ? 'anchored' : 'unanchored' };
  }

  vaultTotals(): { objects: number; bytes: number } {
    let bytes = 0;
    for (const held of this.vault.values()) bytes += held.data.length;
    return { objects: this.vault.size, bytes };
  }

  vaultUsage(uploader: string): VaultUsage {
    const usage: VaultUsage = { pendingObjects: 0, pendingBytes: 0, anchoredBytes: 0 };
    for (const held of this.vault.values()) {
      if (held.uploader !== uploader) continue;
      if (held.anchored) usage.anchoredBytes += held.data.length;
      else {
        usage.pendingObjects++;
        usage.pendingBytes += held.data.length;
      }
    }
    return usage;
  }

  getVaultObject(hash: string): Uint8Array | undefined {
    return this.vault.get(hash)?.data.slice();
  }

  hasVaultObject(hash: string): boolean {
    return this.vault.has(hash);
  }

  vaultObjectStatus(hash: string): VaultObjectStatus | undefined {
    const held = this.vault.get(hash);
    if (held !== undefined) return held.anchored ? 'anchored' : 'unanchored';
    return this.wanted.has(hash) ? 'wanted' : undefined;
  }

  deleteVaultObjects(hashes: readonly string[]): number {
    let deleted = 0;
    for (const hash of hashes) if (this.vault.delete(hash)) deleted++;
    return deleted;
  }

  markVaultAnchored(hashes: readonly string[]): string[] {
    const missing = new Set<string>();
    for (const hash of hashes) {
      const held = this.vault.get(hash);
      if (held !== undefined) held.anchored = true;
      else {
        this.wanted.add(hash);
        missing.add(hash);
      }
    }
    return [...missing];
  }

  wantedVaultObjects(limit: number, after?: string): string[] {
    return [...this.wanted]
      .filter((h) => after === undefined || h > after)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, Math.max(0, limit));
  }

  unwantVaultObject(hash: string): void {
    this.wanted.delete(hash);
  }

  expireUnanchoredVaultObjects(olderThan: number): number {
    let deleted = 0;
    for (const [hash, held] of this.vault) {
      if (!held.anchored && held.createdAt < olderThan) {
        this.vault.delete(hash);
        deleted++;
      }
    }
    return deleted;
  }

  appendOutbox(items: readonly string[]): number[] {
    return items.map((item) => {
      this.lastSeq++;
      this.outbox.set(this.lastSeq, item);
      return this.lastSeq;
    });
  }

  loadOutbox(limit = Number.POSITIVE_INFINITY): Array<{ seq: number; item: string }> {
    // Map iteration is insertion order, and sequence numbers are inserted increasing.
    const out: Array<{ seq: number; item: string }> = [];
    for (const [seq, item] of this.outbox) {
      if (out.length >= limit) break;
      out.push({ seq, item });
    }
    return out;
  }

  removeOutbox(seqs: readonly number[]): void {
    for (const seq of seqs) this.outbox.delete(seq);
  }

  replaceOutbox(remove: readonly number[], add: readonly string[]): number[] {
    this.removeOutbox(remove);
    return this.appendOutbox(add);
  }

  close(): void {}
}
