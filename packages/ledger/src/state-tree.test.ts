// The state tree against a naive model: roots equal a from-scratch recomputation, proofs of
// present and absent keys verify, tampered proofs, values and roots fail, and the store
// keeps exactly the nodes the current root reaches.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { canonicalBytes } from './canonical.js';
import { merkleRoot } from './merkle.js';
import {
  appHashOf,
  EMPTY_STATE_ROOT,
  resultsRootOf,
  StateProofError,
  stateKeyHash,
  stateValueHash,
  verifyStateProof,
} from './state-proof.js';
import { MemoryStateTree, proveStateKey, updateStateTree } from './state-tree.js';

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bit = (kh: Uint8Array, d: number) => ((kh[d >> 3] as number) >> (7 - (d & 7))) & 1;

/** The definition, written independently: empty = zeros, one leaf = the leaf, else inner. */
function naiveRoot(state: Map<string, string>): string {
  const leaves = [...state].map(([k, v]) => ({ kh: sha(Buffer.from(k, 'utf8')), vh: sha(Buffer.from(v, 'utf8')) }));
  const rec = (set: typeof leaves, depth: number): Uint8Array => {
    if (set.length === 0) return new Uint8Array(32);
    if (set.length === 1) return sha(new Uint8Array([0]), (set[0] as (typeof leaves)[0]).kh, (set[0] as (typeof leaves)[0]).vh);
    const l = set.filter((x) => bit(x.kh, depth) === 0);
    const r = set.filter((x) => bit(x.kh, depth) === 1);
    return sha(new Uint8Array([1]), rec(l, depth + 1), rec(r, depth + 1));
  };
  return hex(rec(leaves, 0));
}

/** Every node reachable from the tree's root, by hash. */
function reachable(tree: MemoryStateTree): Set<string> {
  const out = new Set<string>();
  const walk = (h: string) => {
    if (h === EMPTY_STATE_ROOT || out.has(h)) return;
    const bytes = tree.nodes.get(h);
    assert.ok(bytes !== undefined, `node ${h} is reachable but not stored`);
    assert.equal(hex(sha(bytes)), h, 'a node is stored under its hash');
    out.add(h);
    if (bytes[0] === 1) {
      walk(hex(bytes.subarray(1, 33)));
      walk(hex(bytes.subarray(33, 65)));
    }
  };
  walk(tree.root);
  return out;
}

const keyArb = fc.constantFrom(...Array.from({ length: 40 }, (_, i) => `k/${i}`));
const writeArb = fc.record({ key: keyArb, value: fc.option(fc.string({ maxLength: 8 }), { nil: null, freq: 3 }) });
const blocksArb = fc.array(fc.array(writeArb, { maxLength: 12 }), { minLength: 1, maxLength: 8 });

describe('state tree', () => {
  test('the empty tree, and a tree of one key, hash as specified', () => {
    const tree = new MemoryStateTree();
    assert.equal(tree.root, '00'.repeat(32));
    tree.apply(updateStateTree(tree, tree.root, [{ key: 'identity/ab', value: '{"x":1}' }]));
    assert.equal(tree.root, hex(sha(new Uint8Array([0]), sha(Buffer.from('identity/ab')), sha(Buffer.from('{"x":1}')))));
    assert.equal(hex(stateKeyHash('identity/ab')), hex(sha(Buffer.from('identity/ab'))));
    assert.equal(hex(stateValueHash('é')), hex(sha(Buffer.from('é', 'utf8'))));
    tree.apply(updateStateTree(tree, tree.root, [{ key: 'identity/ab', value: null }]));
    assert.equal(tree.root, EMPTY_STATE_ROOT);
    assert.equal(tree.nodes.size, 0, 'deleting the last key leaves no node behind');
  });

  test('property: after any sequence of blocks the root equals a from-scratch recomputation, and only reachable nodes are kept', () => {
    fc.assert(
      fc.property(blocksArb, (blocks) => {
        const tree = new MemoryStateTree();
        const model = new Map<string, string>();
        for (const writes of blocks) {
          tree.apply(updateStateTree(tree, tree.root, writes));
          for (const w of writes) {
            if (w.value === null) model.delete(w.key);
            else model.set(w.key, w.value);
          }
          assert.equal(tree.root, naiveRoot(model));
          assert.equal(reachable(tree).size, tree.nodes.size, 'no unreachable node is kept');
        }
      }),
      { numRuns: 200 },
    );
  });

  test('property: an update does not touch the tree it reads from', () => {
    fc.assert(
      fc.property(fc.array(writeArb, { minLength: 1, maxLength: 12 }), fc.array(writeArb, { minLength: 1, maxLength: 12 }), (a, b) => {
        const tree = new MemoryStateTree();
        tree.apply(updateStateTree(tree, tree.root, a));
        const before = new Map(tree.nodes);
        const root = tree.root;
        updateStateTree(tree, tree.root, b);
        assert.equal(tree.root, root);
        assert.deepEqual(tree.nodes, before);
      }),
      { numRuns: 100 },
    );
  });

  test('property: proofs of present and absent keys verify, and tampering with them fails', () => {
    fc.assert(
      fc.property(fc.array(writeArb, { maxLength: 30 }), keyArb, fc.nat(), (writes, key, pick) => {
        const tree = new MemoryStateTree();
        tree.apply(updateStateTree(tree, tree.root, writes));
        const model = new Map<string, string>();
        for (const w of writes) {
          if (w.value === null) model.delete(w.key);
          else model.set(w.key, w.value);
        }
        const value = model.get(key) ?? null;
        const { proof, valueHash } = proveStateKey(tree, tree.root, key);
        assert.equal(valueHash, value === null ? null : hex(stateValueHash(value)));
        verifyStateProof(tree.root, key, value, proof);
        const invalid = (f: () => void) => assert.throws(f, (e: unknown) => e instanceof StateProofError);
        // A lie about the value: absent for a present key, present for an absent one, or another value.
        invalid(() => verifyStateProof(tree.root, key, value === null ? 'forged' : null, proof));
        if (value !== null) invalid(() => verifyStateProof(tree.root, key, `${value}x`, proof));
        // Another root.
        invalid(() => verifyStateProof('ab'.repeat(32), key, value, proof));
        // A changed sibling, a dropped or an added one.
        if (proof.siblings.length > 0) {
          const i = pick % proof.siblings.length;
          const siblings = [...proof.siblings];
          siblings[i] = (siblings[i] as string).startsWith('ff')
            ? `00${(siblings[i] as string).slice(2)}`
            : `ff${(siblings[i] as string).slice(2)}`;
          invalid(() => verifyStateProof(tree.root, key, value, { ...proof, siblings }));
          invalid(() => verifyStateProof(tree.root, key, value, { ...proof, siblings: proof.siblings.slice(1) }));
        }
        invalid(() => verifyStateProof(tree.root, key, value, { ...proof, siblings: [...proof.siblings, EMPTY_STATE_ROOT] }));
        // A made-up other leaf in a non-membership proof.
        const other = proof.leaf;
        if (value === null && other !== null)
          invalid(() => verifyStateProof(tree.root, key, null, { ...proof, leaf: { ...other, valueHash: 'cd'.repeat(32) } }));
      }),
      { numRuns: 300 },
    );
  });

  test('a proof of absence cannot be made from the key’s own leaf, and malformed proofs are refused by code', () => {
    const tree = new MemoryStateTree();
    tree.apply(updateStateTree(tree, tree.root, [{ key: 'a', value: '1' }]));
    const { proof } = proveStateKey(tree, tree.root, 'a');
    const own = { keyHash: hex(stateKeyHash('a')), valueHash: hex(stateValueHash('1')) };
    assert.throws(() => verifyStateProof(tree.root, 'a', null, { ...proof, leaf: own }), { code: 'PROOF_INVALID' });
    assert.throws(() => verifyStateProof(tree.root, 'a', '1', { siblings: [], leaf: own }), { code: 'PROOF_MALFORMED' });
    assert.throws(() => verifyStateProof(tree.root, 'a', '1', { siblings: ['zz'], leaf: null }), { code: 'PROOF_MALFORMED' });
  });

  test('app hash and results root follow the documented formulas', () => {
    const results = [
      { code: 'ok', log: '' },
      { code: 'NONCE_GAP', log: 'nonce 3 skips ahead; next is 1' },
      { code: 'ok', log: '' },
    ];
    assert.equal(resultsRootOf(results), hex(merkleRoot(results.map((r) => canonicalBytes(r)))));
    assert.equal(resultsRootOf([]), hex(sha()));
    const state = 'aa'.repeat(32);
    const res = resultsRootOf(results);
    assert.equal(appHashOf(state, res), hex(sha(Buffer.from('medledger/app/v2\n'), Buffer.from(state, 'hex'), Buffer.from(res, 'hex'))));
    assert.throws(() => appHashOf('aa', res), { code: 'PROOF_MALFORMED' });
  });
});
