// Block sync (DESIGN §6): a node that is behind asks a peer for committed blocks with
// their commits, verifies each one completely, and only then applies it. A peer's claimed
// height is only a hint: each request is bounded, only answers we asked for are read, and
// a peer whose answer does not back its claim is disconnected and not followed for a while.
import { type Block, type Commit, parseBlock, parseCommit } from '@medledger/ledger';
import type { CommitDecided, EngineChain, Log, Now, PeerNet } from './ports.js';

/** Most blocks asked for, or served, in one request. */
export const SYNC_BATCH = 50;
/** Most bytes of blocks served in one answer (at least one block is always sent), well under the peer message limit. */
export const SYNC_BATCH_BYTES = 16 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 5_000;
/** How long the height claims of a peer that did not back them are ignored. */
export const DISTRUST_MS = 30_000;

export interface BlockSyncDeps {
  chain: EngineChain;
  commitDecided: CommitDecided;
  net: PeerNet;
  /** Run `fn` after `ms` unless the engine stopped meanwhile. */
  later: (ms: number, fn: () => void) => void;
  /** Called after one or more blocks were applied, so consensus restarts at the new height. */
  onApplied: () => void;
  now: Now;
  log: Log;
}

export class BlockSync {
  /** The one outstanding request: which peer, from which height. */
  private request: { peer: string; from: number; to: number } | undefined;
  private readonly peerHeights = new Map<string, number>();
  private readonly distrustedUntil = new Map<string, number>();

  private readonly chain: EngineChain;
  private readonly p2p: PeerNet;

  constructor(private readonly deps: BlockSyncDeps) {
    this.chain = deps.chain;
    this.p2p = deps.net;
  }

  /** A peer told us its height (or showed it by a signed vote at a later height). */
  onPeerHeight(peer: string, height: number): void {
    if (!Number.isSafeInteger(height) || height < 0) return;
    const until = this.distrustedUntil.get(peer);
    if (until !== undefined) {
      if (until > this.deps.now()) return;
      this.distrustedUntil.delete(peer);
    }
    this.peerHeights.set(peer, height);
    if (height > this.chain.height && this.request === undefined) {
      const from = this.chain.height + 1;
      const request = { peer, from, to: Math.min(height, from + SYNC_BATCH - 1) };
      this.request = request;
      this.p2p.send(peer, { type: 'getBlocks', from, to: request.to });
      this.deps.later(REQUEST_TIMEOUT_MS, () => {
        if (this.request !== request) return;
        // Unanswered: ask another peer next, rather than wait on this one again.
        this.request = undefined;
        this.distrust(peer, `did not answer a block request within ${REQUEST_TIMEOUT_MS} ms`);
      });
    }
  }

  /** Ignore `peer`'s height claims for DISTRUST_MS. */
  private distrust(peer: string, why: string): void {
    this.distrustedUntil.set(peer, this.deps.now() + DISTRUST_MS);
    this.peerHeights.delete(peer);
    this.deps.log('warn', `block sync: not following ${this.p2p.nameOf(peer)} for ${DISTRUST_MS / 1000} s: it ${why}`);
  }

  /** Answer a peer's getBlocks with up to SYNC_BATCH stored blocks and their commits. */
  serveBlocks(peer: string, msg: Record<string, unknown>): void {
    const { from, to } = msg;
    if (typeof from !== 'number' || typeof to !== 'number' || !Number.isSafeInteger(from) || from < 1) return;
    const last = Math.min(to, from + SYNC_BATCH - 1, this.chain.height);
    const blocks: Array<{ block: Block; commit: Commit }> = [];
    let bytes = 0;
    for (let h = from; h <= last; h++) {
      const stored = this.chain.loadBlock(h);
      if (stored === undefined) break;
      bytes += JSON.stringify(stored.block).length;
      if (blocks.length > 0 && bytes > SYNC_BATCH_BYTES) break;
      blocks.push({ block: stored.block, commit: stored.commit });
    }
    this.p2p.send(peer, { type: 'blocks', blocks });
  }

  /**
   * Apply blocks a peer sent. Each must be the next height, link to our tip, carry a valid
   * commit (more than 2/3 of the validators' precommits) and replay to its app hash; the
   * first that does not is refused, logged, and the peer dropped. Blocks applied before a
   * refusal stay applied: each was fully verified on its own. Only the answer to our own
   * outstanding request is read; an answer that does not start at the height asked for,
   * or holds more than was asked, means the peer's claimed height was a lie.
   */
  applyBlocks(peer: string, msg: Record<string, unknown>): void {
    const request = this.request;
    if (request === undefined || request.peer !== peer) return;
    this.request = undefined;
    const first = Array.isArray(msg.blocks) ? (msg.blocks[0] as { block?: { header?: { height?: unknown } } } | undefined) : undefined;
    if (!Array.isArray(msg.blocks) || msg.blocks.length > request.to - request.from + 1 || first?.block?.header?.height !== request.from) {
      this.refuse(peer, `claimed a height of ${this.peerHeights.get(peer) ?? '?'} but did not send blocks ${request.from}-${request.to}`);
      return;
    }
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
        if (block.header.height <= this.chain.height) continue;
        try {
          this.chain.validateNext(block, Number.MAX_SAFE_INTEGER);
          this.deps.commitDecided(block, commit);
        } catch (err) {
          this.refuse(peer, `sent block ${block.header.height} that was refused: ${(err as Error).message}`);
          return;
        }
        applied++;
      }
    } finally {
      if (applied > 0) {
        this.deps.log('info', `block sync: applied ${applied} blocks from ${this.p2p.nameOf(peer)}, now at height ${this.chain.height}`);
        this.deps.onApplied();
      }
    }
    const theirs = this.peerHeights.get(peer) ?? 0;
    if (applied > 0 && theirs > this.chain.height) this.onPeerHeight(peer, theirs);
  }

  private refuse(peer: string, why: string): void {
    this.deps.log('warn', `refused peer ${this.p2p.nameOf(peer)}: ${why}`);
    this.distrust(peer, 'sent blocks that do not back its claimed height');
    this.p2p.disconnect(peer);
  }
}
