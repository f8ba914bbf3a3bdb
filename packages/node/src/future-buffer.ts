// Consensus messages for a height this node has not started yet, held until it does. Only
// verified messages get in (signed by a validator, checked by the caller), each relaying
// peer has its own bounded share, and the nearest heights are kept first, so one peer
// cannot fill the node's memory or push out what the others sent (issue 12 item 9).

/** How many heights past the next one are kept; further ones are block sync's business. */
export const FUTURE_HEIGHTS = 2;
/** Messages kept per relaying peer, and in all. */
export const MAX_FUTURE_PER_PEER = 1_000;
export const MAX_FUTURE_MESSAGES = 10_000;
/** Proposals (which carry whole blocks) kept per relaying peer. */
export const MAX_FUTURE_PROPOSALS_PER_PEER = 4;

interface Entry {
  height: number;
  key: string;
  proposal: boolean;
  msg: Record<string, unknown>;
}

export class FutureBuffer {
  private readonly byPeer = new Map<string, Entry[]>();
  private readonly keys = new Set<string>();
  private total = 0;

  /**
   * Keep `msg` (already verified) from `peer` for `height`, identified by `key` (one copy of
   * each message, whoever relays it). When the peer's share is full, a message for a nearer
   * height replaces one of its farthest; otherwise the new message is dropped. Dropping is
   * safe: validators re-send the current height's messages while a height is stuck.
   */
  add(peer: string, height: number, key: string, proposal: boolean, msg: Record<string, unknown>): boolean {
    if (this.keys.has(key)) return false;
    const own = this.byPeer.get(peer) ?? [];
    if (proposal && own.filter((e) => e.proposal).length >= MAX_FUTURE_PROPOSALS_PER_PEER) return false;
    if (own.length >= MAX_FUTURE_PER_PEER || this.total >= MAX_FUTURE_MESSAGES) {
      let farthest = -1;
      for (let i = 0; i < own.length; i++) if (farthest < 0 || (own[i] as Entry).height > (own[farthest] as Entry).height) farthest = i;
      if (farthest < 0 || (own[farthest] as Entry).height <= height) return false;
      const [evicted] = own.splice(farthest, 1);
      this.keys.delete((evicted as Entry).key);
      this.total--;
    }
    own.push({ height, key, proposal, msg });
    this.byPeer.set(peer, own);
    this.keys.add(key);
    this.total++;
    return true;
  }

  /** Is any message for `height` held (peers already work on it)? */
  has(height: number): boolean {
    for (const own of this.byPeer.values()) if (own.some((e) => e.height === height)) return true;
    return false;
  }

  /** Remove and return every held message for `height`, in arrival order per peer. */
  take(height: number): Array<{ peer: string; msg: Record<string, unknown> }> {
    const out: Array<{ peer: string; msg: Record<string, unknown> }> = [];
    for (const [peer, own] of this.byPeer) {
      const keep: Entry[] = [];
      for (const e of own) {
        if (e.height === height) {
          out.push({ peer, msg: e.msg });
          this.keys.delete(e.key);
          this.total--;
        } else keep.push(e);
      }
      this.set(peer, keep);
    }
    return out;
  }

  /** Forget messages for heights up to `height` (the chain has them). */
  dropThrough(height: number): void {
    for (const [peer, own] of this.byPeer) {
      const keep = own.filter((e) => e.height > height);
      for (const e of own) if (e.height <= height) this.keys.delete(e.key);
      this.total -= own.length - keep.length;
      this.set(peer, keep);
    }
  }

  /** Held messages in all and per peer, for tests and metrics. */
  size(peer?: string): number {
    return peer === undefined ? this.total : (this.byPeer.get(peer)?.length ?? 0);
  }

  private set(peer: string, own: Entry[]): void {
    if (own.length === 0) this.byPeer.delete(peer);
    else this.byPeer.set(peer, own);
  }
}
