// The EHR application behind an ABCI-shaped interface (checkTx, finalizeBlock, commit,
// query), so the consensus engine drives it without knowing any health-record rule.
import { idFromPublicKey } from '@medledger/crypto';
import {
  appHashOf,
  blockResultsRoot,
  EMPTY_STATE_ROOT,
  type Genesis,
  hashCanonical,
  type SignedTx,
  type StateTreeUpdate,
  type TxResult,
  txHash,
  updateStateTree,
  verifyTxSignature,
} from '@medledger/ledger';
import type { CommittedState } from './committed.js';
import { DEFAULT_EMERGENCY_MAX_DURATION_MS, type EmergencyParams } from './emergency.js';
import { EhrError } from './errors.js';
import { type EngineMisbehavior, recordEngineEvidence } from './evidence.js';
import { govParams, setMembers } from './governance.js';
import { closeExpiredProposals } from './governance-kinds.js';
import { activeSigner, genesisIdentities, getIdentity, putIdentity } from './identity.js';
import { TX_KINDS, type TxContext } from './kinds.js';
import { keys, StateOverlay, type StateReader, type StateWrite, writeJson } from './state.js';

const OK: TxResult = { code: 'ok', log: '' };

/**
 * The outcome of applying one block: per-tx results, the ordered state writes, the state
 * tree update (new root and node writes, not yet stored), the results root, and the app hash.
 */
export interface BlockExecution {
  results: TxResult[];
  writes: StateWrite[];
  tree: StateTreeUpdate;
  resultsRoot: string;
  appHash: string;
}

/** What `finalizeBlock` needs of a block: its height, time and transactions. */
export interface BlockInput {
  height: number;
  time: number;
  txs: SignedTx[];
  /** Misbehaviour the engine proved and put in the block (CometBFT), recorded as evidence. */
  misbehavior?: readonly EngineMisbehavior[];
}

/**
 * Execute against `committed`: the tree update for `writes` (an overlay: nothing is stored)
 * and the app hash SHA-256("medledger/app/v2\n" ‖ stateRoot ‖ resultsRoot) (docs/state.md).
 * The state root commits to all state, so any read can be proven against a header.
 */
function execution(committed: CommittedState, writes: StateWrite[], results: TxResult[]): BlockExecution {
  const tree = updateStateTree(committed, committed.stateRoot(), writes);
  const resultsRoot = blockResultsRoot(results);
  return { results, writes, tree, resultsRoot, appHash: appHashOf(tree.root, resultsRoot) };
}

/**
 * State and app hash at height 0, from genesis: chain meta, the validator set with its
 * encryption keys and the emergency parameters (so clients can prove them), and the
 * genesis identities; the tree is built from empty. Pure.
 */
export function initChain(genesis: Genesis): BlockExecution {
  const state = new StateOverlay({ getState: () => undefined });
  state.set(keys.chainMeta(), JSON.stringify({ chainId: genesis.chainId, genesis: hashCanonical(genesis) }));
  writeJson(state, keys.validatorSet(), {
    validators: genesis.validators.map((v) => ({
      id: idFromPublicKey(v.publicKey),
      name: v.name,
      publicKey: v.publicKey,
      encryptionKey: v.encryptionKey,
      power: v.power,
    })),
  });
  writeJson(state, keys.emergencyParams(), emergencyParams(genesis));
  for (const identity of genesisIdentities(genesis)) putIdentity(state, identity);
  // Governance: the founding organizations are the members; the genesis block limits are the ceiling governance may lower to.
  setMembers(
    state,
    genesis.organizations.map((o) => idFromPublicKey(o.adminKey)),
  );
  writeJson(state, keys.govGenesisLimits(), { maxBlockTxs: genesis.params.maxBlockTxs, maxBlockBytes: genesis.params.maxBlockBytes });
  const empty: CommittedState = { getState: () => undefined, getTreeNode: () => undefined, stateRoot: () => EMPTY_STATE_ROOT };
  return execution(empty, state.changes(), []);
}

/** Emergency-access parameters from genesis: every validator by id, and the window cap (default 4 h). */
export function emergencyParams(genesis: Genesis): EmergencyParams {
  return {
    validators: genesis.validators.map((v) => idFromPublicKey(v.publicKey)),
    maxDurationMs: genesis.params.emergencyMaxDurationMs ?? DEFAULT_EMERGENCY_MAX_DURATION_MS,
  };
}

/** `base` (from genesis) with the emergency window cap governance set, if any (docs/governance.md). */
export function effectiveEmergencyParams(state: StateReader, base: EmergencyParams): EmergencyParams {
  const cap = govParams(state).emergencyMaxDurationMs;
  return cap === undefined ? base : { ...base, maxDurationMs: cap };
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
/** What an admitted transaction read (each key with the value its rules saw) and wrote in the check state. */
interface AdmittedEffect {
  reads: ReadonlyMap<string, string | undefined>;
  writes: ReadonlyMap<string, string | null>;
  /** Admitted as a peer's relay (checkRelayedTx): only the checks every kind shares ran. */
  relayed?: true;
}

export class EhrApp {
  private checkState: StateOverlay;
  private readonly verified = new VerifiedCache(200_000);
  /** Effects of the transactions admitted since the last commit, by hash. */
  private admitted = new Map<string, AdmittedEffect>();
  /** After a commit: the effects of the transactions admitted before it that it did not include. */
  private carried: Map<string, AdmittedEffect> | undefined;
  /** How the re-checks since start went: effects replayed, or rules run again (metrics, tests). */
  readonly recheckCounts = { replayed: 0, rerun: 0 };

  constructor(
    private readonly chainId: string,
    private readonly committed: CommittedState,
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
    const reads = new Map<string, string | undefined>();
    const scratch = this.checkState.fork(reads);
    const result = this.applyTx({ chainId: this.chainId, ...ctx, ...this.emergencyCtx(scratch) }, tx, scratch);
    if (result.code !== 'ok') return result;
    admission?.(tx);
    this.checkState.absorb(scratch);
    this.admitted.set(txHash(tx), { reads, writes: scratch.buffered });
    return result;
  }

  /**
   * Admission of a transaction a peer relays (the embedded engine's gossip): the checks every
   * kind shares (chain, known kind, signature, exact nonce against the check state) and that
   * its signer is an active identity (unless it registers one), not the kind's rules. The
   * signer check keeps a faulty node from filling every validator's blocks with refused
   * transactions of throwaway keys, each of which would leave a nonce in state for good. The
   * node its client sent it to ran checkTx in full and answered that
   * client; every validator runs the rules when a block holds it (finalizeBlock), where a
   * refusal is recorded with its code and uses the nonce, as for a transaction whose rules
   * pass at admission but fail by the time it is in a block. Running the rules here as well
   * cost each of the other validators about as much again per transaction as executing it
   * (docs/architecture.md "Wiring only"). The nonce advances in the check state, so the
   * signer's next nonces are admitted in order; the rest of its effects are not kept, so a
   * client's transaction that depends on one relayed here, not yet committed, is checked
   * against committed state for that part.
   */
  checkRelayedTx(tx: SignedTx, ctx: { height: number; time: number }): TxResult {
    const reads = new Map<string, string | undefined>();
    const scratch = this.checkState.fork(reads);
    try {
      this.ante({ chainId: this.chainId, ...ctx }, tx, scratch);
      if (tx.kind !== 'identity.register') activeSigner(scratch, tx.signer);
    } catch (err) {
      return toResult(err);
    }
    scratch.set(keys.nonce(tx.signer), String(tx.nonce + 1));
    this.checkState.absorb(scratch);
    this.admitted.set(txHash(tx), { reads, writes: scratch.buffered, relayed: true });
    return OK;
  }

  /**
   * Re-check, after a commit, a transaction admitted before it (the mempool's survivors, in
   * admission order). When every key it read still has the value its rules saw (in the check
   * state as rebuilt so far: the new committed state plus the survivors before it), its
   * recorded writes are applied again without running the rules: the rules are a function of
   * the values read, so they would write the same. Values, not keys: a claim reads its
   * signer's nonce, its coverage's accumulator and its insurer's list count, which every
   * block holding the claims admitted before it writes, but to the very values the claim saw
   * when those claims were still pending. Else it is checked again as it was admitted: in full,
   * or a peer's relay by the shared checks (checkRelayedTx). The next
   * height and block time are not part of this test: a survivor whose validity turned on them
   * alone (an expiry passing) is refused by the block that includes it, as one admitted just
   * before would be. Admission only: what a block does is always computed by finalizeBlock
   * from committed state.
   */
  recheckTx(tx: SignedTx, ctx: { height: number; time: number }): TxResult {
    const hash = txHash(tx);
    const prior = this.carried?.get(hash);
    if (prior === undefined) return this.checkTx(tx, ctx);
    this.carried?.delete(hash);
    for (const [key, value] of prior.reads)
      if (this.checkState.getState(key) !== value) {
        this.recheckCounts.rerun++;
        return prior.relayed ? this.checkRelayedTx(tx, ctx) : this.checkTx(tx, ctx);
      }
    this.checkState.replay(prior.writes);
    this.admitted.set(hash, prior);
    this.recheckCounts.replayed++;
    return OK;
  }

  /**
   * Apply a block's transactions against committed state, deterministically. Refused
   * transactions get an error result and change nothing except, once signature and nonce
   * passed, the signer's nonce (so a failing transaction can't be replayed either).
   * The app hash depends only on committed state and this block, not on earlier app hashes:
   * the state root already commits to everything before.
   */
  finalizeBlock(block: BlockInput): BlockExecution {
    const state = new StateOverlay(this.committed);
    // Proposals whose deadline came expire before the block's votes are counted.
    closeExpiredProposals(block, state);
    if (block.misbehavior !== undefined && block.misbehavior.length > 0) recordEngineEvidence(state, block.height, block.misbehavior);
    const ctx: TxContext = { chainId: this.chainId, height: block.height, time: block.time, ...this.emergencyCtx(state) };
    const results = block.txs.map((tx) => this.applyTx(ctx, tx, state));
    return execution(this.committed, state.changes(), results);
  }

  /**
   * Called after the node stored a block: the check state restarts from committed state.
   * `block`, when known, names the block's transactions: the effects of the admitted ones it
   * did not include are kept for their re-checks (recheckTx), which replay them when nothing
   * they read changed value. Unknown (a snapshot was installed): every re-check re-runs the rules.
   */
  commit(block?: { txHashes: Iterable<string> }): void {
    this.checkState = new StateOverlay(this.committed);
    if (block === undefined) this.carried = undefined;
    else {
      const effects = this.admitted;
      for (const hash of block.txHashes) effects.delete(hash);
      this.carried = effects;
    }
    this.admitted = new Map();
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

  /** The emergency parameters with the window cap governance set, if it set one (as of the block's start). */
  private emergencyCtx(state: StateReader): { emergency?: EmergencyParams } {
    return this.emergency === undefined ? {} : { emergency: effectiveEmergencyParams(state, this.emergency) };
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
