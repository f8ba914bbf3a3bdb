// The MedLedger application behind the ABCI port (docs/cometbft.md): the same EhrApp the
// embedded engine runs, over the app's own SQLite state (SqliteAppState). Transactions are
// their exact canonical bytes, so CometBFT's tx hash (SHA-256 of the bytes) is MedLedger's.
import { sha256Hex } from '@medledger/crypto';
import { type BlockExecution, type CommittedState, EhrApp, emergencyParams, initChain, StateOverlay } from '@medledger/ehr';
import {
  appHashOf,
  type Genesis,
  hashCanonical,
  MemoryStateTree,
  parseGenesis,
  parseSignedTx,
  proveStateKey,
  type SignedTx,
  type StateTreeReader,
  type TxResult,
  txBytes,
  txHash,
} from '@medledger/ledger';
import type { AppBlockBatch, AppTxLocation } from '@medledger/storage';
import sjson from 'secure-json-parse';
import { keyAccess } from '../state-access.js';
import type { AbciAppPort, AbciBlock, AbciQueryAnswer, AbciTxOutcome } from './app-port.js';

/** What the adapter needs of the app's store (SqliteAppState implements it). */
export interface AppStateStore extends StateTreeReader {
  lastCommitted(): { height: number; appHash: string; time: number; resultsRoot: string };
  getState(key: string): string | undefined;
  stateRoot(): string;
  findTx(hash: string): AppTxLocation | undefined;
  saveBlock(batch: AppBlockBatch): void;
}

/** A block that committed, for whoever follows commits (the API node, the emergency agent). */
export interface AbciCommittedBlock {
  height: number;
  time: number;
  txs: SignedTx[];
  results: TxResult[];
  appHash: string;
}

export interface EhrAbciAppDeps {
  store: AppStateStore;
  /** Called after each commit is durable, on a later tick: nothing in Commit waits on it. */
  onCommit?: (block: AbciCommittedBlock) => void;
}

/** Thrown into a ResponseException when CometBFT's genesis is not this application's. */
export class GenesisMismatchError extends Error {
  readonly code = 'GENESIS_MISMATCH';
  constructor(message: string) {
    super(message);
    this.name = 'GenesisMismatchError';
  }
}

/** Thrown at startup when the saved state does not hash to the saved app hash. */
export class AppStateCorruptError extends Error {
  readonly code = 'CORRUPT';
  constructor(message: string) {
    super(message);
    this.name = 'AppStateCorruptError';
  }
}

/** A decided or proposed block parsed and executed: what Commit will store. */
interface Executed {
  height: number;
  time: number;
  /** Index in the block of each parsed tx; the others got MALFORMED_TX. */
  parsed: Array<{ index: number; tx: SignedTx }>;
  outcomes: AbciTxOutcome[];
  hashes: string[];
  exec: BlockExecution;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

/**
 * The transaction the bytes are, or a refusal: they must be UTF-8 JSON of a well-formed
 * signed transaction and byte-for-byte its canonical form, so one transaction has one hash.
 */
export function decodeTx(bytes: Uint8Array): SignedTx | AbciTxOutcome {
  let tx: SignedTx;
  try {
    tx = parseSignedTx(sjson.parse(decoder.decode(bytes), undefined, { protoAction: 'error', constructorAction: 'error' }));
  } catch (err) {
    return { code: 'MALFORMED_TX', log: (err as Error).message.slice(0, 200) };
  }
  if (Buffer.compare(Buffer.from(txBytes(tx)), Buffer.from(bytes)) !== 0)
    return { code: 'NOT_CANONICAL', log: 'transaction bytes are not its canonical JSON (RFC 8785)' };
  return tx;
}

const isOutcome = (x: SignedTx | AbciTxOutcome): x is AbciTxOutcome => !('sig' in x);

export class EhrAbciApp implements AbciAppPort {
  readonly app: EhrApp;
  private readonly genesisExec: BlockExecution;
  private readonly genesisTree = new MemoryStateTree();
  private readonly genesisView: StateOverlay;
  private readonly executions = new Map<string, Executed>();
  private pending: Executed | undefined;

  constructor(
    readonly genesis: Genesis,
    private readonly deps: EhrAbciAppDeps,
  ) {
    this.genesisExec = initChain(genesis);
    this.genesisTree.apply(this.genesisExec.tree);
    this.genesisView = new StateOverlay(deps.store);
    for (const w of this.genesisExec.writes) if (w.value !== null) this.genesisView.set(w.key, w.value);
    // Before block 1 is stored, genesis state and its tree live only in memory; block 1 writes them.
    const atGenesis = () => deps.store.lastCommitted().height === 0;
    const view: CommittedState = {
      getState: (key) => (atGenesis() ? this.genesisView : deps.store).getState(key),
      getTreeNode: (hash) => (atGenesis() ? this.genesisTree : deps.store).getTreeNode(hash),
      stateRoot: () => (atGenesis() ? this.genesisExec.tree.root : deps.store.stateRoot()),
    };
    this.app = new EhrApp(genesis.chainId, view, emergencyParams(genesis));
    // DESIGN §9: refuse to run on state that does not hash to the app hash saved with it.
    const last = deps.store.lastCommitted();
    if (last.height > 0 && appHashOf(deps.store.stateRoot(), last.resultsRoot) !== last.appHash)
      throw new AppStateCorruptError(
        `the application state does not match the app hash saved at height ${last.height}; move data/app.db aside and restart to replay the chain from CometBFT`,
      );
  }

  info(): { height: number; appHash: Uint8Array } {
    const { height, appHash } = this.deps.store.lastCommitted();
    return { height, appHash: height === 0 ? new Uint8Array(0) : fromHex(appHash) };
  }

  initChain(req: {
    chainId: string;
    appState: Uint8Array;
    initialHeight: number;
    validators: Array<{ publicKey: string; power: number }>;
  }) {
    const g = this.genesis;
    if (req.chainId !== g.chainId) throw new GenesisMismatchError(`CometBFT's chain id '${req.chainId}' is not '${g.chainId}'`);
    if (req.initialHeight !== 1) throw new GenesisMismatchError('the chain must start at height 1');
    let theirs: Genesis;
    try {
      theirs = parseGenesis(JSON.parse(decoder.decode(req.appState)));
    } catch (err) {
      throw new GenesisMismatchError(`CometBFT's app_state is not a MedLedger genesis: ${(err as Error).message}`);
    }
    if (hashCanonical(theirs) !== hashCanonical(g)) throw new GenesisMismatchError("CometBFT's app_state is another MedLedger genesis");
    const want = g.validators.map((v) => `${v.publicKey}:${v.power}`).sort();
    const got = req.validators.map((v) => `${v.publicKey}:${v.power}`).sort();
    if (want.join(',') !== got.join(',')) throw new GenesisMismatchError("CometBFT's genesis validators are not MedLedger's");
    return { appHash: fromHex(this.genesisExec.appHash) };
  }

  checkTx(bytes: Uint8Array, _recheck: boolean): AbciTxOutcome {
    if (bytes.length > this.genesis.params.maxBlockBytes)
      return { code: 'TX_TOO_LARGE', log: 'transaction is larger than a block may hold' };
    const tx = decodeTx(bytes);
    if (isOutcome(tx)) return tx;
    // Admission, like the embedded mempool: committed state plus what was already admitted,
    // at the next height with the last block's time. A recheck after Commit runs the same way
    // against the new state (EhrApp.commit restarted the check state).
    const last = this.deps.store.lastCommitted();
    return this.app.checkTx(tx, { height: last.height + 1, time: last.height === 0 ? this.genesis.genesisTime : last.time });
  }

  prepareProposal(req: { height: number; txs: Uint8Array[]; maxTxBytes: number }): Uint8Array[] {
    const maxBytes = Math.min(req.maxTxBytes, this.genesis.params.maxBlockBytes);
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (const tx of req.txs) {
      if (out.length >= this.genesis.params.maxBlockTxs || bytes + tx.length > maxBytes) break;
      out.push(tx);
      bytes += tx.length;
    }
    return out;
  }

  /** Accepts a block whose every transaction is canonical and that fits the genesis limits; never reads a clock. */
  processProposal(block: AbciBlock): boolean {
    if (block.height !== this.deps.store.lastCommitted().height + 1) return false;
    if (block.txs.length > this.genesis.params.maxBlockTxs) return false;
    if (block.txs.reduce((n, tx) => n + tx.length, 0) > this.genesis.params.maxBlockBytes) return false;
    const executed = this.execute(block);
    return executed.parsed.length === block.txs.length;
  }

  finalizeBlock(block: AbciBlock): { results: AbciTxOutcome[]; appHash: Uint8Array } {
    const last = this.deps.store.lastCommitted().height;
    if (block.height !== last + 1) throw new Error(`FinalizeBlock for height ${block.height} on top of committed height ${last}`);
    const executed = this.execute(block);
    this.pending = executed;
    return { results: executed.outcomes, appHash: fromHex(executed.exec.appHash) };
  }

  commit(): { retainHeight: number } {
    const p = this.pending;
    if (p === undefined) throw new Error('Commit without a finalized block');
    const exec = p.exec;
    let writes = exec.writes;
    let tree = exec.tree;
    if (p.height === 1) {
      // Genesis state and its tree were only in memory: store them with block 1, less the
      // genesis nodes block 1 already replaced (as the embedded Chain does).
      writes = [...this.genesisExec.writes, ...exec.writes];
      const replaced = new Set(exec.tree.remove);
      tree = { ...exec.tree, put: [...this.genesisExec.tree.put.filter((n) => !replaced.has(n.hash)), ...exec.tree.put] };
    }
    const txs = p.hashes.map((hash, i) => ({ hash, result: p.outcomes[i] as TxResult }));
    this.deps.store.saveBlock({ height: p.height, appHash: exec.appHash, time: p.time, resultsRoot: exec.resultsRoot, writes, tree, txs });
    this.pending = undefined;
    this.executions.clear();
    this.app.commit();
    const onCommit = this.deps.onCommit;
    if (onCommit !== undefined) {
      const committed: AbciCommittedBlock = {
        height: p.height,
        time: p.time,
        txs: p.parsed.map((x) => x.tx),
        results: p.parsed.map((x) => p.outcomes[x.index] as TxResult),
        appHash: exec.appHash,
      };
      setImmediate(() => onCommit(committed));
    }
    return { retainHeight: 0 };
  }

  /**
   * `/state` with a key: its committed value and proof against the state root (JSON, as
   * the embedded node's proven state); `/tx` with a tx hash (hex): its height, index and result.
   */
  query(req: { path: string; data: Uint8Array }): AbciQueryAnswer {
    const height = this.deps.store.lastCommitted().height;
    const answer = (value: unknown): AbciQueryAnswer => ({
      code: 0,
      value: new TextEncoder().encode(JSON.stringify(value)),
      log: '',
      height,
    });
    let arg: string;
    try {
      arg = decoder.decode(req.data);
    } catch {
      return { code: 1, value: new Uint8Array(0), log: 'query data must be UTF-8', height };
    }
    if (req.path === '/state') {
      // CometBFT's abci_query answers anyone who reaches its RPC, so only public keys are
      // served here (the same rule as GET /v1/state/proof without a session).
      const view = height === 0 ? this.genesisView : this.deps.store;
      const access = keyAccess(view, arg, this.deps.store.lastCommitted().time);
      if (access === undefined || !access.public)
        return {
          code: 2,
          value: new Uint8Array(0),
          log: 'only public keys are served here; read others through the MedLedger API',
          height,
        };
      const tree: StateTreeReader = height === 0 ? this.genesisTree : this.deps.store;
      const root = height === 0 ? this.genesisExec.tree.root : this.deps.store.stateRoot();
      const { proof } = proveStateKey(tree, root, arg);
      const value = (height === 0 ? this.genesisView : this.deps.store).getState(arg) ?? null;
      return answer({ key: arg, value, proof, stateRoot: root });
    }
    if (req.path === '/tx') {
      if (!/^[0-9a-f]{64}$/.test(arg))
        return { code: 1, value: new Uint8Array(0), log: 'a tx hash is 64 lowercase hex characters', height };
      return answer(this.deps.store.findTx(arg) ?? null);
    }
    return { code: 1, value: new Uint8Array(0), log: `unknown query path '${req.path.slice(0, 64)}'`, height };
  }

  /** Parse and execute a block once per block hash (ProcessProposal, then FinalizeBlock). */
  private execute(block: AbciBlock): Executed {
    const cached = this.executions.get(block.hash);
    if (cached !== undefined && cached.height === block.height) return cached;
    const parsed: Array<{ index: number; tx: SignedTx }> = [];
    const outcomes: AbciTxOutcome[] = [];
    const hashes: string[] = [];
    block.txs.forEach((bytes, index) => {
      const tx = decodeTx(bytes);
      if (isOutcome(tx)) {
        outcomes[index] = tx;
        hashes[index] = sha256Hex(bytes);
      } else {
        parsed.push({ index, tx });
        hashes[index] = txHash(tx);
      }
    });
    const exec = this.app.finalizeBlock({ height: block.height, time: block.time, txs: parsed.map((p) => p.tx) });
    parsed.forEach((p, i) => {
      outcomes[p.index] = exec.results[i] as TxResult;
    });
    const executed: Executed = { height: block.height, time: block.time, parsed, outcomes, hashes, exec };
    this.executions.set(block.hash, executed);
    return executed;
  }
}
