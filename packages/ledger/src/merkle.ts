// RFC 9162 (Certificate Transparency v2) §2.1 Merkle tree hashing, inclusion proofs and
// consistency proofs, with the RFC's verification algorithms.
import { bytesEqual, fromHex, sha256, toHex } from '@medledger/crypto';
import { txBytes } from './tx.js';
import type { SignedTx } from './types.js';

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** Leaf hash: SHA-256(0x00 ‖ data) (RFC 9162 §2.1.1). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, data);
}

/** Interior node hash: SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** Largest power of two strictly less than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over leaf hashes (RFC 9162 §2.1.1); the empty tree hashes to SHA-256(""). */
export function merkleRootFromLeafHashes(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256();
  // Bottom-up, pairing left to right and promoting a lone last node: this computes
  // exactly the RFC's recursive split at the largest power of two.
  let level = leaves.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
    level = next;
  }
  return level[0] as Uint8Array;
}

/** MTH(D[n]) over raw leaf data (RFC 9162 §2.1.1). */
export function merkleRoot(leafData: readonly Uint8Array[]): Uint8Array {
  return merkleRootFromLeafHashes(leafData.map(leafHash));
}

function subtreeRoot(hashes: readonly Uint8Array[], from: number, to: number): Uint8Array {
  return merkleRootFromLeafHashes(hashes.slice(from, to));
}

/** PATH(m, D[n]) over leaf hashes (RFC 9162 §2.1.3.1). */
function path(m: number, hashes: readonly Uint8Array[], from: number, to: number): Uint8Array[] {
  const n = to - from;
  if (n <= 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...path(m, hashes, from, from + k), subtreeRoot(hashes, from + k, to)];
  return [...path(m - k, hashes, from + k, to), subtreeRoot(hashes, from, from + k)];
}

/**
 * Inclusion proof for leaf `index` (RFC 9162 §2.1.3.1). Throws RangeError for an index
 * outside the tree.
 */
export function inclusionProof(leafData: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= leafData.length) throw new RangeError('leaf index out of range');
  return path(index, leafData.map(leafHash), 0, leafData.length);
}

/**
 * Every level of the tree over `leaves`, from the leaves up to the root, built the way
 * `merkleRootFromLeafHashes` builds it (a lone last node is promoted unchanged). Lets a
 * server answer many inclusion proofs for one block with O(log n) work each.
 */
export function merkleLevels(leaves: readonly Uint8Array[]): Uint8Array[][] {
  const levels: Uint8Array[][] = [leaves.slice()];
  let level = levels[0] as Uint8Array[];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
    levels.push(next);
    level = next;
  }
  return levels;
}

/**
 * The inclusion proof of `inclusionProof` for leaf `index`, read off precomputed levels:
 * at each level the sibling, if the node has one (a promoted lone node has none).
 */
export function inclusionProofFromLevels(levels: readonly (readonly Uint8Array[])[], index: number): Uint8Array[] {
  const size = levels[0]?.length ?? 0;
  if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError('leaf index out of range');
  const proof: Uint8Array[] = [];
  let i = index;
  for (const level of levels.slice(0, -1)) {
    const sibling = i % 2 === 1 ? i - 1 : i + 1;
    if (sibling < level.length) proof.push(level[sibling] as Uint8Array);
    i = Math.floor(i / 2);
  }
  return proof;
}

/**
 * Verify an inclusion proof (RFC 9162 §2.1.3.2). Returns false, never throws, for any
 * malformed or non-matching input.
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  if (leaf.length !== 32 || root.length !== 32 || proof.some((p) => p.length !== 32)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(r, root);
}

/** SUBPROOF(m, D[n], b) over leaf hashes (RFC 9162 §2.1.4.1). */
function subproof(m: number, hashes: readonly Uint8Array[], from: number, to: number, complete: boolean): Uint8Array[] {
  const n = to - from;
  if (m === n) return complete ? [] : [subtreeRoot(hashes, from, to)];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(m, hashes, from, from + k, complete), subtreeRoot(hashes, from + k, to)];
  return [...subproof(m - k, hashes, from + k, to, false), subtreeRoot(hashes, from, from + k)];
}

/**
 * Consistency proof between the first `m` leaves and all of `leafData` (RFC 9162
 * §2.1.4.1). Throws RangeError unless 1 ≤ m ≤ n.
 */
export function consistencyProof(leafData: readonly Uint8Array[], m: number): Uint8Array[] {
  const n = leafData.length;
  if (!Number.isInteger(m) || m < 1 || m > n) throw new RangeError('first tree size out of range');
  return subproof(m, leafData.map(leafHash), 0, n, true);
}

/**
 * Verify that the tree of size `first` with root `firstRoot` is a prefix of the tree of
 * size `second` with root `secondRoot` (RFC 9162 §2.1.4.2). Returns false, never throws.
 */
export function verifyConsistency(
  first: number,
  second: number,
  proof: readonly Uint8Array[],
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second) return false;
  if (firstRoot.length !== 32 || secondRoot.length !== 32 || proof.some((p) => p.length !== 32)) return false;
  if (first === second) return proof.length === 0 && bytesEqual(firstRoot, secondRoot);
  if (proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Uint8Array;
  let sr = path[0] as Uint8Array;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(fr, firstRoot) && bytesEqual(sr, secondRoot);
}

/** Merkle root (hex) over a block's transactions' signed canonical bytes (DESIGN §5). */
export function txRoot(txs: readonly SignedTx[]): string {
  return toHex(merkleRoot(txs.map(txBytes)));
}

/** Inclusion proof (hex nodes) for the transaction at `index` of a block. */
export function txInclusionProof(txs: readonly SignedTx[], index: number): string[] {
  return inclusionProof(txs.map(txBytes), index).map(toHex);
}

/** Verify a transaction's hex inclusion proof against a block's hex tx root. */
export function verifyTxInclusion(tx: SignedTx, index: number, treeSize: number, proofHex: readonly string[], rootHex: string): boolean {
  try {
    return verifyInclusion(
      leafHash(txBytes(tx)),
      index,
      treeSize,
      proofHex.map((p) => fromHex(p)),
      fromHex(rootHex),
    );
  } catch {
    return false;
  }
}
