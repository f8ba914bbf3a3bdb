// A patient's emergency key split as state keeps it (docs/emergency.md): the shares the patient
// sealed, or after re-sharing the sub-shares the validators dealt; which validators hold them
// now; and the checks every kind that carries a sealed share applies.
import { type Envelope, validateEnvelope } from '@medledger/crypto';
import { hashCanonical } from '@medledger/ledger';
import type { Body } from './body.js';
import { EhrError } from './errors.js';
import { latestValidatorSet } from './governance.js';
import { keys, readJson, type StateReader } from './state.js';

/** One validator's share as registered by the patient: sealed to the validator's encryption key. */
export interface RegisteredShare {
  validator: string;
  x: number;
  /** crypto `shareCommitment` of the plain share, so a share posted later can be checked. */
  commitment: string;
  sealed: Envelope;
}

/** One sub-share an old holder dealt to a new holder when re-sharing (emergency-reshare.ts). */
export interface DealtPart {
  /** crypto `shareCommitment` of the sub-share at the new holder's x. */
  commitment: string;
  sealed: Envelope;
}

/** A new holder's share after re-sharing: one sub-share from each dealer, in the split's `dealers` order. */
export interface DealtShare {
  validator: string;
  x: number;
  parts: DealtPart[];
}

export type SplitShare = RegisteredShare | DealtShare;

/** A patient's current emergency key split, as kept in state. */
export interface EmergencySplit {
  patient: string;
  emergencyKey: string;
  threshold: number;
  shares: SplitShare[];
  at: { height: number; time: number };
  /**
   * `emergencyHoldersHash` of the validators (id and encryption key) the shares are sealed to.
   * Absent on splits registered before re-sharing existed: those were sealed to genesis.
   */
  holders?: string;
  /** Set on a re-shared split: the old x of each dealer whose sub-shares make up the shares, in commit order. */
  dealers?: number[];
  /** When re-sharing last moved the split to a new holder set. */
  resharedAt?: { height: number; time: number };
}

/** Which version of a patient's split this is: the height it was registered or last re-shared at. */
export function splitVersion(split: EmergencySplit): number {
  return split.resharedAt?.height ?? split.at.height;
}

/** Is `share` a re-shared one (sub-shares from dealers) rather than one the patient sealed? */
export function isDealtShare(share: SplitShare): share is DealtShare {
  return (share as DealtShare).parts !== undefined;
}

/** What a window keeps of one share: its commitment, or for a re-shared split one commitment per dealer. */
export interface WindowCommitment {
  validator: string;
  x: number;
  commitment?: string;
  parts?: string[];
}

/** The commitments a window copies from its split. */
export function windowCommitment(share: SplitShare): WindowCommitment {
  return isDealtShare(share)
    ? { validator: share.validator, x: share.x, parts: share.parts.map((p) => p.commitment) }
    : { validator: share.validator, x: share.x, commitment: share.commitment };
}

/** Bytes of one share: the shares of a 32-byte X25519 private key. */
export const SHARE_BYTES = 32;

/**
 * A sealed share: an envelope whose ciphertext is exactly `shares` shares (one, or one
 * sub-share per dealer of a re-shared split), so nobody can park arbitrary data in state
 * under the name of a share.
 */
export function sealedShareField(b: Body, field: string, shares = 1): Envelope {
  let envelope: Envelope;
  try {
    envelope = validateEnvelope(b[field]);
  } catch {
    throw new EhrError('INVALID_BODY', `body.${field} must be a sealed envelope`);
  }
  if (envelope.ct.length !== 2 * SHARE_BYTES * shares)
    throw new EhrError('INVALID_BODY', `body.${field} must seal ${shares * SHARE_BYTES} bytes (${shares} share${shares === 1 ? '' : 's'})`);
  return envelope;
}

/** The validators that hold emergency shares now: the latest validator set decided, in its order. */
export function emergencyHolders(state: StateReader): Array<{ id: string; encryptionKey: string }> {
  return latestValidatorSet(state).map((v) => ({ id: v.id, encryptionKey: v.encryptionKey }));
}

/** A short name for a holder set: SHA-256 of its canonical JSON (ids and encryption keys, in order). */
export function emergencyHoldersHash(holders: ReadonlyArray<{ id: string; encryptionKey: string }>): string {
  return hashCanonical(holders.map((h) => ({ id: h.id, encryptionKey: h.encryptionKey })));
}

/** The holder set a split's shares are sealed to (genesis for splits older than re-sharing). */
export function splitHoldersHash(state: StateReader, split: EmergencySplit): string {
  if (split.holders !== undefined) return split.holders;
  const genesis = readJson<{ validators: Array<{ id: string; encryptionKey: string }> }>(state, keys.validatorSet());
  return emergencyHoldersHash(genesis?.validators ?? []);
}
