// Transaction admission (DESIGN §4): clients', peers' and the node's own transactions enter
// the mempool only through checkTx here; after each commit the mempool is re-checked; and
// a transaction's status is looked up by hash (pending, committed with proof, rejected).
import { type Identity, identityOfKey, MAX_TX_BYTES, type NamedObjects, namedObjects, type StateReader } from '@medledger/ehr';
import { parseSignedTx, type SignedTx, type TxResult, txBytes, txHash } from '@medledger/ledger';
import type { NodeStore } from '@medledger/storage';
import type { Application } from './application.js';
import type { TxProofSource } from './block-proofs.js';
import { seesTx } from './chain-view.js';
import { ApiError } from './errors.js';
import type { Mempool } from './mempool.js';
import type { CommittedBlock, TxLookup } from './ports.js';

/** Bounded record of transactions refused after admission (re-check or in a block). */
class RecentRejections {
  private readonly map = new Map<string, TxResult>();
  constructor(private readonly max: number) {}
  set(hash: string, result: TxResult): void {
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(hash, result);
  }
  get(hash: string): TxResult | undefined {
    return this.map.get(hash);
  }
}

export interface AdmissionOptions {
  chainId: string;
  /**
   * The largest transaction (canonical bytes) admitted: MAX_TX_BYTES, or the genesis block
   * limit when that is smaller. Governance keeps the block limit at or above it, so any
   * admitted transaction fits a block (one that did not would stall the mempool's head).
   */
  maxTxBytes: number;
}

/** The admission size limit for a chain whose genesis block limit is `genesisMaxBlockBytes`. */
export function maxTxBytesFor(genesisMaxBlockBytes: number): number {
  return Math.min(MAX_TX_BYTES, genesisMaxBlockBytes);
}

export interface AdmissionDeps {
  app: Pick<Application, 'checkTx' | 'checkRelayedTx' | 'recheckTx'>;
  mempool: Mempool;
  /** Committed state: who signs (for the vault's per-identity checks) and who may see a tx. */
  state: StateReader;
  /** The vault's checks on the objects a transaction made here names (Vault.checkNamed); throws ApiError. */
  checkNamed: (signerId: string | undefined, named: NamedObjects) => void;
  /** The tx index: where a committed transaction is. */
  txIndex: Pick<NodeStore, 'findTx'>;
  /** Committed blocks, parsed and hashed once, for inclusion proofs (block-proofs.ts). */
  blocks: TxProofSource;
  /** A transaction entered the mempool; `tx` is given when it should be gossiped. */
  onAdmitted: (tx?: SignedTx) => void;
  /** A transaction was refused with `code` (metrics): a client's or this node's at admission, or any in a block. */
  onRefused?: (code: string) => void;
}

export class Admission implements TxLookup {
  private readonly rejections = new RecentRejections(10_000);

  constructor(
    private readonly opts: AdmissionOptions,
    private readonly deps: AdmissionDeps,
  ) {}

  /**
   * Admit a transaction from a client: shape, chain, signature, nonce and the kind's rules
   * (via checkTx), then the mempool. Throws ApiError; nothing is kept on failure.
   */
  submitTx(raw: unknown): { hash: string; status: 'pending' } {
    let tx: SignedTx;
    try {
      tx = parseSignedTx(raw);
    } catch (err) {
      this.deps.onRefused?.('MALFORMED_TX');
      throw new ApiError('MALFORMED_TX', (err as Error).message);
    }
    return this.admit(tx);
  }

  /**
   * A transaction gossiped by a peer: shape, chain, signature and nonce (checkRelayedTx; the
   * client's node ran the kind's rules, and every block runs them), then the mempool, not
   * gossiped on. Refusals are dropped quietly: already known, stale nonce or malformed is
   * the peer's problem, not ours.
   */
  admitFromPeer(raw: unknown): void {
    try {
      const tx = parseSignedTx(raw);
      if (this.pool(tx, () => this.deps.app.checkRelayedTx(tx))) this.deps.onAdmitted();
    } catch {
      // Already known, stale nonce, malformed, or the mempool is full: the peer's problem, not ours.
    }
  }

  /**
   * Admit an already-parsed transaction made here (by a client of this node or the node
   * itself) and gossip it: the kind's rules (checkTx) and the vault's checks on the objects
   * it names (Vault.checkNamed). Throws ApiError; nothing is kept on failure.
   */
  admit(tx: SignedTx): { hash: string; status: 'pending' } {
    const vaultCheck = (t: SignedTx) => {
      const named = namedObjects(t.kind, t.body);
      if (named.content !== undefined || named.envelopes.length > 0)
        this.deps.checkNamed(identityOfKey(this.deps.state, t.signer)?.id, named);
    };
    try {
      if (this.pool(tx, () => this.deps.app.checkTx(tx, vaultCheck))) this.deps.onAdmitted(tx);
      return { hash: txHash(tx), status: 'pending' };
    } catch (err) {
      if (err instanceof ApiError) this.deps.onRefused?.(err.code);
      throw err;
    }
  }

  /**
   * Put `tx` in the mempool once `check` passes: true when added, false when it was already
   * there. Throws ApiError (wrong chain, mempool full, or the check's refusal); nothing is kept.
   */
  private pool(tx: SignedTx, check: () => TxResult): boolean {
    const { mempool } = this.deps;
    if (tx.chain !== this.opts.chainId)
      throw new ApiError('WRONG_CHAIN', `transaction is for chain '${tx.chain}', this is '${this.opts.chainId}'`);
    const hash = txHash(tx);
    if (mempool.has(hash)) return false;
    const bytes = txBytes(tx).length;
    if (bytes > this.opts.maxTxBytes)
      throw new ApiError('TX_TOO_LARGE', `transaction is ${bytes} bytes; a transaction may be at most ${this.opts.maxTxBytes} bytes`);
    if (mempool.isFull(bytes)) throw new ApiError('MEMPOOL_FULL', 'the node is busy; retry shortly');
    const result = check();
    if (result.code !== 'ok') throw new ApiError(result.code, result.log);
    mempool.add({ hash, tx, bytes });
    return true;
  }

  /**
   * Commit listener: drop the block's transactions from the mempool, remember refusals, and
   * re-check what is left against the new state (a nonce may now be stale).
   */
  onCommitted(committed: CommittedBlock): void {
    const { mempool } = this.deps;
    committed.txs.forEach((tx, i) => {
      const hash = txHash(tx);
      mempool.remove(hash);
      const result = committed.results[i] as TxResult;
      if (result.code !== 'ok') this.refused(hash, result);
    });
    for (const entry of mempool.drain()) {
      const result = this.deps.app.recheckTx(entry.tx);
      if (result.code === 'ok') mempool.add(entry);
      else this.refused(entry.hash, result);
    }
  }

  /**
   * The engine refused a transaction this node had admitted (CometBFT's own mempool said no):
   * it leaves the mempool and its status becomes `rejected` with the engine's code.
   */
  dropRefused(hash: string, result: TxResult): void {
    this.deps.mempool.remove(hash);
    this.refused(hash, result);
  }

  private refused(hash: string, result: TxResult): void {
    this.rejections.set(hash, result);
    this.deps.onRefused?.(result.code);
  }

  isPending(hash: string): boolean {
    return this.deps.mempool.has(hash);
  }

  /**
   * Status of a transaction by hash: pending, committed (with inclusion proof), or rejected.
   * The signed transaction itself (`tx`) is included only for `caller`s who may see it
   * (chain-view.ts `seesTx`): its parties and the consortium.
   */
  txStatus(hash: string, caller?: Identity): Record<string, unknown> {
    if (this.deps.mempool.has(hash)) return { hash, status: 'pending' };
    const loc = this.deps.txIndex.findTx(hash);
    if (loc !== undefined) {
      const provable = this.deps.blocks.get(loc.height);
      const ok = loc.result.code === 'ok';
      // Under CometBFT the node keeps only recent blocks' transactions (abci/comet-recent-blocks.ts):
      // an older one's status comes without its proof (docs/cometbft.md).
      if (provable === undefined)
        return {
          hash,
          status: ok ? 'committed' : 'rejected',
          height: loc.height,
          index: loc.index,
          ...(ok ? {} : { code: loc.result.code, reason: loc.result.log }),
        };
      const { stored } = provable;
      const tx = stored.block.txs[loc.index];
      return {
        hash,
        status: ok ? 'committed' : 'rejected',
        height: loc.height,
        index: loc.index,
        blockHash: stored.hash,
        ...(ok ? {} : { code: loc.result.code, reason: loc.result.log }),
        proof: provable.proof(loc.index),
        ...(tx !== undefined && seesTx(this.deps.state, tx, caller) ? { tx } : {}),
      };
    }
    const rejected = this.rejections.get(hash);
    if (rejected !== undefined) return { hash, status: 'rejected', code: rejected.code, reason: rejected.log };
    throw new ApiError('TX_NOT_FOUND', `no transaction ${hash} is known to this node`);
  }
}
