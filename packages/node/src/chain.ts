// The node's view of the chain: committed blocks in the store, the application on top,
// and the rules for building, checking and committing the next block (DESIGN §5).
import {
  type BlockExecution,
  type CommittedState,
  EhrApp,
  effectiveBlockLimits,
  emergencyParams,
  initChain,
  StateOverlay,
  type StateReader,
} from '@medledger/ehr';
import {
  appHashOf,
  type Block,
  type BlockHeader,
  blockHash,
  type Commit,
  commitHash,
  type Genesis,
  MemoryStateTree,
  type ProvenStateEntry,
  proveStateKey,
  resultsRootOf,
  type SignedTx,
  type StateTreeReader,
  stateValueHash,
  txRoot,
  validateBlockBasic,
  verifyCommit,
  ZERO_HASH,
} from '@medledger/ledger';
import type { NodeStore, StateWrite } from '@medledger/storage';

import { TreeNodeCache } from './tree-cache.js';
/** Thrown when a block or commit from a proposer or peer breaks a chain rule. */
export class ChainError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ChainError';
  }
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
}

/** Key under which the node records the app hash it stored with the tip (not part of app state hashing). */
const TIP_APP_HASH_KEY = 'node/tip';

/**
 * Holds the store and the application and is the only place blocks are committed.
 * Executions are cached by block hash, so a proposal is executed once when it is checked
 * and its writes are reused when it is decided.
 */
export class Chain {
  readonly app: EhrApp;
  private readonly genesisExec: BlockExecution;
  private readonly genesisView: StateOverlay;
  private readonly executions = new Map<string, BlockExecution>();
  private readonly cached: CachedState;
  private readonly genesisTree = new MemoryStateTree();
  private readonly treeNodes: TreeNodeCache;
  private tipCache: {
    height: number;
    hash: string;
    header: BlockHeader | null;
    commit: Commit | null;
    stateRoot: string;
    resultsRoot: string;
  };

  constructor(
    readonly genesis: Genesis,
    readonly store: NodeStore,
  ) {
    this.genesisExec = initChain(genesis);
    this.cached = new CachedState(store);
    this.genesisView = new StateOverlay(this.cached);
    for (const w of this.genesisExec.writes) if (w.value !== null) this.genesisView.set(w.key, w.value);
    this.genesisTree.apply(this.genesisExec.tree);
    this.treeNodes = new TreeNodeCache(store);
    // Before block 1 is stored, genesis state and its tree live only in memory; block 1 writes them.
    const view: CommittedState = {
      getState: (key) => (this.height === 0 ? this.genesisView : this.cached).getState(key),
      getTreeNode: (hash) => (this.height === 0 ? this.genesisTree : this.treeNodes).getTreeNode(hash),
      stateRoot: () => this.tipCache.stateRoot,
    };
    this.app = new EhrApp(genesis.chainId, view, emergencyParams(genesis));
    this.tipCache = {
      height: 0,
      hash: ZERO_HASH,
      header: null,
      commit: null,
      stateRoot: this.genesisExec.tree.root,
      resultsRoot: this.genesisExec.resultsRoot,
    };
    this.loadTip();
  }

  get chainId(): string {
    return this.genesis.chainId;
  }

  get height(): number {
    return this.tipCache.height;
  }

  get tipHash(): string {
    return this.tipCache.hash;
  }

  get tipTime(): number {
    return this.tipCache.header?.time ?? this.genesis.genesisTime;
  }

  get tipCommit(): Commit | null {
    return this.tipCache.commit;
  }

  /** App hash after the tip block (genesis app hash before block 1). */
  get appHash(): string {
    return this.tipCache.header?.appHash ?? this.genesisExec.appHash;
  }

  /** Read committed application state (genesis state before block 1). */
  readonly state: StateReader = { getState: (key) => (this.height === 0 ? this.genesisView : this.cached).getState(key) };

  private loadTip(): void {
    const tip = this.store.tipHeight();
    if (tip === 0) return;
    const stored = this.store.loadBlock(tip);
    if (stored === undefined) throw new ChainError('CORRUPT', `block ${tip} is missing from the store`);
    this.tipCache = {
      height: tip,
      hash: stored.hash,
      header: stored.block.header,
      commit: stored.commit,
      stateRoot: this.store.stateRoot(),
      resultsRoot: resultsRootOf(stored.results),
    };
  }

  /** Root of the committed state tree after the tip block (genesis state before block 1). */
  get stateRoot(): string {
    return this.tipCache.stateRoot;
  }

  /** RFC 9162 root of the tip block's transaction results (of the empty list before block 1). */
  get resultsRoot(): string {
    return this.tipCache.resultsRoot;
  }

  /** The tip header (null before block 1). */
  get tipHeader(): BlockHeader | null {
    return this.tipCache.header;
  }

  /**
   * A key's committed value and its proof against `stateRoot` (docs/api.md, proven state).
   * Throws ChainError('CORRUPT') if the tree and the key-value state disagree.
   */
  proveState(key: string): ProvenStateEntry {
    const tree: StateTreeReader = this.height === 0 ? this.genesisTree : this.treeNodes;
    const { valueHash, proof } = proveStateKey(tree, this.stateRoot, key);
    const value = this.state.getState(key) ?? null;
    const expected = value === null ? null : Buffer.from(stateValueHash(value)).toString('hex');
    if (expected !== valueHash) throw new ChainError('CORRUPT', 'the state tree and the stored state disagree');
    return { key, value, proof };
  }

  /**
   * Startup check (DESIGN §9): every stored block links to the one before, matches its
   * stored hash and tx root, its commit verifies, and the app hash recorded with the tip
   * equals the tip header's. Throws ChainError naming the first bad height.
   */
  checkStoredChain(): void {
    let prevHash = ZERO_HASH;
    for (let h = 1; h <= this.height; h++) {
      const stored = this.store.loadBlock(h);
      if (stored === undefined) throw new ChainError('CORRUPT', `block ${h} is missing`);
      const { block, commit } = stored;
      const hash = blockHash(block.header);
      const fail = (what: string) => new ChainError('CORRUPT', `stored block ${h} is corrupt: ${what}`);
      if (block.header.height !== h) throw fail('height field does not match its position');
      if (hash !== stored.hash) throw fail('header does not match its stored hash');
      if (block.header.prevHash !== prevHash) throw fail('previous-block hash does not link');
      if (block.header.txRoot !== txRoot(block.txs)) throw fail('transactions do not match the tx root');
      try {
        if (block.lastCommit !== null) {
          if (block.header.lastCommitHash !== commitHash(block.lastCommit)) throw new Error('last commit hash differs');
          verifyCommit(this.chainId, this.genesis.validators, block.lastCommit, h - 1, prevHash);
        }
        verifyCommit(this.chainId, this.genesis.validators, commit, h, hash);
      } catch (err) {
        throw fail(`commit does not verify (${(err as Error).message})`);
      }
      prevHash = hash;
    }
    const recorded = this.store.getState(TIP_APP_HASH_KEY);
    if (this.height > 0 && recorded !== `${this.height}:${this.appHash}`) {
      throw new ChainError('CORRUPT', `application state does not match block ${this.height}`);
    }
    if (this.height > 0 && appHashOf(this.stateRoot, this.resultsRoot) !== this.appHash) {
      throw new ChainError('CORRUPT', `the stored state tree does not match block ${this.height}'s app hash`);
    }
  }

  /** Execute a candidate next block against committed state; cached by block hash. */
  execute(block: Block, hash = blockHash(block.header)): BlockExecution {
    let exec = this.executions.get(hash);
    if (exec === undefined) {
      exec = this.finalize({ height: block.header.height, time: block.header.time, txs: block.txs });
      this.executions.set(hash, exec);
    }
    return exec;
  }

  /** Build the next block from `txs`, executing it to fill in the app hash. */
  buildBlock(txs: SignedTx[], time: number, proposer: string): Block {
    const height = this.height + 1;
    const exec = this.finalize({ height, time, txs });
    const lastCommit = this.height === 0 ? null : this.tipCommit;
    const header: BlockHeader = {
      chainId: this.chainId,
      height,
      time,
      prevHash: this.tipHash,
      txRoot: txRoot(txs),
      appHash: exec.appHash,
      proposer,
      lastCommitHash: lastCommit === null ? ZERO_HASH : commitHash(lastCommit),
    };
    const block: Block = { header, lastCommit, txs };
    this.executions.set(blockHash(header), exec);
    return block;
  }

  /** Told how long each block's application execution took, in ms (the node's metrics). */
  observeExecution: (ms: number) => void = () => {};

  private finalize(input: Parameters<EhrApp['finalizeBlock']>[0]): BlockExecution {
    const started = performance.now();
    const exec = this.app.finalizeBlock(input);
    this.observeExecution(performance.now() - started);
    return exec;
  }

  /** Block limits for the next block: genesis's, lowered by governance as of our tip (docs/governance.md). */
  blockLimits(): { maxBlockTxs: number; maxBlockBytes: number } {
    return effectiveBlockLimits(this.state, this.genesis.params);
  }

  /** The time a proposer should stamp: its clock, but strictly after the previous block. */
  nextBlockTime(now: number): number {
    return Math.max(now, this.tipTime + 1);
  }

  /**
   * Check a proposed next block: well-formed, links to our tip, carries a valid commit for
   * the tip, a time after the tip and not too far ahead of `now`, a genesis proposer, and
   * an app hash that matches our own execution. Throws ChainError.
   */
  validateNext(block: Block, now: number): string {
    const h = block.header;
    try {
      validateBlockBasic(block, { chainId: this.chainId, params: { ...this.genesis.params, ...this.blockLimits() } });
    } catch (err) {
      throw new ChainError('INVALID_BLOCK', (err as Error).message);
    }
    if (h.height !== this.height + 1) throw new ChainError('WRONG_HEIGHT', `block ${h.height} is not the next height ${this.height + 1}`);
    if (h.prevHash !== this.tipHash) throw new ChainError('BAD_PREV_HASH', `block ${h.height} does not link to our block ${this.height}`);
    if (block.lastCommit !== null) {
      try {
        verifyCommit(this.chainId, this.genesis.validators, block.lastCommit, this.height, this.tipHash);
      } catch (err) {
        throw new ChainError('BAD_LAST_COMMIT', (err as Error).message);
      }
    }
    if (h.time <= this.tipTime) throw new ChainError('BAD_TIME', `block ${h.height} time is not after the previous block`);
    if (h.time > now + this.genesis.params.maxClockDriftMs)
      throw new ChainError('BAD_TIME', `block ${h.height} time is too far in the future`);
    if (!this.genesis.validators.some((v) => v.publicKey === h.proposer))
      throw new ChainError('BAD_PROPOSER', 'proposer is not a validator');
    const hash = blockHash(h);
    const exec = this.execute(block, hash);
    if (exec.appHash !== h.appHash) {
      this.executions.delete(hash);
      throw new ChainError('APP_HASH_MISMATCH', `block ${h.height} app hash differs from our execution`);
    }
    return hash;
  }

  /**
   * Store a decided block with its commit in one transaction and advance the app. The
   * commit is verified here too: nothing is written without more than 2/3 of the votes.
   */
  commitBlock(block: Block, commit: Commit): BlockExecution {
    const hash = blockHash(block.header);
    try {
      verifyCommit(this.chainId, this.genesis.validators, commit, block.header.height, hash);
    } catch (err) {
      throw new ChainError('BAD_COMMIT', `commit for block ${block.header.height} does not verify: ${(err as Error).message}`);
    }
    const exec = this.execute(block, hash);
    const writes: StateWrite[] = [...exec.writes];
    let tree = exec.tree;
    if (block.header.height === 1) {
      // Genesis state and its tree were only in memory: store them with block 1, less the
      // genesis nodes block 1 already replaced.
      writes.unshift(...this.genesisExec.writes);
      const replaced = new Set(exec.tree.remove);
      tree = { ...exec.tree, put: [...this.genesisExec.tree.put.filter((n) => !replaced.has(n.hash)), ...exec.tree.put] };
    }
    writes.push({ key: TIP_APP_HASH_KEY, value: `${block.header.height}:${exec.appHash}` });
    this.store.commitBlock({ block, hash, commit, results: exec.results, writes, tree });
    this.cached.apply(writes);
    this.treeNodes.add(tree);
    this.tipCache = {
      height: block.header.height,
      hash,
      header: block.header,
      commit,
      stateRoot: exec.tree.root,
      resultsRoot: exec.resultsRoot,
    };
    this.executions.clear();
    this.app.commit();
    return exec;
  }
}
