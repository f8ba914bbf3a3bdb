// How fast this node executes blocks, measured, and what the embedded engine derives from
// it: how big a block to propose and how long to wait for a peer's proposal. Liveness only:
// neither changes what any validator computes, only when a proposer stops adding
// transactions and when a validator gives up on a proposer (docs/consensus.md "Pacing").

/** Default target for a proposal's execution time (ms): see ExecutionPace.proposalTxs. */
export const DEFAULT_TARGET_BLOCK_MS = 1_000;
/** Per-transaction execution time assumed before any block was measured (ms). */
export const INITIAL_MS_PER_TX = 0.5;
/** Blocks smaller than this say little about the per-transaction cost and are not counted. */
const MIN_MEASURED_TXS = 20;
/** Weight of the newest block in the moving average. */
const ALPHA = 0.3;
/** Fewest transactions a proposal is cut to, however slow execution is. */
const MIN_PROPOSAL_TXS = 100;
/** Longest extra wait for a proposal: a stalled proposer is still given up on. */
const MAX_ALLOWANCE_MS = 60_000;

export interface ExecutionPaceOptions {
  /**
   * How long the proposer's own execution of a block should take (ms). A block is cut to
   * what this node executes in that time, so a height's length stays bounded under load.
   */
  targetBlockMs: number;
}

/**
 * A moving average of block execution time per transaction, wall clock, as this node
 * measures it (its machine's speed and load included). Validators run alike, so ours
 * predicts how long the proposer takes to execute a block before it can send it.
 */
export class ExecutionPace {
  private msPerTx = INITIAL_MS_PER_TX;

  constructor(private readonly opts: ExecutionPaceOptions) {}

  /** A block of `txs` transactions took `ms` to execute here. */
  observe(ms: number, txs: number): void {
    if (txs < MIN_MEASURED_TXS || !(ms >= 0)) return;
    this.msPerTx = ALPHA * (ms / txs) + (1 - ALPHA) * this.msPerTx;
  }

  /** The current estimate (ms per transaction). */
  get perTxMs(): number {
    return this.msPerTx;
  }

  /**
   * Most transactions to propose: what executes in the target time, at least
   * MIN_PROPOSAL_TXS, at most the chain's limit. Under saturation a block of the chain's
   * limit took longer than every timeout on the 2-core bench (a 5,000-transaction block
   * went to round 3, 80 s); smaller blocks carry the same load in more, shorter heights.
   */
  proposalTxs(maxBlockTxs: number): number {
    const fits = Math.floor(this.opts.targetBlockMs / this.msPerTx);
    return Math.max(Math.min(MIN_PROPOSAL_TXS, maxBlockTxs), Math.min(maxBlockTxs, fits));
  }

  /**
   * Extra wait for a proposal beyond the round's timeout when `txs` transactions are
   * waiting (a block's worth at most): twice their execution time here, for the proposer's
   * execution and for sending and reading the block.
   */
  proposeAllowanceMs(txs: number): number {
    return Math.min(MAX_ALLOWANCE_MS, Math.round(2 * txs * this.msPerTx));
  }
}
