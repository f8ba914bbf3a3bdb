// The narrow port between the ABCI 2.0 socket server and the MedLedger application
// (docs/cometbft.md). ABCI's protobuf shapes stay in handler.ts; this speaks bytes, integers
// and hex, so the application behind it can be the EHR adapter here or the engine-agnostic
// application interface of issue 16 part 1 without the server changing.

/** A proposed or decided block as the application sees it. */
export interface AbciBlock {
  height: number;
  /** Block time in ms since the epoch (CometBFT's BFT time, truncated to the ms). */
  time: number;
  /** The transactions' exact bytes, in block order. */
  txs: Uint8Array[];
  /** CometBFT's block hash (hex), used to reuse one execution for ProcessProposal and FinalizeBlock. */
  hash: string;
  /** The misbehaviour CometBFT proved and put in the block: offender's address (hex) and height. */
  misbehavior?: Array<{ kind: 'duplicate-vote' | 'light-client-attack'; address: string; height: number }>;
}

/** One transaction's outcome: `code` is MedLedger's stable code ('ok' or e.g. NONCE_MISMATCH). */
export interface AbciTxOutcome {
  code: string;
  /** Human-readable reason; empty when ok. */
  log: string;
}

/** A committed-state query answer. */
export interface AbciQueryAnswer {
  /** 0 found or proven absent; non-zero: the query itself is bad (see `log`). */
  code: number;
  value: Uint8Array;
  log: string;
  height: number;
}

/** What the ABCI server needs of an application. Calls arrive one at a time, in CometBFT's order. */
export interface AbciAppPort {
  /** Last committed height and app hash (empty bytes at height 0): ABCI Info. */
  info(): { height: number; appHash: Uint8Array };
  /**
   * Check CometBFT's genesis against the application's and answer the genesis app hash.
   * Throws when they disagree (the node must not run on another chain's genesis).
   */
  initChain(req: {
    chainId: string;
    appState: Uint8Array;
    initialHeight: number;
    validators: Array<{ publicKey: string; power: number }>;
  }): {
    appHash: Uint8Array;
  };
  /** Mempool admission; `recheck` after a commit re-admits against the new state. */
  checkTx(tx: Uint8Array, recheck: boolean): AbciTxOutcome;
  /** The transactions this validator proposes, from CometBFT's mempool order. */
  prepareProposal(req: { height: number; txs: Uint8Array[]; maxTxBytes: number }): Uint8Array[];
  /** Whether a proposal is acceptable; depends only on the block and committed state. */
  processProposal(block: AbciBlock): boolean;
  /**
   * Execute a decided block: each transaction's outcome, the app hash after it, and the
   * validator updates CometBFT applies from height + 2 (Ed25519 key hex, power; 0 removes).
   */
  finalizeBlock(block: AbciBlock): {
    results: AbciTxOutcome[];
    appHash: Uint8Array;
    validatorUpdates?: ReadonlyArray<{ publicKey: string; power: number }>;
  };
  /** Persist the last finalized block; returns the lowest height CometBFT must keep (0: all). */
  commit(): { retainHeight: number };
  /** Read committed state. */
  query(req: { path: string; data: Uint8Array }): AbciQueryAnswer;
}
