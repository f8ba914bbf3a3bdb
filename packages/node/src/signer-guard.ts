// The double-sign guard (DESIGN §6): the last signed (height, round, step) is written
// durably before any signature leaves the node, and nothing at or below it is signed
// again unless it is the identical message. Survives crashes and restarts.
//
// A restored backup rolls that position back to the backup's: the validator may have signed
// later votes before it was lost. So a restore (backup.ts restoreHome) writes a hold: nothing is
// signed until the chain holds a block stamped after the restore, which the other validators
// can only have made at a height beyond any the lost copy could have voted at (a validator
// votes at height h only once h-1 is committed). docs/deploy.md "Double-signing after a restore".
import type { MetaStore } from './ports.js';

export type SignStep = 'proposal' | 'prevote' | 'precommit';
const STEP_ORDER: Record<SignStep, number> = { proposal: 1, prevote: 2, precommit: 3 };
export const SIGNER_LAST_KEY = 'signer/last';
/** Wall-clock ms of a restore; signing waits for a committed block stamped later. */
export const SIGNER_HOLD_KEY = 'signer/held-since-restore';

interface LastSigned {
  height: number;
  round: number;
  step: number;
  blockHash: string | null;
}

/** Is stored position `a` (JSON, as kept under SIGNER_LAST_KEY) later than `b`? */
export function signedPositionAfter(a: string, b: string): boolean {
  const x = JSON.parse(a) as LastSigned;
  const y = JSON.parse(b) as LastSigned;
  return (x.height - y.height || x.round - y.round || x.step - y.step) > 0;
}

export class SignerGuard {
  private last: LastSigned | undefined;
  private heldSince: number | undefined;

  /** `tipTime`: the block time of the newest committed block (lifts a restore's hold). */
  constructor(
    private readonly store: MetaStore,
    private readonly tipTime: () => number = () => 0,
    private readonly log: (line: string) => void = () => {},
  ) {
    const raw = store.getMeta(SIGNER_LAST_KEY);
    this.last = raw === undefined ? undefined : (JSON.parse(raw) as LastSigned);
    const held = store.getMeta(SIGNER_HOLD_KEY);
    this.heldSince = held === undefined || held === '' ? undefined : Number(held);
  }

  /** The restore time signing waits to see passed by a committed block, if any. */
  get holdSince(): number | undefined {
    return this.heldSince;
  }

  /** The last signed position, for logs and tests. */
  get lastSigned(): Readonly<LastSigned> | undefined {
    return this.last;
  }

  /**
   * May this node sign `step` at (height, round) for `blockHash`? When yes, the position is
   * persisted (fsynced by the store) before returning, so a crash after sending cannot
   * lead to a conflicting signature on restart. `alsoWrite` is written in the same
   * transaction (the signed message itself, the lock it rests on): one sync, not three.
   */
  authorize(
    height: number,
    round: number,
    step: SignStep,
    blockHash: string | null,
    alsoWrite: ReadonlyArray<readonly [string, string]> = [],
  ): boolean {
    if (this.heldSince !== undefined) {
      if (this.tipTime() <= this.heldSince) return false;
      this.log(`signing resumes at height ${height}: the chain has a block committed after this home was restored`);
      this.store.setMeta(SIGNER_HOLD_KEY, '');
      this.heldSince = undefined;
    }
    const next: LastSigned = { height, round, step: STEP_ORDER[step], blockHash };
    const l = this.last;
    if (l !== undefined) {
      const cmp = height - l.height || round - l.round || next.step - l.step;
      if (cmp < 0) return false;
      if (cmp === 0) {
        // The identical message again (a restart within the height): allowed, nothing new to guard.
        if (l.blockHash !== blockHash) return false;
        if (alsoWrite.length > 0) this.store.setMetas(alsoWrite);
        return true;
      }
    }
    this.store.setMetas([[SIGNER_LAST_KEY, JSON.stringify(next)], ...alsoWrite]);
    this.last = next;
    return true;
  }
}
