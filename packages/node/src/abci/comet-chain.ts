// The chain as the MedLedger node reads it when CometBFT decides the blocks (docs/cometbft.md
// "The MedLedger API on CometBFT"): the committed state of the application in this process
// (the one EhrApplication both engines drive), its tx index, and the node's own database for
// what is not chain state (vault objects, the access-event outbox, metadata). CometBFT keeps
// the blocks; they are not in this process, so `loadBlock` finds none.
import { effectiveBlockLimits, validatorSetEffectiveAt } from '@medledger/ehr';
import type { BlockHeader, Commit, Genesis, GenesisValidator, ProvenStateEntry } from '@medledger/ledger';
import type { NodeStore, SqliteAppState } from '@medledger/storage';
import type { EhrApplication } from '../application.js';
import type { NodeChain } from '../node-chain.js';

/** The node database's methods that stay the node's under CometBFT (not chain state). */
const NODE_OWN_METHODS = [
  'getMeta',
  'setMeta',
  'setMetas',
  'putVaultObject',
  'vaultObjectInfo',
  'vaultUsage',
  'vaultTotals',
  'getVaultObject',
  'hasVaultObject',
  'vaultObjectStatus',
  'deleteVaultObjects',
  'markVaultAnchored',
  'wantedVaultObjects',
  'unwantVaultObject',
  'expireUnanchoredVaultObjects',
  'appendOutbox',
  'loadOutbox',
  'removeOutbox',
  'replaceOutbox',
] as const satisfies ReadonlyArray<keyof NodeStore>;

/**
 * One NodeStore for the node's subsystems: chain state and the tx index from the
 * application's state file, everything else from the node's own database. Blocks are
 * CometBFT's: none is found here, and storing one throws.
 */
export function cometNodeStore(nodeDb: NodeStore, appState: SqliteAppState, tipHeight: () => number): NodeStore {
  const own = Object.fromEntries(
    NODE_OWN_METHODS.map((name) => [name, (...args: unknown[]) => (nodeDb[name] as (...a: unknown[]) => unknown).apply(nodeDb, args)]),
  ) as Pick<NodeStore, (typeof NODE_OWN_METHODS)[number]>;
  const blocksAreCometBfts = (): never => {
    throw new Error('blocks are kept by CometBFT, not in this node');
  };
  return {
    ...own,
    tipHeight,
    loadBlock: () => undefined,
    loadBlockRaw: () => undefined,
    loadHeader: () => undefined,
    findTx: (hash) => appState.findTx(hash),
    getState: (key) => appState.getState(key),
    scanState: (prefix, opts) => appState.scanState(prefix, opts),
    stateRoot: () => appState.stateRoot(),
    getTreeNode: (hash) => appState.getTreeNode(hash),
    commitBlock: blocksAreCometBfts,
    // CometBFT keeps the blocks (and does its own state sync): this store holds none.
    baseHeight: () => 0,
    installSnapshot: blocksAreCometBfts,
    // The application's file is closed by its validator (validator.ts); the node closes its own.
    close: () => nodeDb.close(),
  } as NodeStore;
}

export interface CometChainDeps {
  application: EhrApplication;
  store: NodeStore;
  /** Hash (hex) of the last block the application committed in this process; '' before one. */
  lastBlockHash: () => string;
}

export class CometChain implements NodeChain {
  readonly app: EhrApplication;
  readonly store: NodeStore;

  constructor(
    readonly genesis: Genesis,
    private readonly deps: CometChainDeps,
  ) {
    this.app = deps.application;
    this.store = deps.store;
  }

  get chainId(): string {
    return this.genesis.chainId;
  }

  get height(): number {
    return this.app.info().height;
  }

  get tipTime(): number {
    return this.app.lastBlockTime;
  }

  get tipHash(): string {
    return this.deps.lastBlockHash();
  }

  /** The app hash after the last committed block (CometBFT puts it in the next header). */
  get appHash(): string {
    return this.app.info().appHash;
  }

  /** MedLedger headers and commits do not exist under CometBFT; proofs use CometBFT's (state-api.ts). */
  get tipHeader(): BlockHeader | null {
    return null;
  }

  get tipCommit(): Commit | null {
    return null;
  }

  get state() {
    return this.app.state;
  }

  get stateRoot(): string {
    return this.app.stateRoot;
  }

  get resultsRoot(): string {
    return this.app.resultsRoot;
  }

  proveState(key: string): ProvenStateEntry {
    return this.app.proveState(key);
  }

  /** The application checked its state file against its app hash when it opened (ehr-app.ts). */
  checkStoredChain(): void {}

  /**
   * The set that signs `height` (at most the committed height + 2): the one governance put in
   * effect there, which is the one CometBFT runs, since FinalizeBlock passes every decided set
   * to it as validator updates effective at the same height (ehr-app.ts).
   */
  validatorsFor(height: number): readonly GenesisValidator[] {
    if (height < 1 || height > this.height + 2) throw new RangeError(`no validator set is known for height ${height} yet`);
    return this.governedSet(height);
  }

  /** The set in effect from `height + 1` when it differs (in keys or power, what CometBFT's set hash covers) from the one at `height`. */
  nextValidatorsOf(height: number): GenesisValidator[] | undefined {
    if (height < 1 || height + 1 > this.height + 2) return undefined;
    const key = (set: readonly GenesisValidator[]) =>
      set
        .map((v) => `${v.publicKey}:${v.power}`)
        .sort()
        .join(',');
    const next = this.governedSet(height + 1);
    return key(next) === key(this.governedSet(height)) ? undefined : next;
  }

  private governedSet(height: number): GenesisValidator[] {
    const state = { getState: (k: string) => this.app.state.getState(k), scanState: this.store.scanState.bind(this.store) };
    return validatorSetEffectiveAt(state, height).map((v) => ({
      name: v.name,
      publicKey: v.publicKey,
      encryptionKey: v.encryptionKey,
      power: v.power,
    }));
  }

  blockLimits(): { maxBlockTxs: number; maxBlockBytes: number } {
    return effectiveBlockLimits(this.state, this.genesis.params);
  }
}
