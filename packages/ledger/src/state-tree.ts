// The compact sparse Merkle tree over application state (docs/state.md): batch updates that
// return the new root and the node writes without touching the store (the block's overlay),
// and proofs for the pure check in state-proof.ts. Nodes are content-addressed: a node is
// stored as its 65-byte hash preimage under its hex SHA-256. Hashing rules are those of
// state-proof.ts (the verifier); this side hashes with node:crypto for speed (in a browser
// bundle `@medledger/crypto` is its noble twin), and state-tree.test.ts checks both agree.
import { bytesEqual, fromHex, hexAt, sha256, sha256Hex, sha256HexOfText, utf8, writeHexAt } from '@medledger/crypto';
import { EMPTY_STATE_ROOT, keyBit, STATE_TREE_DEPTH, type StateProof } from './state-proof.js';

/** Where the committed tree's nodes are read from (a store, or a map in tests). */
export interface StateTreeReader {
  /** The 65-byte preimage stored under the node's hex hash, or undefined. */
  getTreeNode(hash: string): Uint8Array | undefined;
}

/** One stored tree node. */
export interface TreeNodeWrite {
  hash: string;
  bytes: Uint8Array;
}

/**
 * A tree change: the new root, the nodes to add, and the nodes of the old tree no longer
 * reachable from the new root (to delete, so the store keeps one version of the tree).
 */
export interface StateTreeUpdate {
  root: string;
  put: TreeNodeWrite[];
  remove: string[];
}

/** Thrown when a node the root refers to is missing or not a tree node: the store is damaged. */
export class StateTreeError extends Error {
  readonly code = 'TREE_CORRUPT';
  constructor(message: string) {
    super(message);
    this.name = 'StateTreeError';
  }
}

const NODE_BYTES = 65;
const HASH_BYTES = 32;
const LEAF = 0;
const INNER = 1;
/** A subtree of the old tree passed on unread: leaf or inner matters only beside an empty one. */
const UNREAD = 2;

/**
 * A non-empty subtree during an update (an empty one is `null`). Its hash is `hex`, or, for
 * an old subtree not read yet, the 32 bytes at `at` in its parent's stored node `in`, so that
 * the parent's new encoding copies them without a hex round trip.
 */
interface Subtree {
  kind: typeof LEAF | typeof INNER | typeof UNREAD;
  hex: string | undefined;
  in: Uint8Array | undefined;
  at: number;
  /** Its stored bytes, once read. */
  bytes: Uint8Array | undefined;
}

/** A node read from the store: its hash and its 65 bytes. */
interface StoredNode {
  hex: string;
  bytes: Uint8Array;
}

/**
 * New nodes are written into shared chunks of this many nodes: a view is far cheaper than a
 * 65-byte array of its own. Small enough that a node kept alone keeps little else alive
 * (holders that keep nodes long copy them: the stores, and tree-cache.ts past a generation).
 */
const CHUNK_NODES = 1024;

function isZeroHash(bytes: Uint8Array, at: number): boolean {
  for (let i = at; i < at + HASH_BYTES; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** The read node under `hex`, checked to be a tree node. */
function readNode(reader: StateTreeReader, hex: string): Uint8Array {
  const bytes = reader.getTreeNode(hex);
  if (bytes === undefined || bytes.length !== NODE_BYTES) throw new StateTreeError(`state tree node ${hex} is missing`);
  if (bytes[0] !== LEAF && bytes[0] !== INNER) throw new StateTreeError(`state tree node ${hex} has an unknown tag`);
  return bytes;
}

/**
 * A batch's changes, sorted by key hash, in flat arrays rather than one object per change:
 * key and value hashes 32 bytes apart, and `setBefore[i]` = how many of the first i changes
 * set a value (the rest delete), so a range's count of surviving keys is one subtraction.
 */
class SortedChanges {
  readonly size: number;
  readonly keyHashes: Uint8Array;
  readonly valueHashes: Uint8Array;
  readonly setBefore: Int32Array;

  /** The last write to each key wins. */
  /** The last write to each key wins. */
  constructor(writes: ReadonlyArray<{ key: string; value: string | null }>) {
    const total = writes.length;
    if (total > INDEX_SPAN) throw new RangeError(`a state tree batch holds at most ${INDEX_SPAN} writes`);
    const keyHex: string[] = new Array(total);
    for (let j = 0; j < total; j++) keyHex[j] = sha256HexOfText((writes[j] as { key: string }).key);
    // Sort by key hash with a plain numeric sort: each entry is the hash's first three bytes
    // above the write's index, then the rare runs that share three bytes by the whole hash,
    // stably, so writes to one key end up together in write order (no map of keys needed).
    const order = new Float64Array(total);
    for (let j = 0; j < total; j++) order[j] = hexPrefix(keyHex[j] as string) * INDEX_SPAN + j;
    order.sort();
    for (let start = 0, end = 1; end <= total; end++) {
      if (end < total && samePrefix(order, start, end)) continue;
      if (end - start > 1) sortRunByHash(order, start, end, keyHex);
      start = end;
    }
    this.keyHashes = new Uint8Array(total * HASH_BYTES);
    this.valueHashes = new Uint8Array(total * HASH_BYTES);
    this.setBefore = new Int32Array(total + 1);
    let n = 0;
    for (let j = 0; j < total; j++) {
      const from = (order[j] as number) % INDEX_SPAN;
      const next = j + 1 < total ? (order[j + 1] as number) % INDEX_SPAN : -1;
      if (next >= 0 && samePrefix(order, j, j + 1) && keyHex[next] === keyHex[from]) continue; // a later write to this key
      const value = (writes[from] as { value: string | null }).value;
      writeHexAt(keyHex[from] as string, this.keyHashes, n * HASH_BYTES);
      if (value !== null) writeHexAt(sha256HexOfText(value), this.valueHashes, n * HASH_BYTES);
      (this.setBefore[n + 1] as number) = (this.setBefore[n] as number) + (value === null ? 0 : 1);
      n++;
    }
    this.size = n;
  }

  /** Bit `depth` of change i's key hash (most significant bit of byte 0 first, as keyBit). */
  bit(i: number, depth: number): number {
    return ((this.keyHashes[i * HASH_BYTES + (depth >> 3)] as number) >> (7 - (depth & 7))) & 1;
  }

  /** First index in [lo, hi) whose bit `depth` is 1; all changes there share the bits above `depth`. */
  splitAt(lo: number, hi: number, depth: number): number {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bit(mid, depth) === 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The change in [lo, hi) to the key hash at `bytes[at, at + 32)`, or -1. */
  find(lo: number, hi: number, bytes: Uint8Array, at: number): number {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareHashesAcross(this.keyHashes, mid * HASH_BYTES, bytes, at);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  /** Whether change i sets its key to the value hash at `bytes[at, at + 32)`. */
  sets(i: number, bytes: Uint8Array, at: number): boolean {
    return this.setCount(i, i + 1) === 1 && compareHashesAcross(this.valueHashes, i * HASH_BYTES, bytes, at) === 0;
  }

  /** How many changes in [lo, hi) set a value. */
  setCount(lo: number, hi: number): number {
    return (this.setBefore[hi] as number) - (this.setBefore[lo] as number);
  }

  /** The one change in [lo, hi) that sets a value, when setCount(lo, hi) is 1. */
  onlySet(lo: number, hi: number): number {
    const target = (this.setBefore[lo] as number) + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.setBefore[mid + 1] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Sort keys carry the write's index below the hash prefix: 2^29 indexes and 24 bits of prefix fit a double exactly. */
const INDEX_SPAN = 2 ** 29;

function samePrefix(order: Float64Array, a: number, b: number): boolean {
  return Math.floor((order[a] as number) / INDEX_SPAN) === Math.floor((order[b] as number) / INDEX_SPAN);
}

/** The first three bytes of a lowercase hex hash, as a number. */
function hexPrefix(hex: string): number {
  return Number.parseInt(hex.slice(0, 6), 16);
}

/**
 * Sort order[start, end) (sort keys with one prefix) by the whole key hash, then by write
 * order; lowercase hex sorts as its bytes. A comparison sort, not insertion: keys ground to
 * share a prefix must not make a block quadratic.
 */
function sortRunByHash(order: Float64Array, start: number, end: number, keyHex: readonly string[]): void {
  order.subarray(start, end).sort((a, b) => {
    const x = keyHex[a % INDEX_SPAN] as string;
    const y = keyHex[b % INDEX_SPAN] as string;
    return x < y ? -1 : x > y ? 1 : a - b;
  });
}

function compareHashesAcross(x: Uint8Array, a: number, y: Uint8Array, b: number): number {
  for (let i = 0; i < HASH_BYTES; i++) {
    const d = (x[a + i] as number) - (y[b + i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * One batch update. Walks the old tree along the changed paths only (index ranges into the
 * sorted changes, no copies), and writes each new node once into a shared chunk, hashing it
 * straight to hex: the hex is what the store and the output want, and the parent decodes it
 * into its own encoding. Collects the new nodes and the old ones the new tree no longer holds.
 *
 * A node's hash fixes its keys and its depth, hence its place (an inner node with one empty
 * side wraps a deeper one, so its hash records how deep it sits), and a leaf is its key's
 * only leaf. So no node is made twice, and an old node is made again only in its own place,
 * or, for a leaf, as its own key's leaf: whether it stays is decided where it is replaced,
 * with no set of hashes to look up (the differential test holds this to the old code's sets).
 */
class Updater {
  readonly put: TreeNodeWrite[] = [];
  /** Old nodes the new tree no longer holds. */
  readonly removed: string[] = [];
  private chunk = new Uint8Array(0);
  private used = 0;

  constructor(
    private readonly reader: StateTreeReader,
    private readonly changes: SortedChanges,
  ) {}

  /** Read an unread old subtree: fixes its hex and kind, returns its bytes. */
  read(sub: Subtree): Uint8Array {
    if (sub.bytes !== undefined) return sub.bytes;
    if (sub.hex === undefined) sub.hex = hexAt(sub.in as Uint8Array, sub.at, HASH_BYTES);
    const bytes = readNode(this.reader, sub.hex);
    sub.kind = bytes[0] === LEAF ? LEAF : INNER;
    sub.bytes = bytes;
    return bytes;
  }

  /** The old child at `at` (1 left, 33 right) of a stored inner node, unread; null when empty. */
  private child(bytes: Uint8Array, at: number): Subtree | null {
    return isZeroHash(bytes, at) ? null : { kind: UNREAD, hex: undefined, in: bytes, at, bytes: undefined };
  }

  /** Room for one new node; returns its offset in `this.chunk`. */
  private allocate(): number {
    if (this.used + NODE_BYTES > this.chunk.length) {
      this.chunk = new Uint8Array(CHUNK_NODES * NODE_BYTES);
      this.used = 0;
    }
    const at = this.used;
    this.used += NODE_BYTES;
    return at;
  }

  /** Record the node just encoded at `at`; `hex` is its hash when known (an old leaf again). */
  private emit(at: number, kind: typeof LEAF | typeof INNER, hex?: string): Subtree {
    const bytes = new Uint8Array(this.chunk.buffer, this.chunk.byteOffset + at, NODE_BYTES);
    const hash = hex ?? sha256Hex(bytes);
    this.put.push({ hash, bytes });
    return { kind, hex: hash, in: undefined, at: 0, bytes: undefined };
  }

  /** Write a subtree's hash into the new node at `to`. */
  private writeHash(sub: Subtree | null, to: number): void {
    if (sub === null) return; // a fresh chunk is zeros: the empty hash
    if (sub.in !== undefined) this.chunk.set(sub.in.subarray(sub.at, sub.at + HASH_BYTES), to);
    else writeHexAt(sub.hex as string, this.chunk, to);
  }

  /** The leaf of change i. */
  private leaf(i: number): Subtree {
    const at = this.allocate();
    const { keyHashes, valueHashes } = this.changes;
    this.chunk[at] = LEAF;
    this.chunk.set(keyHashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), at + 1);
    this.chunk.set(valueHashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), at + 1 + HASH_BYTES);
    return this.emit(at, LEAF);
  }

  /** An untouched old leaf, written again where the tree now holds it (same bytes, same hash). */
  private oldLeaf(old: StoredNode): Subtree {
    const at = this.allocate();
    this.chunk.set(old.bytes, at);
    return this.emit(at, LEAF, old.hex);
  }

  /** Join two subtrees; one leaf beside an empty subtree is the subtree itself (compaction). */
  join(left: Subtree | null, right: Subtree | null): Subtree | null {
    if (left === null || right === null) {
      const only = left ?? right;
      if (only === null) return null;
      if (only.kind === UNREAD) this.read(only);
      if (only.kind === LEAF) return only;
    }
    const at = this.allocate();
    this.chunk[at] = INNER;
    this.writeHash(left, at + 1);
    this.writeHash(right, at + 1 + HASH_BYTES);
    return this.emit(at, INNER);
  }

  /** A subtree at `depth` holding exactly the set values of [lo, hi), plus `extra` (an old leaf) if given. */
  build(depth: number, lo: number, hi: number, extra: StoredNode | null): Subtree | null {
    const count = this.changes.setCount(lo, hi) + (extra === null ? 0 : 1);
    if (count === 0) return null;
    if (count === 1) return extra === null ? this.leaf(this.changes.onlySet(lo, hi)) : this.oldLeaf(extra);
    if (depth >= STATE_TREE_DEPTH) throw new StateTreeError('two keys hash to the same path');
    const split = this.changes.splitAt(lo, hi, depth);
    const extraRight = extra !== null && (((extra.bytes[1 + (depth >> 3)] as number) >> (7 - (depth & 7))) & 1) === 1;
    return this.join(
      this.build(depth + 1, lo, split, extraRight ? null : extra),
      this.build(depth + 1, split, hi, extraRight ? extra : null),
    );
  }

  /** Apply the changes [lo, hi) (all on this subtree's path) to `node` at `depth`. */
  update(node: Subtree | null, depth: number, lo: number, hi: number): Subtree | null {
    if (lo === hi) return node;
    if (node === null) return this.build(depth, lo, hi, null);
    const bytes = this.read(node);
    const hex = node.hex as string;
    if (node.kind === LEAF) {
      const i = this.changes.find(lo, hi, bytes, 1);
      // Untouched, the leaf is written again deeper or in place; set to its own value, it is made again.
      if (i >= 0 && !this.changes.sets(i, bytes, 1 + HASH_BYTES)) this.removed.push(hex);
      return this.build(depth, lo, hi, i >= 0 ? null : { hex, bytes });
    }
    if (depth >= STATE_TREE_DEPTH) throw new StateTreeError('state tree is deeper than 256 levels');
    const split = this.changes.splitAt(lo, hi, depth);
    const left = this.child(bytes, 1);
    const right = this.child(bytes, 1 + HASH_BYTES);
    const next = this.join(this.update(left, depth + 1, lo, split), this.update(right, depth + 1, split, hi));
    if (next === null || next.hex !== hex) this.removed.push(hex);
    return next;
  }
}

/**
 * Apply state writes (`value: null` deletes) to the tree with root `root`, reading nodes
 * through `reader`, without writing anything. Deterministic: the result depends only on
 * the old tree and the set of final (key, value) pairs; a later write to the same key wins.
 * Throws StateTreeError when a node is missing, TypeError when `root` is not 32-byte hex.
 */
export function updateStateTree(
  reader: StateTreeReader,
  root: string,
  writes: ReadonlyArray<{ key: string; value: string | null }>,
): StateTreeUpdate {
  fromHex(root, 'state root', 32);
  const changes = new SortedChanges(writes);
  const updater = new Updater(reader, changes);
  let start: Subtree | null = null;
  if (root !== EMPTY_STATE_ROOT) {
    start = { kind: UNREAD, hex: root, in: undefined, at: 0, bytes: undefined };
    updater.read(start); // a damaged store is refused even by an empty batch
  }
  const next = updater.update(start, 0, 0, changes.size);
  // Every new node is reachable from the new root: each is returned to its parent, which
  // either hashes it into a new inner node or passes it up. Replaced nodes that the new tree
  // holds again (same content, e.g. a value set to what it was) are not removed.
  // Not sorted: the order of node writes changes nothing stored (sorting cost 10% of a block).
  const rootHex = next === null ? EMPTY_STATE_ROOT : (next.hex ?? hexAt(next.in as Uint8Array, next.at, HASH_BYTES));
  return { root: rootHex, put: updater.put, remove: updater.removed };
}

/** What the tree says of a key: its value hash (hex), or null when absent, and the proof. */
export interface StateTreeLookup {
  valueHash: string | null;
  proof: StateProof;
}

/**
 * Walk the path of `key` from `root` and build its proof (state-proof.ts verifies it).
 * Throws StateTreeError when a node is missing.
 */
export function proveStateKey(reader: StateTreeReader, root: string, key: string): StateTreeLookup {
  fromHex(root, 'state root', 32);
  const keyHash = sha256(utf8(key));
  const siblings: string[] = [];
  let hex = root;
  for (let depth = 0; ; depth++) {
    if (hex === EMPTY_STATE_ROOT) return { valueHash: null, proof: { siblings, leaf: null } };
    const bytes = readNode(reader, hex);
    if (bytes[0] === LEAF) {
      const valueHash = hexAt(bytes, 1 + HASH_BYTES, HASH_BYTES);
      if (bytesEqual(bytes.subarray(1, 1 + HASH_BYTES), keyHash)) return { valueHash, proof: { siblings, leaf: null } };
      return { valueHash: null, proof: { siblings, leaf: { keyHash: hexAt(bytes, 1, HASH_BYTES), valueHash } } };
    }
    if (depth >= STATE_TREE_DEPTH) throw new StateTreeError('state tree is deeper than 256 levels');
    const bit = keyBit(keyHash, depth);
    siblings.push(hexAt(bytes, bit === 0 ? 1 + HASH_BYTES : 1, HASH_BYTES));
    hex = hexAt(bytes, bit === 0 ? 1 : 1 + HASH_BYTES, HASH_BYTES);
  }
}

/** Tree nodes in a Map: the in-memory store for tests and for genesis before block 1. */
export class MemoryStateTree implements StateTreeReader {
  readonly nodes = new Map<string, Uint8Array>();
  root = EMPTY_STATE_ROOT;

  getTreeNode(hash: string): Uint8Array | undefined {
    return this.nodes.get(hash);
  }

  /** Apply an update computed against this tree's current root. */
  apply(update: StateTreeUpdate): void {
    for (const hash of update.remove) this.nodes.delete(hash);
    for (const n of update.put) this.nodes.set(n.hash, n.bytes);
    this.root = update.root;
  }
}
