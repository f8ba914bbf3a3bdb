// Offline chain verification as a pure function (DESIGN §1.5, §5): from the genesis file
// alone, re-check every link, root, signature and commit, and optionally a replay.
import { blockHash, validateBlockBasic, verifyCommit, ZERO_HASH } from './block.js';
import type { LedgerError } from './errors.js';
import { genesisEngine } from './genesis.js';
import { verifyTxSignature } from './tx.js';
import type { Block, Commit, Genesis, GenesisValidator } from './types.js';
import { ValidatorSetFollower } from './validator-set.js';

export type ChainVerification =
  | { ok: true; blocks: number; txs: number; lastBlockHash: string }
  | { ok: false; height: number; code: string; reason: string };

export interface VerifyChainOptions {
  /** Re-apply the block and return the app hash it yields; compared with the header's. */
  replay?: (block: Block) => string;
  /** Check every transaction signature (default true). */
  verifyTxSignatures?: boolean;
}

/**
 * One block to verify with its commit. `nextValidators` is the validator set the block names
 * as next (its header's `nextValidatorsHash`); it is needed only where that set changes, and
 * is read after the block's replay (a getter may compute it from the replayed state).
 */
export interface BlockToVerify {
  block: Block;
  commit: Commit;
  nextValidators?: unknown;
}

/**
 * Verify blocks 1…n in order against `genesis`, following validator-set changes: each block
 * must be signed by the set its predecessor named (validator-set.ts), so a set that was
 * replaced cannot sign later history. Stops at the first failure and reports its height with
 * a stable code: HEIGHT_GAP, WRONG_CHAIN, BAD_PREV_HASH, BAD_TIME, BAD_PROPOSER, BAD_TX_ROOT,
 * BAD_LAST_COMMIT, BAD_COMMIT, BAD_VALIDATORS, VALIDATORS_UNKNOWN, BAD_TX_SIGNATURE,
 * APP_HASH_MISMATCH, MALFORMED_BLOCK, and ENGINE_MISMATCH for a genesis that names CometBFT
 * (whose chains are CometBFT's blocks, verified by the node's verifyCometChain).
 */
export function verifyChain(genesis: Genesis, blocks: Iterable<BlockToVerify>, opts: VerifyChainOptions = {}): ChainVerification {
  if (genesisEngine(genesis) !== 'embedded')
    return {
      ok: false,
      height: 1,
      code: 'ENGINE_MISMATCH',
      reason: `the genesis names the ${genesisEngine(genesis)} engine, whose blocks are not MedLedger's`,
    };
  const follower = new ValidatorSetFollower(genesis.validators);
  let prevSet: readonly GenesisValidator[] = genesis.validators;
  let expected = 1;
  let prevHash = ZERO_HASH;
  let prevTime = genesis.genesisTime;
  let txs = 0;
  for (const entry of blocks) {
    const { block, commit } = entry;
    const h = block.header;
    const fail = (code: string, reason: string): ChainVerification => ({ ok: false, height: expected, code, reason });
    if (h.height !== expected) return fail('HEIGHT_GAP', `expected block ${expected} but found block ${h.height} in its place`);
    try {
      validateBlockBasic(block, { chainId: genesis.chainId, params: genesis.params });
    } catch (err) {
      const e = err as LedgerError;
      return fail(e.code ?? 'MALFORMED_BLOCK', e.message);
    }
    if (h.prevHash !== prevHash) return fail('BAD_PREV_HASH', `block ${expected} does not link to block ${expected - 1}`);
    if (h.time <= prevTime) return fail('BAD_TIME', `block ${expected} time is not after the previous block`);
    let validators: readonly GenesisValidator[];
    try {
      validators = follower.enter(h);
    } catch (err) {
      const e = err as LedgerError;
      return fail(e.code ?? 'BAD_VALIDATORS', e.message);
    }
    if (!validators.some((v) => v.publicKey === h.proposer))
      return fail('BAD_PROPOSER', `block ${expected} proposer is not a validator at its height`);
    if (block.lastCommit !== null) {
      try {
        verifyCommit(genesis.chainId, prevSet, block.lastCommit, expected - 1, prevHash);
      } catch (err) {
        return fail('BAD_LAST_COMMIT', `block ${expected} carries an invalid commit for block ${expected - 1}: ${(err as Error).message}`);
      }
    }
    const hash = blockHash(h);
    try {
      verifyCommit(genesis.chainId, validators, commit, expected, hash);
    } catch (err) {
      return fail('BAD_COMMIT', `commit of block ${expected} is invalid: ${(err as Error).message}`);
    }
    prevSet = validators;
    if (opts.verifyTxSignatures !== false) {
      const bad = block.txs.findIndex((tx) => !verifyTxSignature(tx));
      if (bad >= 0) return fail('BAD_TX_SIGNATURE', `transaction ${bad} of block ${expected} has an invalid signature`);
    }
    if (opts.replay !== undefined) {
      const appHash = opts.replay(block);
      if (appHash !== h.appHash) return fail('APP_HASH_MISMATCH', `replaying block ${expected} gives a different app hash`);
    }
    try {
      // Read after the replay, so a verifier may take the next set from the state it replayed.
      follower.advance(h, entry.nextValidators);
    } catch (err) {
      const e = err as LedgerError;
      return fail(e.code ?? 'BAD_VALIDATORS', e.message);
    }
    txs += block.txs.length;
    prevHash = hash;
    prevTime = h.time;
    expected++;
  }
  return { ok: true, blocks: expected - 1, txs, lastBlockHash: prevHash };
}
