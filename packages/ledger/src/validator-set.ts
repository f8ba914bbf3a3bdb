// Validator sets that change over the chain's life (docs/governance.md "Validator-set
// changes"). Each header names the set that must sign it (`validatorsHash`) and the set for
// the next height (`nextValidatorsHash`), as CometBFT's headers do, so a new set is proven
// by the commit of the set before it and a verifier pinned to genesis can follow every change.
import { isHex } from '@medledger/crypto';
import { hashCanonical } from './canonical.js';
import { LedgerError } from './errors.js';
import type { BlockHeader, GenesisValidator } from './types.js';

/** What consensus needs of a validator: its Ed25519 public key and voting power, in set order. */
export interface ValidatorPower {
  publicKey: string;
  power: number;
}

/**
 * Hash of a validator set: hex SHA-256 of the canonical JSON of `[{publicKey, power}]` in set
 * order (the order decides proposer rotation, so it is part of what is signed). Names and
 * encryption keys are not consensus data and are left out.
 */
export function validatorSetHash(validators: readonly ValidatorPower[]): string {
  return hashCanonical(validators.map((v) => ({ publicKey: v.publicKey, power: v.power })));
}

/** Largest voting power of one validator (governance-actions.ts MAX_VOTING_POWER). */
const MAX_POWER = 1_000_000;

/**
 * Check an untrusted validator list (a node's answer, a verifier's input): non-empty, each
 * `{publicKey, power}` with a 32-byte hex key listed once and an integer power from 1 to
 * 1,000,000; other fields (name, encryptionKey, id) are kept as given. Throws
 * LedgerError('MALFORMED_BLOCK') naming the entry.
 */
export function parseValidatorList(x: unknown, what = 'validators'): GenesisValidator[] {
  if (!Array.isArray(x) || x.length === 0) throw new LedgerError('MALFORMED_BLOCK', `${what} must be a non-empty array`);
  const seen = new Set<string>();
  return x.map((v: unknown, i) => {
    const o = v as Record<string, unknown>;
    if (typeof o !== 'object' || o === null) throw new LedgerError('MALFORMED_BLOCK', `${what}[${i}] must be an object`);
    if (!isHex(o.publicKey, 32)) throw new LedgerError('MALFORMED_BLOCK', `${what}[${i}].publicKey must be 32-byte hex`);
    if (typeof o.power !== 'number' || !Number.isSafeInteger(o.power) || o.power < 1 || o.power > MAX_POWER)
      throw new LedgerError('MALFORMED_BLOCK', `${what}[${i}].power must be an integer from 1 to ${MAX_POWER}`);
    if (seen.has(o.publicKey as string)) throw new LedgerError('MALFORMED_BLOCK', `${what}[${i}].publicKey is listed twice`);
    seen.add(o.publicKey as string);
    return {
      name: typeof o.name === 'string' ? o.name : '',
      publicKey: o.publicKey as string,
      encryptionKey: typeof o.encryptionKey === 'string' ? o.encryptionKey : '',
      power: o.power as number,
    };
  });
}

/** A header carries the validator-set hashes (every block since validator-set changes were built; older blocks do not). */
export function hasValidatorHashes(header: BlockHeader): header is BlockHeader & { validatorsHash: string; nextValidatorsHash: string } {
  return header.validatorsHash !== undefined && header.nextValidatorsHash !== undefined;
}

/**
 * Walks a chain's headers in order from genesis, knowing at each height which set must sign.
 * The rule, the same for the node (chain.ts) and every verifier: block 1 is signed by the
 * genesis set; block h+1 by the set block h named as next, once it is proven by block h's
 * commit. A header from before the hashes existed names nothing, so the set stays the one
 * in force (the genesis set, on chains made before the change); once one header carries the
 * hashes, every later one must.
 */
export class ValidatorSetFollower {
  private current: GenesisValidator[];
  private currentHash: string;
  /** The set the last accepted header named for the next height, with its list when known. */
  private announced: { hash: string; validators?: GenesisValidator[] } | undefined;
  private hashed = false;

  constructor(genesisValidators: readonly GenesisValidator[]) {
    this.current = [...genesisValidators];
    this.currentHash = validatorSetHash(genesisValidators);
  }

  /** The set that must sign the header passed to `enter` next (after `advance`). */
  get validators(): readonly GenesisValidator[] {
    return this.current;
  }

  /**
   * Move to `header`'s height: check it names the set its predecessor announced (or, for a
   * pre-hash header, that none was announced), and return the set that must sign it.
   * Throws LedgerError('BAD_VALIDATORS') when the header breaks the chain of sets.
   */
  enter(header: BlockHeader): readonly GenesisValidator[] {
    if (this.announced !== undefined) {
      const { hash, validators } = this.announced;
      if (hash !== this.currentHash) {
        if (validators === undefined)
          throw new LedgerError('VALIDATORS_UNKNOWN', `block ${header.height - 1} names a new validator set that was not supplied`);
        this.current = validators;
        this.currentHash = hash;
      }
    }
    if (!hasValidatorHashes(header)) {
      if (this.hashed)
        throw new LedgerError('BAD_VALIDATORS', `block ${header.height} lacks the validator-set hashes its predecessors carry`);
      return this.current;
    }
    if (header.validatorsHash !== this.currentHash)
      throw new LedgerError('BAD_VALIDATORS', `block ${header.height} names a validator set other than the one proven for its height`);
    this.hashed = true;
    return this.current;
  }

  /**
   * After `header` (entered) was proven by its commit: take its announced next set.
   * `nextValidators` is that set's list, needed only when it differs from the current set;
   * it must hash to the header's `nextValidatorsHash`. Throws LedgerError('BAD_VALIDATORS').
   */
  advance(header: BlockHeader, nextValidators?: unknown): void {
    if (!hasValidatorHashes(header)) {
      this.announced = undefined;
      return;
    }
    const hash = header.nextValidatorsHash;
    if (hash === this.currentHash || nextValidators === undefined) {
      this.announced = { hash };
      return;
    }
    const list = parseValidatorList(nextValidators, `block ${header.height} next validators`);
    if (validatorSetHash(list) !== hash)
      throw new LedgerError('BAD_VALIDATORS', `the next validator set given for block ${header.height} does not match its header's hash`);
    this.announced = { hash, validators: list };
  }
}
