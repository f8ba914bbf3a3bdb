// The MedLedger application behind the ABCI port (docs/cometbft.md): the one application
// both engines drive (application.ts EhrApplication), over the app's own SQLite state
// (SqliteAppState) with the state-only commit, since CometBFT keeps the blocks. This file
// only translates: bytes to transactions, ABCI's limits and outcomes, and queries.
// Transactions are their exact canonical bytes, so CometBFT's tx hash (SHA-256 of the
// bytes) is MedLedger's.
import { sha256Hex } from '@medledger/crypto';
import { effectiveBlockLimits, type ValidatorEntry, validatorKeysEver, validatorSetEffectiveAt } from '@medledger/ehr';
import {
  appHashOf,
  type Genesis,
  hashCanonical,
  parseGenesis,
  parseSignedTx,
  type SignedTx,
  type TxResult,
  txBytes,
  txHash,
} from '@medledger/ledger';
import { cometValidatorAddress } from '@medledger/ledger/cometbft';
import type { AppBlockBatch, AppTxLocation } from '@medledger/storage';
import sjson from 'secure-json-parse';
import { maxTxBytesFor } from '../admission.js';
import { EhrApplication, type IndexedTx } from '../application.js';
import { requireGenesisEngine } from '../engine-check.js';
import { keyAccess } from '../state-access.js';
import type { AbciAppPort, AbciBlock, AbciQueryAnswer, AbciTxOutcome } from './app-port.js';
import { type ValidatorUpdate, validatorUpdates as validatorUpdatesFrom } from './validator-updates.js';

/** What the adapter needs of the app's store (SqliteAppState implements it). */
export interface AppStateStore {
  getTreeNode(hash: string): Uint8Array | undefined;
  lastCommitted(): { height: number; appHash: string; time: number; resultsRoot: string };
  getState(key: string): string | undefined;
  scanState(prefix: string, opts?: { after?: string; limit?: number; reverse?: boolean }): Array<[string, string]>;
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

/** A proposed or decided block decoded: its parsed transactions and the index CometBFT names them by. */
interface Decoded {
  height: number;
  /** Index in the block of each parsed tx; the others got MALFORMED_TX or NOT_CANONICAL. */
  parsed: Array<{ index: number; tx: SignedTx }>;
  /** Every tx's hash (SHA-256 of its bytes) and, for the refused ones, their outcome. */
  hashes: string[];
  refused: Map<number, AbciTxOutcome>;
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
  /** The shared application (application.ts): execution, state, queries and commit listeners. */
  readonly application: EhrApplication;
  private readonly decoded = new Map<string, Decoded>();
  private pending: { block: AbciBlock; decoded: Decoded; results: AbciTxOutcome[] } | undefined;
  /**
   * Transactions the MedLedger node in this process already checked into the check state
   * since the last commit (`admitLocal`), by hash, with their outcome. When CometBFT's
   * CheckTx (new or recheck) brings one of them, that outcome is its answer: checking it a
   * second time against a check state that already holds it would refuse it as a replay.
   */
  private readonly checkedHere = new Map<string, AbciTxOutcome>();
  /** CometBFT's hash (lower-case hex) of the last block committed in this process; '' before one. */
  lastBlockHash = '';

  constructor(
    readonly genesis: Genesis,
    private readonly deps: EhrAbciAppDeps,
  ) {
    // This application runs only under CometBFT: a genesis for the embedded engine is refused.
    requireGenesisEngine(genesis, 'cometbft');
    this.application = new EhrApplication(genesis, deps.store);
    // DESIGN §9: refuse to run on state that does not hash to the app hash saved with it.
    const a = this.application;
    const { height, appHash } = a.info();
    if (height > 0 && appHashOf(a.stateRoot, a.resultsRoot) !== appHash)
      throw new AppStateCorruptError(
        `the application state does not match the app hash saved at height ${height}; move data/app.db aside and restart to replay the chain from CometBFT`,
      );
    const onCommit = deps.onCommit;
    if (onCommit !== undefined)
      a.onCommitted((c) => {
        const committed: AbciCommittedBlock = { ...c, txs: [...c.txs], results: [...c.results], appHash: a.info().appHash };
        // Nothing in Commit waits on a follower: it runs on a later tick.
        setImmediate(() => onCommit(committed));
      });
  }

  info(): { height: number; appHash: Uint8Array } {
    const { height, appHash } = this.application.info();
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
    // InitChain comes only at height 0, where the application's app hash is genesis's.
    return { appHash: fromHex(this.application.info().appHash) };
  }

  checkTx(bytes: Uint8Array, _recheck: boolean): AbciTxOutcome {
    // The embedded engine's admission limit (admission.ts maxTxBytesFor): governance keeps
    // the block limit at or above it (a voted maxBlockBytes is at least MAX_TX_BYTES), so a
    // transaction that passes always fits a block under the limits in force (blockLimits).
    const max = maxTxBytesFor(this.genesis.params.maxBlockBytes);
    if (bytes.length > max)
      return { code: 'TX_TOO_LARGE', log: `transaction is ${bytes.length} bytes; a transaction may be at most ${max}` };
    const here = this.checkedHere.get(sha256Hex(bytes));
    if (here !== undefined) return here;
    const tx = decodeTx(bytes);
    if (isOutcome(tx)) return tx;
    // Admission, like the embedded mempool: committed state plus what was already admitted,
    // at the next height with the last block's time. A recheck after Commit runs the same way
    // against the new state (the application's commit restarted the check state).
    return this.application.checkTx(tx);
  }

  /**
   * Admission by the MedLedger node in this process (its API, its own transactions, the
   * re-check after a commit): the same check as CheckTx, against the same check state,
   * remembered until the next commit so that CometBFT's CheckTx of the same bytes (the node
   * then broadcasts them) answers the same without checking twice. `admission` is the node's
   * extra check (the vault's), run before the state changes.
   */
  admitLocal(tx: SignedTx, admission?: (tx: SignedTx) => void): TxResult {
    const result = this.application.checkTx(tx, admission);
    this.checkedHere.set(txHash(tx), result);
    return result;
  }

  /**
   * The block limits in force for the next block: genesis's, lowered by governance as of
   * committed state (docs/governance.md). The same function the embedded engine asks
   * (chain.ts blockLimits), so both engines build and accept the same blocks; a limit passed
   * in block H holds from block H + 1. Read from committed state only, never a clock.
   */
  blockLimits(): { maxBlockTxs: number; maxBlockBytes: number } {
    return effectiveBlockLimits(this.application.state, this.genesis.params);
  }

  /**
   * The mempool's transactions in order, up to the limits in force and CometBFT's own
   * `maxTxBytes` (its consensus block size), whichever is smaller.
   */
  prepareProposal(req: { height: number; txs: Uint8Array[]; maxTxBytes: number }): Uint8Array[] {
    const limits = this.blockLimits();
    const maxBytes = Math.min(req.maxTxBytes, limits.maxBlockBytes);
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (const tx of req.txs) {
      if (out.length >= limits.maxBlockTxs || bytes + tx.length > maxBytes) break;
      out.push(tx);
      bytes += tx.length;
    }
    return out;
  }

  /**
   * Accepts a block for the next height whose every transaction is canonical and that fits
   * the block limits in force (blockLimits: genesis's, lowered by vote); never reads a clock.
   */
  processProposal(block: AbciBlock): boolean {
    if (block.height !== this.application.info().height + 1) return false;
    const limits = this.blockLimits();
    if (block.txs.length > limits.maxBlockTxs) return false;
    if (block.txs.reduce((n, tx) => n + tx.length, 0) > limits.maxBlockBytes) return false;
    const d = this.decode(block);
    if (d.parsed.length !== block.txs.length) return false;
    // Executed now so FinalizeBlock of this block reuses it (the application caches by hash).
    this.application.finalizeBlock(this.request(block, d));
    return true;
  }

  finalizeBlock(block: AbciBlock): { results: AbciTxOutcome[]; appHash: Uint8Array; validatorUpdates: ValidatorUpdate[] } {
    const last = this.application.info().height;
    if (block.height !== last + 1) throw new Error(`FinalizeBlock for height ${block.height} on top of committed height ${last}`);
    const d = this.decode(block);
    const fin = this.application.finalizeBlock(this.request(block, d));
    const results: AbciTxOutcome[] = [];
    d.parsed.forEach((p, i) => {
      results[p.index] = fin.results[i] as TxResult;
    });
    for (const [index, outcome] of d.refused) results[index] = outcome;
    this.pending = { block, decoded: d, results };
    // A set this block decided is in effect from height + 2 in the application's record;
    // CometBFT applies updates returned now from height + 2 as well. The set they replace is
    // the one in effect at height + 1, which committed state (through height - 1) knows.
    const validatorUpdates =
      fin.decidedValidators === undefined ? [] : validatorUpdatesFrom(this.validatorsAt(block.height + 1), fin.decidedValidators);
    return { results, appHash: fromHex(fin.appHash), validatorUpdates };
  }

  /** The validator set in effect at `height` by committed state (at most the committed height + 2). */
  validatorsAt(height: number): ValidatorEntry[] {
    return validatorSetEffectiveAt(this.committedView(), height);
  }

  /**
   * Committed state with prefix scans: the application's view (which holds genesis state
   * before block 1 is stored) and the store's scans (set changes exist only in stored blocks).
   */
  private committedView() {
    const store = this.deps.store;
    const state = this.application.state;
    return { getState: (k: string) => state.getState(k), scanState: store.scanState.bind(store) };
  }

  commit(): { retainHeight: number } {
    const p = this.pending;
    if (p === undefined) throw new Error('Commit without a finalized block');
    const txIndex: IndexedTx[] = p.decoded.hashes.map((hash, i) => ({ hash, result: p.results[i] as TxResult }));
    // The commit restarts the check state; what was checked here belonged to the old one.
    // Listeners inside commitState (the node's mempool re-check) fill it again.
    this.checkedHere.clear();
    this.lastBlockHash = p.block.hash.toLowerCase();
    this.application.commitState(this.request(p.block, p.decoded), txIndex);
    this.pending = undefined;
    this.decoded.clear();
    return { retainHeight: 0 };
  }

  /**
   * `/state` with a key: its committed value and proof against the state root (JSON, as
   * the embedded node's proven state); `/tx` with a tx hash (hex): its height, index and result.
   */
  query(req: { path: string; data: Uint8Array }): AbciQueryAnswer {
    const a = this.application;
    const height = a.info().height;
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
      const access = keyAccess(a.state, arg, a.lastBlockTime);
      if (access === undefined || !access.public)
        return {
          code: 2,
          value: new Uint8Array(0),
          log: 'only public keys are served here; read others through the MedLedger API',
          height,
        };
      const { key, value, proof } = a.proveState(arg);
      return answer({ key, value, proof, stateRoot: a.stateRoot });
    }
    if (req.path === '/tx') {
      if (!/^[0-9a-f]{64}$/.test(arg))
        return { code: 1, value: new Uint8Array(0), log: 'a tx hash is 64 lowercase hex characters', height };
      return answer(this.deps.store.findTx(arg) ?? null);
    }
    return { code: 1, value: new Uint8Array(0), log: `unknown query path '${req.path.slice(0, 64)}'`, height };
  }

  private request(block: AbciBlock, d: Decoded) {
    // CometBFT names offenders by address; the application's records name them by key, found
    // among every key that has been a validator (a validator added by vote included), from
    // committed state, so every validator (and verify's replay) maps them the same.
    const offenders = block.misbehavior ?? [];
    const known = offenders.length === 0 ? [] : validatorKeysEver(this.committedView());
    const misbehavior = offenders.flatMap((m) => {
      const key = known.find((k) => cometValidatorAddress(k) === m.address.toLowerCase());
      return key === undefined ? [] : [{ kind: m.kind, validator: key, height: m.height }];
    });
    return {
      hash: block.hash,
      height: block.height,
      time: block.time,
      txs: d.parsed.map((p) => p.tx),
      ...(misbehavior.length > 0 ? { misbehavior } : {}),
    };
  }

  /** Decode a block's transactions once per block hash (ProcessProposal, then FinalizeBlock). */
  private decode(block: AbciBlock): Decoded {
    const cached = this.decoded.get(block.hash);
    if (cached !== undefined && cached.height === block.height) return cached;
    const parsed: Array<{ index: number; tx: SignedTx }> = [];
    const hashes: string[] = [];
    const refused = new Map<number, AbciTxOutcome>();
    block.txs.forEach((bytes, index) => {
      const tx = decodeTx(bytes);
      if (isOutcome(tx)) {
        refused.set(index, tx);
        hashes[index] = sha256Hex(bytes);
      } else {
        parsed.push({ index, tx });
        hashes[index] = txHash(tx);
      }
    });
    const d: Decoded = { height: block.height, parsed, hashes, refused };
    this.decoded.set(block.hash, d);
    return d;
  }
}
