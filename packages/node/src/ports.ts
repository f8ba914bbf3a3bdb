// The narrow ports the node's subsystems are built with, in the `(opts, deps)` shape
// (STYLE.md habit 13): each subsystem names the few capabilities it uses instead of
// reaching through the whole node. MedLedgerNode (node.ts) is the one place that wires
// them to real implementations; tests can hand in small fakes.
import type { SigningKeyPair } from '@medledger/crypto';
import type { Identity, StateReader, StateWrite } from '@medledger/ehr';
import type { Block, Commit, Genesis, GenesisValidator, SignedTx, TxResult } from '@medledger/ledger';
import type { NodeStore, ScanOptions, StoredBlock } from '@medledger/storage';

export type LogLevel = 'info' | 'warn' | 'error';

/** Where a subsystem reports what happened. Never given record contents, keys or tokens. */
export type Log = (level: LogLevel, message: string) => void;

/** This node's wall clock (ms). Used for timers, sessions and proposals, never in state transitions. */
export type Now = () => number;

/**
 * The time reads, grants and emergency windows are judged at: the later of the latest
 * block's time and this node's clock (MedLedgerNode.accessTime, docs/records.md "Consent").
 */
export type AccessTime = () => number;

/** Committed application state at the latest height, read-only, with ordered prefix scans. */
export interface CommittedView {
  readonly chainId: string;
  readonly genesis: Genesis;
  /** Committed state (genesis state before block 1). */
  readonly state: StateReader;
  /** Height of the latest committed block (0 before block 1). */
  height(): number;
  /** Time of the latest committed block (genesis time before block 1). */
  tipTime(): number;
  /** Keys under `prefix` in committed state, in key order, paged by `opts.after` (NodeStore.scanState). */
  scanState(prefix: string, opts?: ScanOptions): Array<[string, string]>;
}

/**
 * The one way the node submits transactions it makes itself (equivocation evidence,
 * emergency shares, access events, the FHIR organization agent): signed with `signer`
 * (the node's own key unless another key the node holds is named), at the signer's next
 * pending nonce, admitted through the same checkTx as a client's transaction and gossiped.
 * Throws ApiError when admission refuses it; nothing is kept then.
 */
export type SubmitOwnTx = (kind: string, body: Record<string, unknown>, signer?: SigningKeyPair) => { hash: string; tx: SignedTx };

/** What one committed block changed, as announced to commit listeners. */
export interface CommittedBlock {
  height: number;
  time: number;
  txs: readonly SignedTx[];
  results: readonly TxResult[];
  writes: readonly StateWrite[];
}

/** Called once per block after it is stored and the application has committed it. */
export type CommitListener = (block: CommittedBlock) => void;

/** Transactions by hash: still in this node's mempool, or their status (MedLedgerNode.txStatus). */
export interface TxLookup {
  isPending(hash: string): boolean;
  /**
   * Status as GET /v1/txs/:hash answers it: pending, committed with its inclusion proof, or
   * rejected with code and reason; the tx itself only for a `caller` who may see it.
   * Throws ApiError('TX_NOT_FOUND').
   */
  txStatus(hash: string, caller?: Identity): Record<string, unknown>;
}

// ---- Engine ports: what the embedded consensus engine (tendermint.ts) and block sync use.

/**
 * The engine side of the chain (chain.ts `Chain`): the stored tip, building and checking
 * the next block, and stored blocks for peers that sync. A getter satisfies the fields.
 */
export interface EngineChain {
  readonly height: number;
  readonly tipTime: number;
  /** Build the next block from `txs` at `time`, executing it for its app hash. */
  buildBlock(txs: SignedTx[], time: number, proposer: string): Block;
  /** The time a proposer should stamp: its clock, but strictly after the previous block. */
  nextBlockTime(now: number): number;
  /** Check a proposed next block against the tip and the application; throws ChainError. Returns its hash. */
  validateNext(block: Block, now: number): string;
  loadBlock(height: number): StoredBlock | undefined;
  /** The validator set that signs block `height` (at most the tip + 1; chain.ts `validatorsFor`). */
  validatorsFor(height: number): readonly GenesisValidator[];
  /** The newest validator set governance decided, possibly not in effect yet. */
  latestValidators(): readonly GenesisValidator[];
}

/**
 * Store a decided block with its commit and let everything above the engine learn of it
 * (chain.ts Chain.commitBlock, whose application tells the commit listeners). Throws, with
 * nothing stored, on a bad commit.
 */
export type CommitDecided = (block: Block, commit: Commit) => void;

/** The peer network as the engine uses it (p2p.ts `P2P`). */
export interface PeerNet {
  send(peer: string, msg: Record<string, unknown>): void;
  broadcast(msg: Record<string, unknown>): void;
  disconnect(peer: string): void;
  /** A peer's configured name, for logs. */
  nameOf(peer: string): string;
}

/** Small durable metadata: the double-sign guard, locks and this validator's own messages. */
export type MetaStore = Pick<NodeStore, 'getMeta' | 'setMeta' | 'setMetas'>;
