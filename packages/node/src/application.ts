// The application side of the node: execute blocks, commit the state they produce, answer
// queries. Both engines drive it through the one `Application` interface below, shaped on
// CometBFT's ABCI 2.0 (docs/architecture.md): the embedded Tendermint engine through
// chain.ts, and a CometBFT ABCI socket server (issue 16 part 2) method for method.
import {
  type BlockExecution,
  type CommittedState,
  EhrApp,
  type EngineMisbehavior,
  emergencyParams,
  type Identity,
  initChain,
  StateOverlay,
  type StateReader,
  type ValidatorEntry,
  validatorSetDecidedIn,
} from '@medledger/ehr';
import {
  appHashOf,
  type Block,
  type Commit,
  type Genesis,
  MemoryStateTree,
  type ProvenStateEntry,
  proveStateKey,
  resultsRootOf,
  type SignedTx,
  type StateTreeReader,
  stateValueHash,
  type TxResult,
  txHash,
} from '@medledger/ledger';
import type { NodeStore, SnapshotInstallBatch, SqliteAppState, StateWrite } from '@medledger/storage';
import { ChainError } from './chain-error.js';
import type { CommitListener } from './ports.js';
import { TreeNodeCache } from './tree-cache.js';

/** ABCI `Info`: the last height whose state is committed, and the app hash after it. */
export interface AppInfo {
  height: number;
  appHash: string;
}

/** ABCI `PrepareProposal`: the proposer's candidate transactions (mempool order) for the next block. */
export interface ProposalRequest {
  height: number;
  /** The proposal's block time (ms), already strictly after the previous block's. */
  time: number;
  proposer: string;
  txs: SignedTx[];
}

/**
 * The transactions to propose, in order, and the app hash executing them gives. MedLedger
 * headers carry the app hash *after* their own block, so the embedded engine needs it here;
 * a CometBFT adapter (whose headers carry the previous block's) ignores it.
 */
export interface PreparedProposal {
  txs: SignedTx[];
  appHash: string;
}

/** ABCI `ProcessProposal` / `FinalizeBlock` request: a block by its hash, height, time and transactions. */
export interface BlockRequest {
  hash: string;
  height: number;
  time: number;
  txs: SignedTx[];
  /** Misbehaviour the engine proved and put in the block (CometBFT's list), recorded as evidence. */
  misbehavior?: readonly EngineMisbehavior[];
}

/** ABCI `ProcessProposal` answer. */
export type ProposalVerdict = { accept: true } | { accept: false; reason: string };

/** ABCI `FinalizeBlock` answer: one result per transaction (code and log), and the app hash after the block. */
export interface FinalizedBlock {
  results: TxResult[];
  appHash: string;
  /**
   * The validator set this block decided, in effect from `height + VALSET_DELAY` (ehr
   * governance); absent when it decided none. CometBFT is told it as validator updates.
   */
  decidedValidators?: ValidatorEntry[];
}

/**
 * What `commit` persists with the state: the decided block and its commit. The embedded
 * engine keeps blocks and state in one SQLite database and writes both in one transaction
 * (DESIGN §9: a crash leaves the node at the previous height or the next, never between).
 */
export interface DecidedBlock {
  block: Block;
  hash: string;
  commit: Commit;
}

/**
 * The application's own state file when the blocks are not the node's (CometBFT keeps them):
 * state, its tree, each transaction's result and the last committed tip, saved per block in
 * one transaction (storage SqliteAppState). `EhrApplication.commitState` writes it.
 */
export type AppStateFile = Pick<SqliteAppState, 'lastCommitted' | 'getState' | 'getTreeNode' | 'stateRoot' | 'saveBlock'>;

/** One transaction of a block as the tx index keeps it: its hash and result, in block order. */
export interface IndexedTx {
  hash: string;
  result: TxResult;
}

/** ABCI `Query` paths this application answers (`key` is a state key, a signer key or an identity id). */
export type QueryPath = 'state' | 'prove' | 'nonce' | 'identity';

export type QueryAnswer =
  | { path: 'state'; key: string; value: string | null }
  | { path: 'prove'; entry: ProvenStateEntry }
  | { path: 'nonce'; nonce: number }
  | { path: 'identity'; identity: Identity | null };

/**
 * The application as a consensus engine drives it, one method per ABCI 2.0 call. Rules an
 * adapter must keep:
 * - `processProposal` depends only on the block and committed state, never the local clock
 *   (time checks against the clock are the engine's, in chain.ts `validateNext`);
 * - `finalizeBlock` executes against committed state without changing it; it may be called
 *   for several candidate blocks of one height, and executions are cached by block hash, so
 *   `processProposal` then `finalizeBlock` of one block executes it once;
 * - `commit` makes the finalized block's state the committed state, durably, then tells
 *   commit listeners (the node's mempool re-check, vault and emergency agent) what changed.
 *   Listeners submit their own transactions asynchronously through the mempool; nothing in
 *   commit waits on it.
 */
export interface Application {
  info(): AppInfo;
  /**
   * ABCI `CheckTx`: signature, nonce and the kind's rules against committed state plus the
   * transactions already admitted; on success its effects are kept for the next check.
   * `admission` runs once the rules pass, before anything is kept, and may throw to refuse.
   */
  checkTx(tx: SignedTx, admission?: (tx: SignedTx) => void): TxResult;
  /**
   * Admission of a peer's relay: the checks every kind shares (chain, kind, signature, exact
   * nonce), not the kind's rules, which the client's node ran and every block runs (ehr
   * EhrApp.checkRelayedTx).
   */
  checkRelayedTx(tx: SignedTx): TxResult;
  /**
   * The re-check after a commit of a transaction admitted before it (the mempool's
   * survivors, in admission order): the same verdict as checkTx against the new state, but
   * one whose reads the block did not touch keeps its recorded effects without the rules
   * running again (ehr EhrApp.recheckTx).
   */
  recheckTx(tx: SignedTx): TxResult;
  prepareProposal(req: ProposalRequest): PreparedProposal;
  /** Accept iff executing the block gives the app hash its header claims. */
  processProposal(req: BlockRequest & { appHash: string }): ProposalVerdict;
  finalizeBlock(req: BlockRequest): FinalizedBlock;
  commit(decided: DecidedBlock): void;
  /**
   * The state-only commit, for an engine that keeps blocks and commits itself (CometBFT,
   * whose ABCI Commit carries neither): persist the finalized block's state, results and tip
   * to the app's own state file, then tell the commit listeners as `commit` does. `txIndex`
   * is every transaction of the engine's block in order (undecodable ones too, with their
   * refusal), which is what the engine's tx hashes and indexes name.
   */
  commitState(req: BlockRequest, txIndex: readonly IndexedTx[]): void;
  query(path: QueryPath, key: string): QueryAnswer;
}

/** Key under which the node records the app hash it stored with the tip (not part of app state hashing). */
const TIP_APP_HASH_KEY = 'node/tip';

/** Whether a stored state key is this node's own bookkeeping, outside the state tree (a snapshot leaves it out). */
export function isNodeLocalKey(key: string): boolean {
  return key === TIP_APP_HASH_KEY;
}

/**
 * Committed state reads, memoised. Every transaction reads a few keys (nonce, identity)
 * several times per node (admission, proposal, commit, mempool re-check), so recent keys
 * are kept in memory and updated from each committed block's writes.
 */
class CachedState implements StateReader {
  private readonly cache = new Map<string, string | null>();
  constructor(
    private readonly store: StateReader,
    private readonly max = 200_000,
  ) {}
  getState(key: string): string | undefined {
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const value = this.store.getState(key);
    if (this.cache.size >= this.max) this.cache.clear();
    this.cache.set(key, value ?? null);
    return value;
  }
  apply(writes: readonly StateWrite[]): void {
    for (const w of writes) if (this.cache.has(w.key)) this.cache.set(w.key, w.value);
  }
  /** Forget every cached read (the store was filled from a snapshot underneath). */
  clear(): void {
    this.cache.clear();
  }
}

interface AppTip {
  height: number;
  /** Block time of the last committed block (genesis time before block 1). */
  time: number;
  stateRoot: string;
  resultsRoot: string;
  appHash: string;
}

/** The health-record application (ehr `EhrApp`) over a node store, behind `Application`. */
export class EhrApplication implements Application {
  readonly app: EhrApp;
  private readonly genesisExec: BlockExecution;
  private readonly genesisView: StateOverlay;
  private readonly genesisTree = new MemoryStateTree();
  private readonly treeNodes: TreeNodeCache;
  private readonly cached: CachedState;
  private readonly executions = new Map<string, BlockExecution>();
  /** The last prepareProposal's execution, reused when that block is finalized under its hash. */
  private prepared: { height: number; time: number; txs: SignedTx[]; exec: BlockExecution } | undefined;
  private tip: AppTip;
  private readonly listeners: CommitListener[] = [];

  /** Where committed state is persisted: with the blocks (embedded engine) or alone (CometBFT). */
  private readonly store: NodeStore | AppStateFile;

  constructor(
    readonly genesis: Genesis,
    store: NodeStore | AppStateFile,
  ) {
    this.store = store;
    this.genesisExec = initChain(genesis);
    this.cached = new CachedState(store);
    this.genesisView = new StateOverlay(this.cached);
    for (const w of this.genesisExec.writes) if (w.value !== null) this.genesisView.set(w.key, w.value);
    this.genesisTree.apply(this.genesisExec.tree);
    this.treeNodes = new TreeNodeCache(store);
    // Before block 1 is stored, genesis state and its tree live only in memory; block 1 writes them.
    const view: CommittedState = {
      getState: (key) => this.state.getState(key),
      getTreeNode: (hash) => this.tree().getTreeNode(hash),
      stateRoot: () => this.tip.stateRoot,
    };
    this.app = new EhrApp(genesis.chainId, view, emergencyParams(genesis));
    this.tip = {
      height: 0,
      time: genesis.genesisTime,
      stateRoot: this.genesisExec.tree.root,
      resultsRoot: this.genesisExec.resultsRoot,
      appHash: this.genesisExec.appHash,
    };
    if (!isNodeStore(store)) {
      const last = store.lastCommitted();
      if (last.height > 0)
        this.tip = {
          height: last.height,
          time: last.time,
          stateRoot: store.stateRoot(),
          resultsRoot: last.resultsRoot,
          appHash: last.appHash,
        };
      return;
    }
    this.loadStoredTip(store);
  }

  /** The block store is shared with the embedded engine: the tip block gives its time and results. */
  private loadStoredTip(store: NodeStore): void {
    const height = store.tipHeight();
    if (height === 0) return;
    const stored = store.loadBlock(height);
    if (stored === undefined) throw new ChainError('CORRUPT', `block ${height} is missing from the store`);
    this.tip = {
      height,
      time: stored.block.header.time,
      stateRoot: store.stateRoot(),
      resultsRoot: resultsRootOf(stored.results),
      appHash: stored.block.header.appHash,
    };
  }

  /**
   * Fill the empty store from a verified snapshot (state sync, state-sync.ts checked it
   * against a commit of the validators) and make it the committed state. Nothing may have
   * been committed or admitted yet. Throws StorageError('HEIGHT_MISMATCH') over a non-empty store.
   */
  installSnapshot(batch: SnapshotInstallBatch): void {
    const store = this.store;
    if (!isNodeStore(store)) throw new ChainError('BAD_BLOCK', 'this application keeps state only; CometBFT syncs it');
    const writes = [...batch.writes, { key: TIP_APP_HASH_KEY, value: `${batch.block.header.height}:${batch.block.header.appHash}` }];
    store.installSnapshot({ ...batch, writes });
    this.cached.clear();
    this.treeNodes.clear();
    this.executions.clear();
    this.prepared = undefined;
    this.loadStoredTip(store);
    this.app.commit();
  }

  /** Register a commit listener (the commit notification port); called in registration order. */
  onCommitted(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  /** Committed application state (genesis state before block 1). */
  readonly state: StateReader = { getState: (key) => (this.tip.height === 0 ? this.genesisView : this.cached).getState(key) };

  private tree(): StateTreeReader {
    return this.tip.height === 0 ? this.genesisTree : this.treeNodes;
  }

  info(): AppInfo {
    return { height: this.tip.height, appHash: this.tip.appHash };
  }

  /** Time of the last committed block (genesis time before block 1): what admission judges by. */
  get lastBlockTime(): number {
    return this.tip.time;
  }

  /** Root of the committed state tree (genesis state before block 1). */
  get stateRoot(): string {
    return this.tip.stateRoot;
  }

  /** RFC 9162 root of the last block's transaction results (of the empty list before block 1). */
  get resultsRoot(): string {
    return this.tip.resultsRoot;
  }

  checkTx(tx: SignedTx, admission?: (tx: SignedTx) => void): TxResult {
    return this.app.checkTx(tx, { height: this.tip.height + 1, time: this.tip.time }, admission);
  }

  checkRelayedTx(tx: SignedTx): TxResult {
    return this.app.checkRelayedTx(tx, { height: this.tip.height + 1, time: this.tip.time });
  }

  recheckTx(tx: SignedTx): TxResult {
    return this.app.recheckTx(tx, { height: this.tip.height + 1, time: this.tip.time });
  }

  /** The next nonce a signer must use, as committed plus admitted to the mempool. */
  pendingNonce(signer: string): number {
    return this.app.pendingNonce(signer);
  }

  /** Committed-state queries the API serves (as `query('nonce' | 'identity')`, without the wrapping). */
  get queries() {
    return this.app.query;
  }

  /** Told how long each block's execution took, in ms, and its transaction count (metrics, execution pace). */
  observeExecution: (ms: number, txs: number) => void = () => {};

  private timedFinalize(input: Parameters<EhrApp['finalizeBlock']>[0]): BlockExecution {
    const started = performance.now();
    const exec = this.app.finalizeBlock(input);
    this.observeExecution(performance.now() - started, input.txs.length);
    return exec;
  }

  prepareProposal(req: ProposalRequest): PreparedProposal {
    // The mempool already ordered and bounded the candidates; every one is proposed.
    const exec = this.timedFinalize({ height: req.height, time: req.time, txs: req.txs });
    this.prepared = { height: req.height, time: req.time, txs: req.txs, exec };
    return { txs: req.txs, appHash: exec.appHash };
  }

  processProposal(req: BlockRequest & { appHash: string }): ProposalVerdict {
    const exec = this.execute(req);
    if (exec.appHash === req.appHash) return { accept: true };
    this.executions.delete(req.hash);
    return { accept: false, reason: `block ${req.height} app hash differs from our execution` };
  }

  finalizeBlock(req: BlockRequest): FinalizedBlock {
    const exec = this.execute(req);
    const decided = validatorSetDecidedIn(exec.writes, req.height);
    return { results: exec.results, appHash: exec.appHash, ...(decided === undefined ? {} : { decidedValidators: decided }) };
  }

  /** Execute a candidate next block against committed state; cached by block hash. */
  private execute(req: BlockRequest): BlockExecution {
    let exec = this.executions.get(req.hash);
    if (exec === undefined) {
      const p = this.prepared;
      // Our own proposal was executed by prepareProposal before its header (and hash) existed.
      const evidence = req.misbehavior !== undefined && req.misbehavior.length > 0 ? { misbehavior: req.misbehavior } : {};
      const same =
        p !== undefined && p.height === req.height && p.time === req.time && sameTxs(p.txs, req.txs) && evidence.misbehavior === undefined;
      exec = same
        ? (p as { exec: BlockExecution }).exec
        : this.timedFinalize({ height: req.height, time: req.time, txs: req.txs, ...evidence });
      this.executions.set(req.hash, exec);
    }
    return exec;
  }

  /**
   * Store the decided block, its commit, results and the state it produced in one
   * transaction, make that the committed state, then tell the commit listeners. Throws
   * (storage refuses anything but the next height), and then nothing is written.
   */
  commit(decided: DecidedBlock): void {
    const { block, hash, commit } = decided;
    const store = this.store;
    if (!isNodeStore(store)) throw new ChainError('BAD_BLOCK', 'this application keeps state only; commit it with commitState');
    const exec = this.execute({ hash, height: block.header.height, time: block.header.time, txs: block.txs });
    const { writes, tree } = this.blockWrites(block.header.height, exec);
    writes.push({ key: TIP_APP_HASH_KEY, value: `${block.header.height}:${exec.appHash}` });
    store.commitBlock({ block, hash, commit, results: exec.results, writes, tree });
    this.committed(block.header.height, block.header.time, block.txs, exec, writes, tree);
  }

  commitState(req: BlockRequest, txIndex: readonly IndexedTx[]): void {
    const store = this.store;
    if (isNodeStore(store)) throw new ChainError('BAD_BLOCK', 'this application stores blocks; commit it with commit');
    const exec = this.execute(req);
    const { writes, tree } = this.blockWrites(req.height, exec);
    store.saveBlock({
      height: req.height,
      appHash: exec.appHash,
      time: req.time,
      resultsRoot: exec.resultsRoot,
      writes,
      tree,
      txs: txIndex,
    });
    this.committed(req.height, req.time, req.txs, exec, writes, tree);
  }

  /** A block's state writes and tree update; block 1 also writes genesis state, which lived only in memory. */
  private blockWrites(height: number, exec: BlockExecution): { writes: StateWrite[]; tree: BlockExecution['tree'] } {
    const writes: StateWrite[] = [...exec.writes];
    let tree = exec.tree;
    if (height === 1) {
      // Store genesis state and its tree with block 1, less the genesis nodes block 1 already replaced.
      writes.unshift(...this.genesisExec.writes);
      const replaced = new Set(exec.tree.remove);
      tree = { ...exec.tree, put: [...this.genesisExec.tree.put.filter((n) => !replaced.has(n.hash)), ...exec.tree.put] };
    }
    return { writes, tree };
  }

  /** After the store wrote a block: make it the committed state, then tell the listeners. */
  private committed(
    height: number,
    time: number,
    txs: SignedTx[],
    exec: BlockExecution,
    writes: StateWrite[],
    tree: BlockExecution['tree'],
  ) {
    this.cached.apply(writes);
    this.treeNodes.add(tree);
    this.tip = { height, time, stateRoot: exec.tree.root, resultsRoot: exec.resultsRoot, appHash: exec.appHash };
    this.executions.clear();
    this.prepared = undefined;
    this.app.commit({ txHashes: txs.map((tx) => txHash(tx)) });
    const committed = { height, time, txs, results: exec.results, writes: exec.writes };
    for (const listener of this.listeners) listener(committed);
  }

  query(path: QueryPath, key: string): QueryAnswer {
    switch (path) {
      case 'state':
        return { path, key, value: this.state.getState(key) ?? null };
      case 'prove':
        return { path, entry: this.proveState(key) };
      case 'nonce':
        return { path, nonce: this.app.query.nonce(key) };
      case 'identity':
        return { path, identity: this.app.query.identity(key) ?? null };
    }
  }

  /**
   * A key's committed value and its proof against `stateRoot` (docs/api.md, proven state).
   * Throws ChainError('CORRUPT') if the tree and the key-value state disagree.
   */
  proveState(key: string): ProvenStateEntry {
    const { valueHash, proof } = proveStateKey(this.tree(), this.stateRoot, key);
    const value = this.state.getState(key) ?? null;
    const expected = value === null ? null : Buffer.from(stateValueHash(value)).toString('hex');
    if (expected !== valueHash) throw new ChainError('CORRUPT', 'the state tree and the stored state disagree');
    return { key, value, proof };
  }

  /**
   * Startup check (DESIGN §9), the application's half: the state stored with block
   * `height` is the state whose app hash its header carries. Throws ChainError('CORRUPT').
   */
  checkStoredState(height: number, headerAppHash: string): void {
    if (height === 0) return;
    if (this.store.getState(TIP_APP_HASH_KEY) !== `${height}:${headerAppHash}`) {
      throw new ChainError('CORRUPT', `application state does not match block ${height}`);
    }
    if (appHashOf(this.stateRoot, this.resultsRoot) !== headerAppHash) {
      throw new ChainError('CORRUPT', `the stored state tree does not match block ${height}'s app hash`);
    }
  }
}

function isNodeStore(store: NodeStore | AppStateFile): store is NodeStore {
  return 'commitBlock' in store;
}

/** The same transactions, as the same objects in the same order (a proposal this node built). */
function sameTxs(a: readonly SignedTx[], b: readonly SignedTx[]): boolean {
  return a.length === b.length && a.every((tx, i) => tx === b[i]);
}
