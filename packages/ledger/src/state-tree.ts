// The compact sparse Merkle tree over application state (docs/state.md): batch updates that
// return the new root and the node writes without touching the store (the block's overlay),
// and proofs for the pure check in state-proof.ts. Nodes are content-addressed: a node is
// stored as its 65-byte hash preimage under its hex SHA-256.
import { bytesEqual, fromHex, sha256, toHex } from '@medledger/crypto/browser';
import {
  EMPTY_STATE_ROOT,
  encodeStateInner,
  encodeStateLeaf,
  keyBit,
  STATE_TREE_DEPTH,
  type StateProof,
  stateKeyHash,
  stateValueHash,
} from './state-proof.js';

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

type Node =
  | { kind: 'empty' }
  | { kind: 'leaf'; hash: string; keyHash: Uint8Array; valueHash: Uint8Array }
  | { kind: 'inner'; hash: string; left: string; right: string }
  /** An unchanged, non-empty subtree not yet read: its kind matters only beside an empty one. */
  | { kind: 'ref'; hash: string };

interface Change {
  keyHash: Uint8Array;
  valueHash: Uint8Array | null;
}

const EMPTY_NODE = { kind: 'empty' } as const;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

function loadNode(reader: StateTreeReader, hash: string): Exclude<Node, { kind: 'ref' }> {
  if (hash === EMPTY_STATE_ROOT) return EMPTY_NODE;
  const bytes = reader.getTreeNode(hash);
  if (bytes === undefined || bytes.length !== 65) throw new StateTreeError(`state tree node ${hash} is missing`);
  const a = bytes.subarray(1, 33);
  const b = bytes.subarray(33, 65);
  if (bytes[0] === 0) return { kind: 'leaf', hash, keyHash: a, valueHash: b };
  if (bytes[0] === 1) return { kind: 'inner', hash, left: toHex(a), right: toHex(b) };
  throw new StateTreeError(`state tree node ${hash} has an unknown tag`);
}

/** One batch update; collects created and replaced nodes. */
class Updater {
  readonly created = new Map<string, Uint8Array>();
  readonly replaced = new Set<string>();
  constructor(private readonly reader: StateTreeReader) {}

  load(hash: string): Exclude<Node, { kind: 'ref' }> {
    const made = this.created.get(hash);
    if (made !== undefined) return loadNode({ getTreeNode: () => made }, hash);
    return loadNode(this.reader, hash);
  }

  private store(bytes: Uint8Array): string {
    const hash = toHex(sha256(bytes));
    this.created.set(hash, bytes);
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
    const l = left.kind === 'empty' ? EMPTY_STATE_ROOT : left.hash;
    const r = right.kind === 'empty' ? EMPTY_STATE_ROOT : right.hash;
    return { kind: 'inner', hash: this.store(encodeStateInner(fromHex(l), fromHex(r))), left: l, right: r };
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
    this.replaced.add(node.hash);
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

function unchanged(hash: string): Node {
  return hash === EMPTY_STATE_ROOT ? EMPTY_NODE : { kind: 'ref', hash };
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
  for (const w of writes) {
    const keyHash = stateKeyHash(w.key);
    byKey.set(toHex(keyHash), { keyHash, valueHash: w.value === null ? null : stateValueHash(w.value) });
  }
  const changes = [...byKey.values()].sort((a, b) => compareBytes(a.keyHash, b.keyHash));
  const updater = new Updater(reader);
  const next = updater.update(updater.load(root), 0, changes);
  const newRoot = next.kind === 'empty' ? EMPTY_STATE_ROOT : next.hash;
  // Keep only created nodes the new tree reaches; intermediate ones (collapsed by a delete)
  // would be garbage. Replaced nodes that the new tree still holds (same content) stay.
  const put: TreeNodeWrite[] = [];
  const reached = new Set<string>();
  const walk = (hash: string): void => {
    const bytes = updater.created.get(hash);
    if (bytes === undefined || reached.has(hash)) return;
    reached.add(hash);
    put.push({ hash, bytes });
    if (bytes[0] === 1) {
      walk(toHex(bytes.subarray(1, 33)));
      walk(toHex(bytes.subarray(33, 65)));
    }
  };
  walk(newRoot);
  const remove = [...updater.replaced].filter((h) => !reached.has(h)).sort();
  put.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  return { root: newRoot, put, remove };
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
  let node = loadNode(reader, root);
  for (let depth = 0; ; depth++) {
    if (node.kind === 'empty') return { valueHash: null, proof: { siblings, leaf: null } };
    if (node.kind === 'leaf') {
      if (bytesEqual(node.keyHash, keyHash)) return { valueHash: toHex(node.valueHash), proof: { siblings, leaf: null } };
      return { valueHash: null, proof: { siblings, leaf: { keyHash: toHex(node.keyHash), valueHash: toHex(node.valueHash) } } };
    }
    if (depth >= STATE_TREE_DEPTH) throw new StateTreeError('state tree is deeper than 256 levels');
    const bit = keyBit(keyHash, depth);
    siblings.push(bit === 0 ? node.right : node.left);
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
