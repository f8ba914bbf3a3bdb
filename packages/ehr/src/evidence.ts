// Equivocation evidence (DESIGN §6): two conflicting signed messages from one validator
// for the same (height, round, step), committed so the misbehaviour is on the record.
import { isHex, verifyEd25519 } from '@medledger/crypto';
import { proposalSignBytes, type SignedTx, voteSignBytes } from '@medledger/ledger';
import { EhrError } from './errors.js';
import { identityOfKey } from './identity.js';
import type { TxContext, TxKind } from './kinds.js';
import { keys, type StateOverlay } from './state.js';

type Step = 'proposal' | 'prevote' | 'precommit';

interface SignedPart {
  blockHash: string | null;
  validRound?: number;
  sig: string;
}

/** A committed equivocation record. */
export interface EquivocationRecord {
  validator: string;
  height: number;
  /** -1 when the engine reported it (CometBFT's misbehavior list names no round). */
  round: number;
  step: Step | EngineMisbehavior['kind'];
  /** The reporting validator's key, or 'cometbft' for evidence CometBFT proved and put in the block. */
  reportedBy: string;
  committedAt: number;
}

/**
 * Misbehaviour the consensus engine proved itself and put in the block: CometBFT verifies
 * the two conflicting signed votes (or the light-client attack) before any validator
 * accepts the block, and hands the application only who and when (ABCI FinalizeBlock
 * `misbehavior`), so the record carries no signatures and no round.
 */
export interface EngineMisbehavior {
  kind: 'duplicate-vote' | 'light-client-attack';
  /** The offender's Ed25519 public key (hex). */
  validator: string;
  /** The height of the offence. */
  height: number;
}

/**
 * Record each engine-proven misbehaviour as an equivocation record, as the embedded
 * engine's `evidence.equivocation` does, at `evidence/<validator>/<height>/-1/<kind>`. A key
 * that is not a validator's, or a record already kept, changes nothing. Deterministic: only
 * the block's own list and committed state.
 */
export function recordEngineEvidence(state: StateOverlay, committedAt: number, list: readonly EngineMisbehavior[]): void {
  for (const m of list) {
    if (identityOfKey(state, m.validator)?.role !== 'validator') continue;
    const key = keys.evidence(m.validator, m.height, -1, m.kind);
    if (state.getState(key) !== undefined) continue;
    const record: EquivocationRecord = {
      validator: m.validator,
      height: m.height,
      round: -1,
      step: m.kind,
      reportedBy: 'cometbft',
      committedAt,
    };
    state.set(key, JSON.stringify(record));
  }
}

function parsePart(x: unknown, step: Step, field: string): SignedPart {
  const p = x as SignedPart;
  if (typeof p !== 'object' || p === null) throw new EhrError('INVALID_BODY', `body.${field} must be an object`);
  if (!(p.blockHash === null && step !== 'proposal') && !isHex(p.blockHash, 32))
    throw new EhrError('INVALID_BODY', `body.${field}.blockHash must be 32-byte hex`);
  if (!isHex(p.sig, 64)) throw new EhrError('INVALID_BODY', `body.${field}.sig must be 64-byte hex`);
  if (step === 'proposal' && !(Number.isSafeInteger(p.validRound) && (p.validRound as number) >= -1)) {
    throw new EhrError('INVALID_BODY', `body.${field}.validRound must be an integer ≥ -1`);
  }
  return p;
}

function signedBy(ctx: TxContext, validator: string, height: number, round: number, step: Step, part: SignedPart): boolean {
  const bytes =
    step === 'proposal'
      ? proposalSignBytes(ctx.chainId, { height, round, blockHash: part.blockHash as string, validRound: part.validRound as number })
      : voteSignBytes(ctx.chainId, { type: step, height, round, blockHash: part.blockHash });
  return verifyEd25519(validator, bytes, part.sig);
}

export const evidenceEquivocation: TxKind = {
  apply(ctx: TxContext, tx: SignedTx, state: StateOverlay) {
    const b = tx.body as Record<string, unknown>;
    const step = b.step as Step;
    if (!['proposal', 'prevote', 'precommit'].includes(step))
      throw new EhrError('INVALID_BODY', 'body.step must be proposal, prevote or precommit');
    const { validator, height, round } = b as { validator: string; height: number; round: number };
    if (!isHex(validator, 32)) throw new EhrError('INVALID_BODY', 'body.validator must be a 32-byte hex key');
    if (!Number.isSafeInteger(height) || height < 1 || !Number.isSafeInteger(round) || round < 0) {
      throw new EhrError('INVALID_BODY', 'body.height and body.round must be non-negative integers');
    }
    const first = parsePart(b.first, step, 'first');
    const second = parsePart(b.second, step, 'second');
    if (identityOfKey(state, tx.signer)?.role !== 'validator') throw new EhrError('UNAUTHORIZED', 'only validators report equivocation');
    if (identityOfKey(state, validator)?.role !== 'validator') throw new EhrError('INVALID_BODY', 'body.validator is not a validator');
    if (first.blockHash === second.blockHash) throw new EhrError('INVALID_BODY', 'the two messages do not conflict');
    if (!signedBy(ctx, validator, height, round, step, first) || !signedBy(ctx, validator, height, round, step, second)) {
      throw new EhrError('BAD_SIGNATURE', 'evidence signatures do not verify');
    }
    const key = keys.evidence(validator, height, round, step);
    if (state.getState(key) !== undefined) throw new EhrError('EVIDENCE_KNOWN', 'this equivocation is already recorded');
    const record: EquivocationRecord = { validator, height, round, step, reportedBy: tx.signer, committedAt: ctx.height };
    state.set(key, JSON.stringify(record));
  },
};
