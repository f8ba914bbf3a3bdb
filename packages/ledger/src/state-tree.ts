// The compact sparse Merkle tree over application state (docs/state.md): batch updates that
// return the new root and the node writes without touching the store (the block's overlay),
// and proofs for the pure check in state-proof.ts. Nodes are content-addressed: a node is
// stored as its 65-byte hash preimage under its hex SHA-256. Hashing rules are those of
// state-proof.ts (the verifier); this side hashes and hex-encodes with node:crypto and Buffer for speed (in a browser
// bundle `@medledger/crypto` is its noble twin), and state-tree.test.ts checks both agree.
import { bytesEqual, fromHex, sha256, toHex, utf8 } from '@medledger/crypto';
import { EMPTY_STATE_ROOT, keyBit, STATE_TREE_DEPTH, type StateProof } from './state-proof.js';

const stateKeyHash = (key: string) => sha256(utf8(key));
const stateValueHash = (value: string) => sha256(utf8(value));

function encodeNode(tag: 0 | 1, a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(65);
  out[0] = tag;
  out.set(a, 1);
  out.set(b, 33);
  return out;
}
const encodeStateLeaf = (keyHash: Uint8Array, valueHash: Uint8Array) => encodeNode(0, keyHash, valueHash);
const encodeStateInner = (left: Uint8Array, right: Uint8Array) => encodeNode(1, left, right);

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

/** A node's hash, as bytes (for hashing parents) and hex (for the store). */
interface Hash {
  hex: string;
  bytes: Uint8Array;
}

type Node =
  | { kind: 'empty' }
  | { kind: 'leaf'; hash: Hash; keyHash: Uint8Array; valueHash: Uint8Array }
  | { kind: 'inner'; hash: Hash; left: Hash; right: Hash }
  /** An unchanged, non-empty subtree not yet read: its kind matters only beside an empty one. */
  | { kind: 'ref'; hash: Hash };
type LoadedNode = Exclude<Node, { kind: 'ref' }>;

interface Change {
  keyHash: Uint8Array;
  valueHash: Uint8Array | null;
}

const EMPTY_NODE = { kind: 'empty' } as const;
const EMPTY_BYTES = new Uint8Array(32);
/**
 * Lowercase hex of a hash. An update converts every hash it touches, so this is hot: the
 * node build's Buffer encoder (`@medledger/crypto`; the browser twin has its own) made a
 * block's tree update about a third cheaper than a JS lookup table, whose 32-piece string
 * had to be flattened again for every Map lookup (docs/state.md).
 */
const hex = toHex;

function hashOf(bytes: Uint8Array): Hash {
  return { hex: hex(bytes), bytes };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

function decodeNode(hash: Hash, bytes: Uint8Array | undefined): LoadedNode {
  if (bytes === undefined || bytes.length !== 65) throw new StateTreeError(`state tree node ${hash.hex} is missing`);
  const a = bytes.subarray(1, 33);
  const b = bytes.subarray(33, 65);
  if (bytes[0] === 0) return { kind: 'leaf', hash, keyHash: a, valueHash: b };
  if (bytes[0] === 1) return { kind: 'inner', hash, left: hashOf(a), right: hashOf(b) };
  throw new StateTreeError(`state tree node ${hash.hex} has an unknown tag`);
}

function loadNode(reader: StateTreeReader, hash: Hash): LoadedNode {
  if (hash.hex === EMPTY_STATE_ROOT) return EMPTY_NODE;
  return decodeNode(hash, reader.getTreeNode(hash.hex));
}

/** One batch update; collects created and replaced nodes. */
class Updater {
  readonly created = new Map<string, Uint8Array>();
  readonly replaced = new Set<string>();
  constructor(private readonly reader: StateTreeReader) {}

  load(hash: Hash): LoadedNode {
    const made = this.created.get(hash.hex);
    return made !== undefined ? decodeNode(hash, made) : loadNode(this.reader, hash);
  }

  private store(bytes: Uint8Array): Hash {
    const hash = hashOf(sha256(bytes));
    this.created.set(hash.hex, bytes);
    return hash;
  }

  leaf(keyHash: Uint8Array, valueHash: Uint8Array): Node {
    return { kind: 'leaf', hash: this.store(encodeStateLeaf(keyHash, valueHash)), keyHash, valueHash };
  }

  /** Join two subtrees; one leaf beside an empty subtree is the subtree itself (compaction). */
  join(left: Node, right: Node): Node {
    if (left.kind === 'empty' && right.kind === 'ref') return this.join(left, this.load(right.hash));
    if (right.kind === 'empty' && left.kind === 'ref') return this.join(this.load(left.hash), right);
    if (left.kind === 'empty' && right.kind !== 'inner') return right;
    if (right.kind === 'empty' && left.kind !== 'inner') return left;
    const l = left.kind === 'empty' ? EMPTY_HASH : left.hash;
    const r = right.kind === 'empty' ? EMPTY_HASH : right.hash;
    return { kind: 'inner', hash: this.store(encodeStateInner(l.bytes, r.bytes)), left: l, right: r };
  }

  /** A subtree at `depth` holding exactly `leaves` (sorted by key hash, values non-null). */
  build(depth: number, leaves: Change[]): Node {
    if (leaves.length === 0) return EMPTY_NODE;
    if (leaves.length === 1) {
      const only = leaves[0] as Change;
      return this.leaf(only.keyHash, only.valueHash as Uint8Array);
    }
    if (depth >= STATE_TREE_DEPTH) throw new StateTreeError('two keys hash to the same path');
    const split = splitAt(leaves, depth);
    return this.join(this.build(depth + 1, leaves.slice(0, split)), this.build(depth + 1, leaves.slice(split)));
  }

  /** Apply `changes` (sorted, unique key hashes, all on this node's path) to `node` at `depth`. */
  update(node: Node, depth: number, changes: Change[]): Node {
    if (changes.length === 0) return node;
    if (node.kind === 'ref') return this.update(this.load(node.hash), depth, changes);
    if (node.kind === 'empty')
      return this.build(
        depth,
        changes.filter((c) => c.valueHash !== null),
      );
    this.replaced.add(node.hash.hex);
    if (node.kind === 'leaf') {
      const touched = changes.some((c) => bytesEqual(c.keyHash, node.keyHash));
      const merged = touched ? changes : insertSorted(changes, { keyHash: node.keyHash, valueHash: node.valueHash });
      return this.build(
        depth,
        merged.filter((c) => c.valueHash !== null),
      );
    }
    const split = splitAt(changes, depth);
    const left = split === 0 ? unchanged(node.left) : this.update(this.load(node.left), depth + 1, changes.slice(0, split));
    const right = split === changes.length ? unchanged(node.right) : this.update(this.load(node.right), depth + 1, changes.slice(split));
    return this.join(left, right);
  }
}

const EMPTY_HASH: Hash = { hex: EMPTY_STATE_ROOT, bytes: EMPTY_BYTES };

function unchanged(hash: Hash): Node {
  return hash.hex === EMPTY_STATE_ROOT ? EMPTY_NODE : { kind: 'ref', hash };
}

/** Index of the first change whose bit `depth` is 1 (changes are sorted by key hash). */
function splitAt(changes: readonly Change[], depth: number): number {
  let i = 0;
  while (i < changes.length && keyBit((changes[i] as Change).keyHash, depth) === 0) i++;
  return i;
}

function insertSorted(changes: Change[], extra: Change): Change[] {
  const i = changes.findIndex((c) => compareBytes(c.keyHash, extra.keyHash) > 0);
  return i < 0 ? [...changes, extra] : [...changes.slice(0, i), extra, ...changes.slice(i)];
}

/**
 * Apply state writes (`value: null` deletes) to the tree with root `root`, reading nodes
 * through `reader`, without writing anything. Deterministic: the result depends only on
 * the old tree and the set of final (key, value) pairs; a later write to the same key wins.
 * Throws StateTreeError when a node is missing.
 */
export function updateStateTree(
  reader: StateTreeReader,
  root: string,
  writes: ReadonlyArray<{ key: string; value: string | null }>,
): StateTreeUpdate {
  const byKey = new Map<string, Change>();
  for (const w of writes) byKey.set(w.key, { keyHash: stateKeyHash(w.key), valueHash: w.value === null ? null : stateValueHash(w.value) });
  const changes = [...byKey.values()].sort((a, b) => compareBytes(a.keyHash, b.keyHash));
  const updater = new Updater(reader);
  const next = updater.update(updater.load({ hex: root, bytes: fromHex(root, 'state root', 32) }), 0, changes);
  // Every created node is reachable from the new root: each is returned to its parent,
  // which either hashes it into a new inner node or passes it up. Replaced nodes that the
  // new tree holds again (same content, e.g. a value set to what it was) are not removed.
  // Not sorted: the order of node writes changes nothing stored (sorting cost 10% of a block).
  const put: TreeNodeWrite[] = [...updater.created].map(([hash, bytes]) => ({ hash, bytes }));
  const remove = [...updater.replaced].filter((h) => !updater.created.has(h));
  return { root: next.kind === 'empty' ? EMPTY_STATE_ROOT : next.hash.hex, put, remove };
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
  const keyHash = stateKeyHash(key);
  const siblings: string[] = [];
  let node = loadNode(reader, { hex: root, bytes: fromHex(root, 'state root', 32) });
  for (let depth = 0; ; depth++) {
    if (node.kind === 'empty') return { valueHash: null, proof: { siblings, leaf: null } };
    if (node.kind === 'leaf') {
      if (bytesEqual(node.keyHash, keyHash)) return { valueHash: hex(node.valueHash), proof: { siblings, leaf: null } };
      return { valueHash: null, proof: { siblings, leaf: { keyHash: hex(node.keyHash), valueHash: hex(node.valueHash) } } };
    }
    if (depth >= STATE_TREE_DEPTH) throw new StateTreeError('state tree is deeper than 256 levels');
    const bit = keyBit(keyHash, depth);
    siblings.push(bit === 0 ? node.right.hex : node.left.hex);
    node = loadNode(reader, bit === 0 ? node.left : node.right);
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
