// The authenticated-state wire format (docs/state.md, docs/api.md "Proven state"): hashing
// of the compact sparse Merkle tree over application state, the app hash that commits to
// it, and the one pure proof check that nodes and clients share. Browser-safe: imports
// only @medledger/crypto/browser and `canonicalize` (state-proof-safety.test.ts checks).
import { bytesEqual, concatBytes, fromHex, isHex, sha256, toHex, utf8 } from '@medledger/crypto/browser';
import canonicalize from 'canonicalize';
import type { BlockHeader, Commit } from './types.js';

/** Root of the empty tree, and the hash of any empty subtree: 32 zero bytes. */
export const EMPTY_STATE_ROOT = '00'.repeat(32);
/** Domain tag of the app hash, version 2 (state root plus results root). */
export const APP_HASH_DOMAIN = 'medledger/app/v2\n';
/** Depth of the tree: one level per bit of SHA-256(key). */
export const STATE_TREE_DEPTH = 256;

const LEAF_TAG = new Uint8Array([0x00]);
const INNER_TAG = new Uint8Array([0x01]);
const EMPTY = new Uint8Array(32);

/**
 * Codes a state-proof check throws (as StateProofError):
 * - `PROOF_MALFORMED`: the proof or an argument is not of the documented shape.
 * - `PROOF_INVALID`: the proof does not lead from (key, value) to the state root.
 * - `APP_HASH_MISMATCH`: the state and results roots do not hash to the header's app hash.
 * - `VALUE_MISMATCH`: a proven value differs from what a node said elsewhere (raised by callers).
 */
export type StateProofErrorCode = 'PROOF_MALFORMED' | 'PROOF_INVALID' | 'APP_HASH_MISMATCH' | 'VALUE_MISMATCH';

export class StateProofError extends Error {
  readonly code: StateProofErrorCode;
  constructor(code: StateProofErrorCode, message: string) {
    super(message);
    this.name = 'StateProofError';
    this.code = code;
  }
}

/**
 * A proof that `key` holds a value, or holds none, under a state root. `siblings[i]` is the
 * hash of the sibling of the path node at depth i+1 (root is depth 0), i.e. of the subtree
 * on the other side of bit i of SHA-256(key) (bit 0 = most significant bit of byte 0).
 * The path ends where the key's leaf is (membership), or at an empty subtree, or at the one
 * leaf of another key that shares the path (non-membership; `leaf` names that other leaf).
 */
export interface StateProof {
  siblings: string[];
  /** Non-membership only: the other key's leaf where the path ends; null otherwise. */
  leaf: { keyHash: string; valueHash: string } | null;
}

/** One proven key in an answer of `GET /v1/state/proof` or `POST /v1/state/proofs`. */
export interface ProvenStateEntry {
  key: string;
  /** The stored string, or null when the key holds nothing. */
  value: string | null;
  proof: StateProof;
}

/** The answer of the proven-state routes (docs/api.md "Proven state"): all of one height. */
export interface ProvenStateAnswer {
  height: number;
  header: BlockHeader;
  commit: Commit;
  stateRoot: string;
  resultsRoot: string;
  entries: ProvenStateEntry[];
}

/** SHA-256 of the key's UTF-8 bytes: the key's path in the tree. */
export function stateKeyHash(key: string): Uint8Array {
  return sha256(utf8(key));
}

/** SHA-256 of the value's UTF-8 bytes, as a leaf commits to it. */
export function stateValueHash(value: string): Uint8Array {
  return sha256(utf8(value));
}

/** The 65-byte preimage of a leaf: 0x00 ‖ keyHash ‖ valueHash (also how nodes are stored). */
export function encodeStateLeaf(keyHash: Uint8Array, valueHash: Uint8Array): Uint8Array {
  return concatBytes(LEAF_TAG, keyHash, valueHash);
}

/** The 65-byte preimage of an inner node: 0x01 ‖ left ‖ right (also how nodes are stored). */
export function encodeStateInner(left: Uint8Array, right: Uint8Array): Uint8Array {
  return concatBytes(INNER_TAG, left, right);
}

/** Bit `depth` of a key hash, most significant bit of byte 0 first. */
export function keyBit(keyHash: Uint8Array, depth: number): 0 | 1 {
  return (((keyHash[depth >> 3] as number) >> (7 - (depth & 7))) & 1) as 0 | 1;
}

/**
 * App hash = SHA-256("medledger/app/v2\n" ‖ stateRoot ‖ resultsRoot), all roots 32 bytes
 * (hex in, hex out). Throws StateProofError('PROOF_MALFORMED') unless both are 32-byte hex.
 */
export function appHashOf(stateRoot: string, resultsRoot: string): string {
  if (!isHex(stateRoot, 32) || !isHex(resultsRoot, 32)) throw new StateProofError('PROOF_MALFORMED', 'roots must be 32-byte hex');
  return toHex(sha256(utf8(APP_HASH_DOMAIN), fromHex(stateRoot), fromHex(resultsRoot)));
}

/**
 * RFC 9162 §2.1.1 Merkle root over the canonical JSON (RFC 8785) of each transaction result
 * of a block, in block order; the empty list gives SHA-256(""). Hex.
 */
export function resultsRootOf(results: readonly unknown[]): string {
  if (results.length === 0) return toHex(sha256());
  let level = results.map((r) => {
    const text = canonicalize(r);
    if (typeof text !== 'string') throw new StateProofError('PROOF_MALFORMED', 'a result has no canonical JSON form');
    return sha256(LEAF_TAG, utf8(text));
  });
  // Bottom-up, pairing left to right and promoting a lone last node: the RFC's split.
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(sha256(INNER_TAG, level[i] as Uint8Array, level[i + 1] as Uint8Array));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
    level = next;
  }
  return toHex(level[0] as Uint8Array);
}

/**
 * Throw StateProofError('APP_HASH_MISMATCH') unless appHashOf(stateRoot, resultsRoot) equals
 * `appHash` (a verified header's). The one step that ties a proof's root to a header.
 */
export function checkAppHash(appHash: string, stateRoot: string, resultsRoot: string): void {
  if (appHashOf(stateRoot, resultsRoot) !== appHash)
    throw new StateProofError('APP_HASH_MISMATCH', "the state and results roots do not hash to the header's app hash");
}

function malformed(message: string): never {
  throw new StateProofError('PROOF_MALFORMED', message);
}

/**
 * Check that under `stateRoot` the key `key` holds `value` (a string), or holds nothing
 * (`value === null`), by `proof`. Returns nothing; throws StateProofError `PROOF_MALFORMED`
 * (bad shape) or `PROOF_INVALID` (does not lead to the root). Pure; never trusts anything
 * in the proof beyond what it hashes.
 */
export function verifyStateProof(stateRoot: string, key: string, value: string | null, proof: StateProof): void {
  if (!isHex(stateRoot, 32)) malformed('stateRoot must be 32-byte hex');
  if (typeof key !== 'string') malformed('key must be a string');
  if (value !== null && typeof value !== 'string') malformed('value must be a string or null');
  if (typeof proof !== 'object' || proof === null) malformed('proof must be an object');
  const { siblings, leaf } = proof;
  if (!Array.isArray(siblings) || siblings.length > STATE_TREE_DEPTH || !siblings.every((s) => isHex(s, 32)))
    malformed(`proof.siblings must be at most ${STATE_TREE_DEPTH} 32-byte hex hashes`);
  const keyHash = stateKeyHash(key);
  const depth = siblings.length;
  let node: Uint8Array;
  if (value !== null) {
    if (leaf !== null) malformed('a membership proof carries no other leaf (proof.leaf must be null)');
    node = sha256(encodeStateLeaf(keyHash, stateValueHash(value)));
  } else if (leaf === null) {
    node = EMPTY;
  } else {
    if (typeof leaf !== 'object' || !isHex(leaf.keyHash, 32) || !isHex(leaf.valueHash, 32))
      malformed('proof.leaf must be {keyHash, valueHash}, 32-byte hex each');
    const other = fromHex(leaf.keyHash);
    if (bytesEqual(other, keyHash)) throw new StateProofError('PROOF_INVALID', 'the proof shows a leaf for this very key');
    for (let d = 0; d < depth; d++)
      if (keyBit(other, d) !== keyBit(keyHash, d)) throw new StateProofError('PROOF_INVALID', 'the other leaf is not on this key’s path');
    node = sha256(encodeStateLeaf(other, fromHex(leaf.valueHash)));
  }
  for (let d = depth - 1; d >= 0; d--) {
    const sibling = fromHex(siblings[d] as string);
    node = sha256(keyBit(keyHash, d) === 0 ? encodeStateInner(node, sibling) : encodeStateInner(sibling, node));
  }
  if (!bytesEqual(node, fromHex(stateRoot)))
    throw new StateProofError('PROOF_INVALID', `the proof for '${key}' does not lead to the state root`);
}
