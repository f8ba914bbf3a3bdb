// Shamir sharing over GF(256): any k of n shares recover the secret, fewer do not, and a
// tampered share is caught by its commitment.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { toHex } from './bytes.js';
import { CryptoError } from './errors.js';
import { combineShares, shareCommitment, splitSecret, verifyShare } from './shamir.js';

const pick = <T>(items: T[], indexes: number[]) => indexes.map((i) => items[i] as T);

describe('Shamir secret sharing', () => {
  test('any k of n shares reconstruct the secret (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 0, max: 6 }),
        fc.nat(),
        (secret, k, extra, seed) => {
          const n = k + extra;
          const shares = splitSecret(secret, n, k);
          // a seeded choice of k distinct shares
          const order = shares.map((_, i) => i).sort((a, b) => ((a * 7919 + seed) % 101) - ((b * 7919 + seed) % 101));
          assert.deepEqual(combineShares(pick(shares, order.slice(0, k))), secret);
          assert.deepEqual(combineShares(shares), secret);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('k-1 shares do not give the secret', () => {
    let differing = 0;
    for (let i = 0; i < 50; i++) {
      const secret = new Uint8Array(32).map((_, j) => (i * 31 + j * 17) & 0xff);
      const shares = splitSecret(secret, 7, 5);
      if (toHex(combineShares(shares.slice(0, 4))) !== toHex(secret)) differing++;
    }
    assert.equal(differing, 50);
  });

  test('a known polynomial gives the expected shares (field arithmetic check)', () => {
    // f(x) = 0x53 + 0xCA·x over GF(2^8): f(1) = 0x53 ^ 0xCA = 0x99, f(2) = 0x53 ^ (0xCA·2) = 0x53 ^ 0x8F = 0xDC
    const shares = splitSecret(Uint8Array.of(0x53), 2, 2, () => Uint8Array.of(0xca));
    assert.deepEqual(shares, [
      { x: 1, y: '99' },
      { x: 2, y: 'dc' },
    ]);
    assert.deepEqual(combineShares(shares), Uint8Array.of(0x53));
  });

  test('commitments detect an altered share', () => {
    const shares = splitSecret(new Uint8Array(32).fill(9), 4, 3);
    const commitments = shares.map(shareCommitment);
    shares.forEach((s, i) => {
      assert.ok(verifyShare(s, commitments[i] as string));
    });
    const bad = { ...(shares[0] as { x: number; y: string }), y: `${(shares[0] as { y: string }).y.slice(0, -2)}00` };
    if (bad.y !== shares[0]?.y) assert.equal(verifyShare(bad, commitments[0] as string), false);
    assert.equal(verifyShare({ ...(shares[1] as { x: number; y: string }), x: 3 }, commitments[1] as string), false);
    assert.equal(verifyShare({ x: 1, y: 'zz' }, commitments[0] as string), false);
  });

  test('bad parameters and shares are refused', () => {
    const isShamir = (e: unknown) => e instanceof CryptoError && e.code === 'SHAMIR';
    assert.throws(() => splitSecret(Uint8Array.of(1), 3, 1), isShamir);
    assert.throws(() => splitSecret(Uint8Array.of(1), 2, 3), isShamir);
    assert.throws(() => splitSecret(Uint8Array.of(1), 256, 2), isShamir);
    assert.throws(() => splitSecret(new Uint8Array(), 3, 2), isShamir);
    const shares = splitSecret(Uint8Array.of(1, 2), 3, 2);
    assert.throws(() => combineShares([shares[0] as { x: number; y: string }]), isShamir);
    assert.throws(() => combineShares([shares[0] as { x: number; y: string }, shares[0] as { x: number; y: string }]), isShamir);
    assert.throws(() => combineShares([shares[0] as { x: number; y: string }, { x: 2, y: 'ab' }]), isShamir);
  });
});
