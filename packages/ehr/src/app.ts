// The EHR application behind an ABCI-shaped interface (checkTx, finalizeBlock, commit,
// query), so the consensus engine drives it without knowing any health-record rule.
import { fromHex, idFromPublicKey, sha256, sha256Hex, utf8 } from '@medledger/crypto';
import {
  canonicalBytes,
  type Genesis,
  hashCanonical,
  type SignedTx,
  type TxResult,
  txHash,
  verifyTxSignature,
  ZERO_HASH,
} from '@medledger/ledger';
import { DEFAULT_EMERGENCY_MAX_DURATION_MS, type EmergencyParams } from './emergency.js';
import { EhrError } from './errors.js';
import { genesisIdentities, getIdentity, putIdentity } from './identity.js';
import { TX_KINDS, type TxContext } from './kinds.js';
import { keys, StateOverlay, type StateReader, type StateWrite } from './state.js';

const APP_HASH_DOMAIN = utf8('medledger/app/v1\n');
const OK: TxResult = { code: 'ok', log: '' };

/** The outcome of applying one block: per-tx results, the ordered state writes, and the new app hash. */
export interface BlockExecution {
  results: TxResult[];
  writes: StateWrite[];
  appHash: string;
}

/** What `finalizeBlock` needs of a block: its height, time and transactions. */
export interface BlockInput {
  height: number;
  time: number;
  txs: SignedTx[];
}

/**
 * App hash after a block: SHA-256 over a domain tag, the previous app hash, and the
 * canonical JSON of (height, writes, results). Chaining makes the hash commit to the
 * whole history of state changes, so replaying the chain must reproduce every one.
 */
export function nextAppHash(prevAppHash: string, height: number, writes: StateWrite[], results: TxResult[]): string {
  const changes = sha256(canonicalBytes({ height, writes, results }));
  return sha256Hex(APP_HASH_DOMAIN, fromHex(prevAppHash, 'app hash', 32), changes);
}

/** State and app hash at height 0, from genesis. Pure. */
export function initChain(genesis: Genesis): BlockExecution {
  const state = new StateOverlay({ getState: () => undefined });
  state.set(keys.chainMeta(), JSON.stringify({ chainId: genesis.chainId, genesis: hashCanonical(genesis) }));
  for (const identity of genesisIdentities(genesis)) putIdentity(state, identity);
  const writes = state.changes();
  return { results: [], writes, appHash: nextAppHash(ZERO_HASH, 0, writes, []) };
}

/** Emergency-access parameters from genesis: every validator by id, and the window cap (default 4 h). */
export function emergencyParams(genesis: Genesis): EmergencyParams {
  return {
    validators: genesis.validators.map((v) => idFromPublicKey(v.publicKey)),
    maxDurationMs: genesis.params.emergencyMaxDurationMs ?? DEFAULT_EMERGENCY_MAX_DURATION_MS,
  };
}

/** A bounded set of tx hashes whose signatures verified, so each tx is verified once per node. */
class VerifiedCache {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  has(hash: string): boolean {
    return this.seen.has(hash);
  }
  add(hash: string): void {
    if (this.seen.size >= this.max) {
      // Drop the oldest half; Set iterates in insertion order.
      let drop = this.max >> 1;
      for (const h of this.seen) {
        if (drop-- <= 0) break;
        this.seen.delete(h);
      }
    }
    this.seen.add(hash);
  }
}

/**
 * The health-record application. It reads committed state through `committed` and never
 * writes it: `finalizeBlock` returns the writes and the node stores them with the block in
 * one transaction, then calls `commit`.
 */
export class EhrApp {
  private checkState: StateOverlay;
  private readonly verified = new VerifiedCache(200_000);

  constructor(
    private readonly chainId: string,
    private readonly committed: StateReader,
    /** Validators and window cap for emergency access (from genesis: `emergencyParams`). */
    private readonly emergency?: EmergencyParams,
  ) {
    this.checkState = new StateOverlay(committed);
  }

  /**
   * Mempool admission: signature, nonce and the kind's rules against committed state plus
   * the transactions already admitted (so a signer can pipeline nonces n, n+1, …).
   * Returns the result; on success the tx's effects are kept in the check state. `admission`,
   * when given, runs once the rules pass and before anything is kept: the node's own checks
   * (its vault), which may throw to refuse the transaction with nothing kept.
   */
  checkTx(tx: SignedTx, ctx: { height: number; time: number }, admission?: (tx: SignedTx) => void): TxResult {
    const scratch = this.checkState.fork();
    const result = this.applyTx({ chainId: this.chainId, ...ctx, ...this.emergencyCtx() }, tx, scratch);
    if (result.code !== 'ok') return result;
    admission?.(tx);
    this.checkState.absorb(scratch);
    return result;
  }

  /**
   * Apply a block's transactions against committed state, deterministically. Refused
   * transactions get an error result and change nothing except, once signature and nonce
   * passed, the signer's nonce (so a failing transaction can't be replayed either).
   */
  finalizeBlock(block: BlockInput, prevAppHash: string): BlockExecution {
    const state = new StateOverlay(this.committed);
    const ctx: TxContext = { chainId: this.chainId, height: block.height, time: block.time, ...this.emergencyCtx() };
    const results = block.txs.map((tx) => this.applyTx(ctx, tx, state));
    const writes = state.changes();
    return { results, writes, appHash: nextAppHash(prevAppHash, block.height, writes, results) };
  }

  /** Called after the node stored a block: the check state restarts from committed state. */
  commit(): void {
    this.checkState = new StateOverlay(this.committed);
  }

  /** The next nonce a signer must use, as committed plus admitted to the mempool. */
  pendingNonce(signer: string): number {
    return Number(this.checkState.getState(keys.nonce(signer)) ?? '0');
  }

  /** Committed-state queries the API serves. */
  query = {
    nonce: (signer: string): number => Number(this.committed.getState(keys.nonce(signer)) ?? '0'),
    identity: (id: string) => getIdentity(this.committed, id),
  };

  private emergencyCtx(): { emergency?: EmergencyParams } {
    return this.emergency === undefined ? {} : { emergency: this.emergency };
  }

  private applyTx(ctx: TxContext, tx: SignedTx, state: StateOverlay): TxResult {
    try {
      this.ante(ctx, tx, state);
    } catch (err) {
      return toResult(err);
    }
    state.set(keys.nonce(tx.signer), String(tx.nonce + 1));
    const kind = TX_KINDS.get(tx.kind) as NonNullable<ReturnType<typeof TX_KINDS.get>>;
    const scratch = state.fork();
    try {
      kind.apply(ctx, tx, scratch);
    } catch (err) {
      return toResult(err);
    }
    state.absorb(scratch);
    return OK;
  }

  /** Checks every kind shares: chain, known kind, signature (cached by hash), exact nonce. */
  private ante(ctx: TxContext, tx: SignedTx, state: StateReader): void {
    if (tx.chain !== ctx.chainId) throw new EhrError('WRONG_CHAIN', `transaction is for chain '${tx.chain}'`);
    if (!TX_KINDS.has(tx.kind)) throw new EhrError('UNKNOWN_KIND', `unknown transaction kind '${tx.kind}'`);
    const hash = txHash(tx);
    if (!this.verified.has(hash)) {
      if (!verifyTxSignature(tx)) throw new EhrError('BAD_SIGNATURE', 'signature does not verify');
      this.verified.add(hash);
    }
    const expected = Number(state.getState(keys.nonce(tx.signer)) ?? '0');
    if (tx.nonce < expected) throw new EhrError('NONCE_REUSED', `nonce ${tx.nonce} was already used; next is ${expected}`);
    if (tx.nonce > expected) throw new EhrError('NONCE_GAP', `nonce ${tx.nonce} skips ahead; next is ${expected}`);
  }
}

function toResult(err: unknown): TxResult {
  if (err instanceof EhrError) return { code: err.code, log: err.message };
  throw err;
}
