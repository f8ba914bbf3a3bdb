// Block sync (DESIGN §6): a node that is behind asks a peer for committed blocks with
// their commits, verifies each one completely, and only then applies it.
import { type Block, type Commit, parseBlock, parseCommit } from '@medledger/ledger';
import type { MedLedgerNode } from './node.js';
import type { P2P } from './p2p.js';

/** Most blocks asked for, or served, in one request. */
export const SYNC_BATCH = 50;
const REQUEST_TIMEOUT_MS = 5_000;

export class BlockSync {
  private syncingFrom: string | undefined;
  private readonly peerHeights = new Map<string, number>();

  constructor(
    private readonly node: MedLedgerNode,
    private readonly p2p: P2P,
    private readonly later: (ms: number, fn: () => void) => void,
    /** Called after one or more blocks were applied, so consensus restarts at the new height. */
    private readonly onApplied: () => void,
  ) {}

  /** A peer told us its height (or showed it by voting at a later height). */
  onPeerHeight(peer: string, height: number): void {
    if (!Number.isSafeInteger(height)) return;
    this.peerHeights.set(peer, height);
    if (height > this.node.chain.height && this.syncingFrom === undefined) {
      this.syncingFrom = peer;
      const from = this.node.chain.height + 1;
      this.p2p.send(peer, { type: 'getBlocks', from, to: Math.min(height, from + SYNC_BATCH - 1) });
      this.later(REQUEST_TIMEOUT_MS, () => {
        if (this.syncingFrom === peer) this.syncingFrom = undefined;
      });
    }
  }

  /** Answer a peer's getBlocks with up to SYNC_BATCH stored blocks and their commits. */
  serveBlocks(peer: string, msg: Record<string, unknown>): void {
    const { from, to } = msg;
    if (typeof from !== 'number' || typeof to !== 'number' || !Number.isSafeInteger(from) || from < 1) return;
    const last = Math.min(to, from + SYNC_BATCH - 1, this.node.chain.height);
    const blocks: Array<{ block: Block; commit: Commit }> = [];
    for (let h = from; h <= last; h++) {
      const stored = this.node.chain.store.loadBlock(h);
      if (stored === undefined) break;
      blocks.push({ block: stored.block, commit: stored.commit });
    }
    this.p2p.send(peer, { type: 'blocks', blocks });
  }

  /**
   * Apply blocks a peer sent. Each must be the next height, link to our tip, carry a valid
   * commit (more than 2/3 of the validators' precommits) and replay to its app hash; the
   * first that does not is refused, logged, and the peer dropped. Blocks applied before a
   * refusal stay applied: each was fully verified on its own.
   */
  applyBlocks(peer: string, msg: Record<string, unknown>): void {
    if (this.syncingFrom === peer) this.syncingFrom = undefined;
    if (!Array.isArray(msg.blocks)) return;
    let applied = 0;
    try {
      for (const entry of msg.blocks as Array<{ block: unknown; commit: unknown }>) {
        let block: Block;
        let commit: Commit;
        try {
          block = parseBlock(entry.block);
          commit = parseCommit(entry.commit);
        } catch (err) {
          this.refuse(peer, `sent a malformed block: ${(err as Error).message}`);
          return;
        }
        if (block.header.height <= this.node.chain.height) continue;
        try {
          this.node.chain.validateNext(block, Number.MAX_SAFE_INTEGER);
          this.node.commitDecided(block, commit);
        } catch (err) {
          this.refuse(peer, `sent block ${block.header.height} that was refused: ${(err as Error).message}`);
          return;
        }
        applied++;
      }
    } finally {
      if (applied > 0) {
        this.node.log(
          'info',
          `block sync: applied ${applied} blocks from ${this.p2p.nameOf(peer)}, now at height ${this.node.chain.height}`,
        );
        this.onApplied();
      }
    }
    const theirs = this.peerHeights.get(peer) ?? 0;
    if (applied > 0 && theirs > this.node.chain.height) this.onPeerHeight(peer, theirs);
  }

  private refuse(peer: string, why: string): void {
    this.node.log('warn', `refused peer ${this.p2p.nameOf(peer)}: ${why}`);
    this.p2p.disconnect(peer);
  }
}
