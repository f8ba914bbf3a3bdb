// The mempool: admitted transactions in arrival order, de-duplicated and bounded.
import type { SignedTx } from '@medledger/ledger';

/** A transaction waiting for a block, with its hash and canonical size. */
export interface PendingTx {
  hash: string;
  tx: SignedTx;
  bytes: number;
}

/**
 * Insertion-ordered pool. Nonces of one signer arrive in order (checkTx requires the next
 * one against committed state plus the pool), so arrival order is also a valid block order.
 */
export class Mempool {
  private readonly pending = new Map<string, PendingTx>();
  /** The same entries by signature: a proposal's transactions are matched to ours (`bySignature`). */
  private readonly bySig = new Map<string, PendingTx>();
  private totalBytes = 0;

  constructor(private readonly limits: { maxTxs: number; maxBytes: number }) {}

  get size(): number {
    return this.pending.size;
  }

  /** Canonical bytes of the waiting transactions (metrics). */
  get bytes(): number {
    return this.totalBytes;
  }

  has(hash: string): boolean {
    return this.pending.has(hash);
  }

  /** True when one more tx of `bytes` would exceed the pool's bounds. */
  isFull(bytes: number): boolean {
    return this.pending.size >= this.limits.maxTxs || this.totalBytes + bytes > this.limits.maxBytes;
  }

  add(entry: PendingTx): void {
    if (this.pending.has(entry.hash)) return;
    this.pending.set(entry.hash, entry);
    this.bySig.set(entry.tx.sig, entry);
    this.totalBytes += entry.bytes;
  }

  /** Up to `maxTxs` transactions and `maxBytes` canonical bytes, oldest first. */
  reap(maxTxs: number, maxBytes: number): PendingTx[] {
    const out: PendingTx[] = [];
    let bytes = 0;
    for (const entry of this.pending.values()) {
      if (out.length >= maxTxs || bytes + entry.bytes > maxBytes) break;
      out.push(entry);
      bytes += entry.bytes;
    }
    return out;
  }

  /**
   * The pending transaction carrying signature `sig`, if any. A peer's proposal names its
   * transactions in full; the ones already here are reused instead of parsed, canonicalised
   * and hashed again. Only a hint: the caller checks the reused objects against the
   * block's tx root (ledger parseBlock), so a wrong match refuses the block, never alters it.
   */
  bySignature(sig: string): SignedTx | undefined {
    return this.bySig.get(sig)?.tx;
  }

  remove(hash: string): PendingTx | undefined {
    const entry = this.pending.get(hash);
    if (entry !== undefined) {
      this.pending.delete(hash);
      if (this.bySig.get(entry.tx.sig) === entry) this.bySig.delete(entry.tx.sig);
      this.totalBytes -= entry.bytes;
    }
    return entry;
  }

  /** Everything pending, oldest first; the caller re-checks it after a commit. */
  drain(): PendingTx[] {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.bySig.clear();
    this.totalBytes = 0;
    return all;
  }
}
