// Committed state-tree nodes, memoised in front of the store (docs/state.md). Nodes are
// content-addressed, so a cached node is never stale and nothing needs invalidating when a
// block commits: a pruned node is simply never asked for again.
import type { StateTreeReader, StateTreeUpdate } from '@medledger/ledger';

/**
 * Two generations of at most `perGeneration` nodes each. When the current one fills it
 * becomes the previous one and the older is dropped whole; a hit in the previous generation
 * is copied forward. So the nodes every block walks (the top levels, the last blocks' new
 * nodes) survive a rotation, where the former single map emptied itself about once a block
 * (a block adds ~18,000 nodes) and the next block re-read its whole path from SQLite.
 * Dropping a generation whole keeps it cheap: no per-entry recency bookkeeping, and the
 * collector frees one map at a time. Sizes measured in docs/state.md.
 *
 * 250,000 nodes a generation holds the whole tree of a chain with ~100,000 keys and the
 * upper levels and recent paths of a larger one: the bench's 42,000 registrations (about
 * 300,000 nodes) executed with ~25 % less CPU than at 60,000, for ~40 MiB more heap.
 */
export class TreeNodeCache implements StateTreeReader {
  private current = new Map<string, Uint8Array>();
  private previous = new Map<string, Uint8Array>();

  constructor(
    private readonly store: StateTreeReader,
    private readonly perGeneration = 250_000,
  ) {}

  getTreeNode(hash: string): Uint8Array | undefined {
    const hit = this.current.get(hash);
    if (hit !== undefined) return hit;
    const kept = this.previous.get(hash);
    if (kept !== undefined) {
      // A block's new nodes are views into shared chunks (state-tree.ts): a node that lives on
      // across generations gets its own 65 bytes, so it does not keep its whole chunk alive.
      const own = kept.byteLength === kept.buffer.byteLength ? kept : kept.slice();
      this.remember(hash, own);
      return own;
    }
    const node = this.store.getTreeNode(hash);
    if (node !== undefined) this.remember(hash, node);
    return node;
  }

  /** Forget every cached node (the store was filled from a snapshot underneath). */
  clear(): void {
    this.current.clear();
    this.previous.clear();
  }

  /** Keep a committed block's new nodes: the next block and the next proofs walk them first. */
  add(update: StateTreeUpdate): void {
    for (const n of update.put) this.remember(n.hash, n.bytes);
  }

  /** How many nodes are held (both generations; a node may be in both). */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  private remember(hash: string, node: Uint8Array): void {
    if (this.current.size >= this.perGeneration) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(hash, node);
  }
}
