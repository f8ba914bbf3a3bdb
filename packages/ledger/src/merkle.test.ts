// RFC 9162 / RFC 6962 Merkle trees against the Certificate Transparency reference
// vectors, plus properties over random trees.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromHex, toHex } from '@medledger/crypto';
import fc from 'fast-check';
import {
  consistencyProof,
  inclusionProof,
  inclusionProofFromLevels,
  leafHash,
  merkleLevels,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

// The CT test inputs and published roots (certificate-transparency / transparency-dev testonly).
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => fromHex(h));
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];
const CONSISTENCY = [
  {
    first: 2,
    second: 8,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    first: 6,
    second: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    first: 2,
    second: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

const root = (n: number) => fromHex(ROOTS[n] as string);
const tamper = (b: Uint8Array, at = 0) => {
  const c = Uint8Array.from(b);
  c[at % c.length] = (c[at % c.length] as number) ^ 1;
  return c;
};

describe('RFC 9162 Merkle tree: Certificate Transparency vectors', () => {
  test('roots of every prefix of the reference leaves, including the empty tree', () => {
    for (let n = 0; n <= LEAVES.length; n++) assert.equal(toHex(merkleRoot(LEAVES.slice(0, n))), ROOTS[n], `size ${n}`);
  });

  test('published inclusion proofs are produced and verify', () => {
    for (const v of INCLUSION) {
      const proof = inclusionProof(LEAVES.slice(0, v.size), v.index);
      assert.deepEqual(proof.map(toHex), v.proof);
      assert.ok(verifyInclusion(leafHash(LEAVES[v.index] as Uint8Array), v.index, v.size, proof, root(v.size)));
    }
  });

  test('published consistency proofs are produced and verify', () => {
    for (const v of CONSISTENCY) {
      const proof = consistencyProof(LEAVES.slice(0, v.second), v.first);
      assert.deepEqual(proof.map(toHex), v.proof, `${v.first}->${v.second}`);
      assert.ok(verifyConsistency(v.first, v.second, proof, root(v.first), root(v.second)));
    }
  });

  test('verifiers reject bad sizes, short hashes and degenerate cases without throwing', () => {
    const proof = inclusionProof(LEAVES, 5);
    const leaf = leafHash(LEAVES[5] as Uint8Array);
    assert.equal(verifyInclusion(leaf, 8, 8, proof, root(8)), false);
    assert.equal(verifyInclusion(leaf, -1, 8, proof, root(8)), false);
    assert.equal(verifyInclusion(leaf.subarray(0, 31), 5, 8, proof, root(8)), false);
    assert.equal(verifyConsistency(8, 6, [], root(8), root(6)), false);
    assert.equal(verifyConsistency(6, 8, [], root(6), root(8)), false);
    assert.ok(verifyConsistency(4, 4, [], root(4), root(4)));
    assert.equal(verifyConsistency(4, 4, [], root(4), root(5)), false);
    assert.throws(() => inclusionProof(LEAVES, 8), RangeError);
    assert.throws(() => consistencyProof(LEAVES, 0), RangeError);
  });
});

// Distinct leaves: with two equal leaves, one proof legitimately proves either position.
const treeArb = fc.uniqueArray(fc.uint8Array({ maxLength: 24 }), { minLength: 1, maxLength: 70, selector: (u) => toHex(u) });

describe('RFC 9162 Merkle tree: properties', () => {
  test("every leaf's inclusion proof verifies", () => {
    fc.assert(
      fc.property(treeArb, (leaves) => {
        const r = merkleRoot(leaves);
        leaves.forEach((leaf, i) => {
          assert.ok(verifyInclusion(leafHash(leaf), i, leaves.length, inclusionProof(leaves, i), r));
        });
      }),
      { numRuns: 60 },
    );
  });

  test('proofs read off precomputed levels equal the recursive RFC proofs, for every size up to 70', () => {
    for (let n = 1; n <= 70; n++) {
      const leaves = Array.from({ length: n }, (_, i) => new Uint8Array([i, n]));
      const levels = merkleLevels(leaves.map(leafHash));
      assert.equal(toHex(levels[levels.length - 1]?.[0] as Uint8Array), toHex(merkleRoot(leaves)), `root of ${n}`);
      for (let i = 0; i < n; i++)
        assert.deepEqual(inclusionProofFromLevels(levels, i).map(toHex), inclusionProof(leaves, i).map(toHex), `leaf ${i} of ${n}`);
      assert.throws(() => inclusionProofFromLevels(levels, n), RangeError);
      assert.throws(() => inclusionProofFromLevels(levels, -1), RangeError);
    }
  });

  test('an altered leaf, proof step, index or root fails', () => {
    fc.assert(
      fc.property(treeArb, fc.nat(), fc.nat(), (leaves, pick, byte) => {
        const n = leaves.length;
        const i = pick % n;
        const r = merkleRoot(leaves);
        const leaf = leafHash(leaves[i] as Uint8Array);
        const proof = inclusionProof(leaves, i);
        assert.equal(verifyInclusion(tamper(leaf, byte), i, n, proof, r), false, 'leaf');
        assert.equal(verifyInclusion(leaf, i, n, proof, tamper(r, byte)), false, 'root');
        if (proof.length > 0) {
          const step = byte % proof.length;
          const bad = proof.map((p, k) => (k === step ? tamper(p, byte) : p));
          assert.equal(verifyInclusion(leaf, i, n, bad, r), false, 'proof step');
          assert.equal(verifyInclusion(leaf, i, n, proof.slice(1), r), false, 'truncated proof');
        }
        if (n > 1) assert.equal(verifyInclusion(leaf, (i + 1) % n, n, proof, r), false, 'index');
      }),
      { numRuns: 200 },
    );
  });

  test('consistency proofs verify for every m ≤ n and fail when altered', () => {
    fc.assert(
      fc.property(treeArb, fc.nat(), fc.nat(), (leaves, pick, byte) => {
        const n = leaves.length;
        const m = (pick % n) + 1;
        const first = merkleRoot(leaves.slice(0, m));
        const second = merkleRoot(leaves);
        const proof = consistencyProof(leaves, m);
        assert.ok(verifyConsistency(m, n, proof, first, second));
        if (m < n) {
          assert.equal(verifyConsistency(m, n, proof, tamper(first, byte), second), false);
          assert.equal(verifyConsistency(m, n, proof, first, tamper(second, byte)), false);
          const step = byte % proof.length;
          assert.equal(
            verifyConsistency(
              m,
              n,
              proof.map((p, k) => (k === step ? tamper(p, byte) : p)),
              first,
              second,
            ),
            false,
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});
