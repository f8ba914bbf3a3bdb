// The double-sign guard (DESIGN §6): the last signed (height, round, step) is written
// durably before any signature leaves the node, and nothing at or below it is signed
// again unless it is the identical message. Survives crashes and restarts.
import type { MetaStore } from './ports.js';

export type SignStep = 'proposal' | 'prevote' | 'precommit';
const STEP_ORDER: Record<SignStep, number> = { proposal: 1, prevote: 2, precommit: 3 };
const META_KEY = 'signer/last';

interface LastSigned {
  height: number;
  round: number;
  step: number;
  blockHash: string | null;
}

export class SignerGuard {
  private last: LastSigned | undefined;

  constructor(private readonly store: MetaStore) {
    const raw = store.getMeta(META_KEY);
    this.last = raw === undefined ? undefined : (JSON.parse(raw) as LastSigned);
  }

  /** The last signed position, for logs and tests. */
  get lastSigned(): Readonly<LastSigned> | undefined {
    return this.last;
  }

  /**
   * May this node sign `step` at (height, round) for `blockHash`? When yes, the position is
   * persisted (fsynced by the store) before returning, so a crash after sending cannot
   * lead to a conflicting signature on restart.
   */
  authorize(height: number, round: number, step: SignStep, blockHash: string | null): boolean {
    const next: LastSigned = { height, round, step: STEP_ORDER[step], blockHash };
    const l = this.last;
    if (l !== undefined) {
      const cmp = height - l.height || round - l.round || next.step - l.step;
      if (cmp < 0) return false;
      if (cmp === 0) return l.blockHash === blockHash;
    }
    this.store.setMeta(META_KEY, JSON.stringify(next));
    this.last = next;
    return true;
  }
}
