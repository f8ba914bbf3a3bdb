// The engine side of the chain (DESIGN §5): committed blocks and their commits in the store,
// and the rules for building, checking and committing the next block. Executing blocks and
// keeping state is the application's (application.ts), reached only through `Application`.

import { effectiveBlockLimits, latestValidatorSet, type ValidatorEntry, validatorSetEffectiveAt } from '@medledger/ehr';
import {
  type Block,
  type BlockHeader,
  blockHash,
  type Commit,
  commitHash,
  type Genesis,
  type GenesisValidator,
  hasValidatorHashes,
  type SignedTx,
  txRoot,
  validateBlockBasic,
  validatorSetHash,
  verifyCommit,
  ZERO_HASH,
} from '@medledger/ledger';
import type { NodeStore, SnapshotInstallBatch, StoredBlock } from '@medledger/storage';
import { EhrApplication, type FinalizedBlock } from './application.js';
import { ChainError } from './chain-error.js';
import { type HeaderEntry, SyncedHeaders } from './synced-headers.js';

export { ChainError } from './chain-error.js';

const asGenesisValidator = (v: ValidatorEntry): GenesisValidator => ({
  name: v.name,
  publicKey: v.publicKey,
  encryptionKey: v.encryptionKey,
  power: v.power,
});

interface EngineTip {
  height: number;
  hash: string;
  header: BlockHeader | null;
  commit: Commit | null;
}

/**
 * Holds the block store and drives the application; the only place blocks are committed.
 * A proposal is executed once: when it is built or checked, and its execution is reused
 * when it is decided (the application caches executions by block hash).
 */
export class Chain {
  /** The application, driven here through its ABCI-shaped `Application` methods. */
  readonly app: EhrApplication;
  private tip: EngineTip = { height: 0, hash: ZERO_HASH, header: null, commit: null };
  /** Validator sets by height, for heights whose set can no longer change (at most the tip + 2). */
  private readonly setCache = new Map<number, GenesisValidator[]>();
  private readonly syncedHeaders: SyncedHeaders;

  constructor(
    readonly genesis: Genesis,
    readonly store: NodeStore,
  ) {
    this.app = new EhrApplication(genesis, store);
    this.syncedHeaders = new SyncedHeaders(store);
    this.loadTip();
  }

  get chainId(): string {
    return this.genesis.chainId;
  }

  get height(): number {
    return this.tip.height;
  }

  get tipHash(): string {
    return this.tip.hash;
  }

  get tipTime(): number {
    return this.tip.header?.time ?? this.genesis.genesisTime;
  }

  get tipCommit(): Commit | null {
    return this.tip.commit;
  }

  /** The tip header (null before block 1). */
  get tipHeader(): BlockHeader | null {
    return this.tip.header;
  }

  /** App hash after the tip block (genesis app hash before block 1). */
  get appHash(): string {
    return this.tip.header?.appHash ?? this.app.info().appHash;
  }

  /** Read committed application state (genesis state before block 1). */
  get state() {
    return this.app.state;
  }

  /** Root of the committed state tree after the tip block (genesis state before block 1). */
  get stateRoot(): string {
    return this.app.stateRoot;
  }

  /** RFC 9162 root of the tip block's transaction results (of the empty list before block 1). */
  get resultsRoot(): string {
    return this.app.resultsRoot;
  }

  /** A key's committed value and its proof against `stateRoot` (application.ts `proveState`). */
  proveState(key: string) {
    return this.app.proveState(key);
  }

  /** A stored block with its commit and results (undefined above the tip). */
  loadBlock(height: number): StoredBlock | undefined {
    return this.store.loadBlock(height);
  }

  private loadTip(): void {
    const tip = this.store.tipHeight();
    if (tip === 0) return;
    const stored = this.store.loadBlock(tip);
    if (stored === undefined) throw new ChainError('CORRUPT', `block ${tip} is missing from the store`);
    this.tip = { height: tip, hash: stored.hash, header: stored.block.header, commit: stored.commit };
  }

  /**
   * Startup check (DESIGN §9): every stored block links to the one before, matches its
   * stored hash and tx root, its commit verifies, and the application's stored state is the
   * one the tip header's app hash names. Throws ChainError naming the first bad height.
   */
  checkStoredChain(): void {
    // A node that joined by state sync holds blocks from its snapshot height on; the first
    // of them links to a block it never had, which the snapshot's commit vouched for.
    const base = Math.max(1, this.store.baseHeight());
    let prevHash = base === 1 ? ZERO_HASH : (this.store.loadBlock(base)?.block.header.prevHash ?? ZERO_HASH);
    for (let h = base; h <= this.height; h++) {
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
          verifyCommit(this.chainId, this.validatorsFor(h - 1), block.lastCommit, h - 1, prevHash);
        }
        verifyCommit(this.chainId, this.validatorsFor(h), commit, h, hash);
      } catch (err) {
        throw fail(`commit does not verify (${(err as Error).message})`);
      }
      prevHash = hash;
    }
    this.app.checkStoredState(this.height, this.appHash);
  }

  /**
   * Start from a verified state snapshot instead of genesis (state sync): the empty store
   * gets the snapshot's block, commit and state, which become the tip. `validators` is the set
   * in force at the snapshot's height, followed from genesis through the chain's headers
   * (state-sync.ts); the commit must carry more than 2/3 of it and the header must name it.
   * `walked` are the headers below the snapshot that walk went through, kept to serve clients.
   * Throws ChainError('BAD_COMMIT') when they do not, StorageError over a non-empty store.
   */
  installSnapshot(batch: SnapshotInstallBatch, validators: readonly GenesisValidator[], walked: readonly HeaderEntry[] = []): void {
    const header = batch.block.header;
    try {
      if (hasValidatorHashes(header) && header.validatorsHash !== validatorSetHash(validators))
        throw new Error('the block names another validator set than the one in force at its height');
      verifyCommit(this.chainId, validators, batch.commit, header.height, batch.hash);
    } catch (err) {
      throw new ChainError('BAD_COMMIT', `snapshot commit does not verify: ${(err as Error).message}`);
    }
    // Kept first: a crash between the two leaves only headers, which a later sync rewrites.
    this.syncedHeaders.save(walked);
    this.app.installSnapshot(batch);
    this.loadTip();
  }

  /**
   * The validator set that signs block `height` (at most the tip + 1), the rule every verifier
   * follows too (ledger validator-set.ts): block 1, and any block after one made before
   * validator-set hashes existed, is signed by the genesis set; every other block by the set
   * governance put in effect at its height (ehr `validatorSetEffectiveAt`), which the block
   * before it named as next. Deterministic: committed state only.
   */
  validatorsFor(height: number): readonly GenesisValidator[] {
    if (height < 1 || height > this.height + 1) throw new RangeError(`no validator set is known for height ${height} yet`);
    const cached = this.setCache.get(height);
    if (cached !== undefined) return cached;
    const base = this.store.baseHeight();
    const set = base > 1 && height <= base ? this.setBelowBase(height, base) : this.setAfter(height);
    if (this.setCache.size > 64) this.setCache.clear();
    this.setCache.set(height, [...set]);
    return set;
  }

  /** The rule above, from the header of block `height - 1`, which this store holds. */
  private setAfter(height: number): readonly GenesisValidator[] {
    const before =
      height === 1 ? null : height - 1 === this.height ? this.tip.header : (this.store.loadBlock(height - 1)?.block.header ?? null);
    return before === null || !hasValidatorHashes(before) ? this.genesis.validators : this.governedSet(height);
  }

  /**
   * A node that joined by state sync holds no block before its snapshot: for the snapshot's own
   * block (and the one before, whose commit it carries) the set comes from the installed state,
   * which the snapshot's app hash proves, and must be the set its header names.
   */
  private setBelowBase(height: number, baseHeight: number): readonly GenesisValidator[] {
    const base = baseHeight === this.height ? this.tip.header : this.store.loadBlock(baseHeight)?.block.header;
    if (base === undefined || base === null || !hasValidatorHashes(base)) return this.genesis.validators;
    const set = this.governedSet(height);
    if (height === base.height && validatorSetHash(set) !== base.validatorsHash)
      throw new ChainError('CORRUPT', `the state gives block ${height} another validator set than its header names`);
    return set;
  }

  /** The set governance put in effect at `height` (at most the tip + 2, so no later decision can change it). */
  private governedSet(height: number): GenesisValidator[] {
    // Committed state: the genesis entries before block 1 come from the application, the history from the store.
    const state = { getState: (key: string) => this.app.state.getState(key), scanState: this.store.scanState.bind(this.store) };
    return validatorSetEffectiveAt(state, height).map(asGenesisValidator);
  }

  /** A header below the snapshot this store started from, kept from the state-sync walk. */
  syncedHeader(height: number): HeaderEntry | undefined {
    return height >= 1 && height < this.store.baseHeight() ? this.syncedHeaders.get(height) : undefined;
  }

  /** The newest set governance decided (in effect now or within two blocks): who may open a peer link. */
  latestValidators(): GenesisValidator[] {
    return latestValidatorSet(this.state).map(asGenesisValidator);
  }

  /** The validator-set hashes block `tip + 1` must carry: its signers' and the next height's. */
  private expectedValidatorHashes(height: number): { validatorsHash: string; nextValidatorsHash: string } {
    return {
      validatorsHash: validatorSetHash(this.validatorsFor(height)),
      nextValidatorsHash: validatorSetHash(this.governedSet(height + 1)),
    };
  }

  /** The set block `height` names as next, when it differs from its own (for clients that follow the chain); else undefined. */
  nextValidatorsOf(height: number): GenesisValidator[] | undefined {
    const header = height === this.height ? this.tip.header : this.store.loadBlock(height)?.block.header;
    if (header === null || header === undefined || !hasValidatorHashes(header)) return undefined;
    if (header.nextValidatorsHash === header.validatorsHash) return undefined;
    return this.governedSet(height + 1);
  }

  /** Block limits for the next block: genesis's, lowered by governance as of our tip (docs/governance.md). */
  blockLimits(): { maxBlockTxs: number; maxBlockBytes: number } {
    return effectiveBlockLimits(this.state, this.genesis.params);
  }

  /** Build the next block from `txs`, executing it (prepareProposal) to fill in the app hash. */
  buildBlock(txs: SignedTx[], time: number, proposer: string): Block {
    const height = this.height + 1;
    const prepared = this.app.prepareProposal({ height, time, proposer, txs });
    const lastCommit = this.height === 0 ? null : this.tipCommit;
    const header: BlockHeader = {
      chainId: this.chainId,
      height,
      time,
      prevHash: this.tipHash,
      txRoot: txRoot(prepared.txs),
      appHash: prepared.appHash,
      proposer,
      lastCommitHash: lastCommit === null ? ZERO_HASH : commitHash(lastCommit),
      ...this.expectedValidatorHashes(height),
    };
    const block: Block = { header, lastCommit, txs: prepared.txs };
    // Keep the execution under the block's hash, for when the block is decided.
    this.app.finalizeBlock({ hash: blockHash(header), height, time, txs: block.txs });
    return block;
  }

  /** The time a proposer should stamp: its clock, but strictly after the previous block. */
  nextBlockTime(now: number): number {
    return Math.max(now, this.tipTime + 1);
  }

  /**
   * Check a proposed next block: well-formed, links to our tip, carries a valid commit for
   * the tip, a time after the tip and not too far ahead of `now`, a genesis proposer, and
   * an app hash that matches the application's execution (processProposal). Throws ChainError.
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
    if (hasValidatorHashes(h)) {
      const expected = this.expectedValidatorHashes(h.height);
      if (h.validatorsHash !== expected.validatorsHash || h.nextValidatorsHash !== expected.nextValidatorsHash)
        throw new ChainError('BAD_VALIDATORS', `block ${h.height} names validator sets other than the ones in effect`);
    } else if (this.tip.header !== null && hasValidatorHashes(this.tip.header)) {
      // Only a chain made before the hashes existed may carry on without them.
      throw new ChainError('BAD_VALIDATORS', `block ${h.height} lacks the validator-set hashes`);
    }
    const validators = this.validatorsFor(h.height);
    if (block.lastCommit !== null) {
      try {
        verifyCommit(this.chainId, this.validatorsFor(this.height), block.lastCommit, this.height, this.tipHash);
      } catch (err) {
        throw new ChainError('BAD_LAST_COMMIT', (err as Error).message);
      }
    }
    if (h.time <= this.tipTime) throw new ChainError('BAD_TIME', `block ${h.height} time is not after the previous block`);
    if (h.time > now + this.genesis.params.maxClockDriftMs)
      throw new ChainError('BAD_TIME', `block ${h.height} time is too far in the future`);
    if (!validators.some((v) => v.publicKey === h.proposer))
      throw new ChainError('BAD_PROPOSER', 'proposer is not a validator at this height');
    const hash = blockHash(h);
    const verdict = this.app.processProposal({ hash, height: h.height, time: h.time, txs: block.txs, appHash: h.appHash });
    if (!verdict.accept) throw new ChainError('APP_HASH_MISMATCH', verdict.reason);
    return hash;
  }

  /**
   * Store a decided block with its commit and the state it produced (one store transaction,
   * in the application's commit) and advance the tip. The commit is verified here too:
   * nothing is written without more than 2/3 of the votes.
   */
  commitBlock(block: Block, commit: Commit): FinalizedBlock {
    const hash = blockHash(block.header);
    try {
      verifyCommit(this.chainId, this.validatorsFor(block.header.height), commit, block.header.height, hash);
    } catch (err) {
      throw new ChainError('BAD_COMMIT', `commit for block ${block.header.height} does not verify: ${(err as Error).message}`);
    }
    const finalized = this.app.finalizeBlock({ hash, height: block.header.height, time: block.header.time, txs: block.txs });
    // The tip moves before the application's commit tells its listeners, so they see the new
    // height; it moves back if the store refuses the block.
    const before = this.tip;
    this.tip = { height: block.header.height, hash, header: block.header, commit };
    try {
      this.app.commit({ block, hash, commit });
    } catch (err) {
      this.tip = before;
      throw err;
    }
    return finalized;
  }
}
