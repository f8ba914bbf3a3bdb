// Shamir sharing over GF(256): any k of n shares recover the secret, k-1 do not, a tampered
// share is caught by its commitment, and bad parameters are refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { bytesEqual } from './bytes.js';
import { CryptoError } from './errors.js';
import { combineShares, dealSecret, interpolateAtZero, type Share, shareCommitment, splitSecret, verifyShare } from './shamir.js';

const isShamir = (e: unknown) => e instanceof CryptoError && e.code === 'SHAMIR';

// n, k with 2 ≤ k ≤ n ≤ 12, plus a subset of share indexes of a given size drawn from n.
const splitParams = fc
  .integer({ min: 2, max: 12 })
  .chain((k) => fc.record({ k: fc.constant(k), n: fc.integer({ min: k, max: 12 }) }))
  .chain(({ k, n }) =>
    fc.record({ k: fc.constant(k), n: fc.constant(n), order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }) }),
  );

describe('Shamir secret sharing', () => {
  test('any k of n shares reconstruct the secret (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 48 }), splitParams, (secret, { k, n, order }) => {
        const shares = splitSecret(secret, n, k);
        assert.equal(shares.length, n);
        const chosen = order.slice(0, k).map((i) => shares[i] as Share);
        assert.deepEqual(combineShares(chosen), secret);
        assert.deepEqual(combineShares(order.map((i) => shares[i] as Share)), secret, 'more than k also works');
      }),
      { numRuns: 200 },
    );
  });

  test('k-1 shares of a random secret do not give the secret (property)', () => {
    // For a 16+ byte random secret, k-1 shares combine to a value independent of it, so equality
    // would happen with probability at most 2^-128.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 48 }), splitParams, (secret, { k, n, order }) => {
        const shares = splitSecret(secret, n, k);
        const tooFew = order.slice(0, k - 1).map((i) => shares[i] as Share);
        if (tooFew.length < 2) assert.throws(() => combineShares(tooFew), isShamir);
        else assert.equal(bytesEqual(combineShares(tooFew), secret), false);
      }),
      { numRuns: 200 },
    );
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

  test('commitments accept the right shares and detect any altered share (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (secret, pick, xor) => {
        const shares = splitSecret(secret, 5, 3);
        const commitments = shares.map(shareCommitment);
        shares.forEach((s, i) => {
          assert.equal(verifyShare(s, commitments[i] as string), true);
        });
        const i = pick % shares.length;
        const share = shares[i] as Share;
        const y = Uint8Array.from(Buffer.from(share.y, 'hex'));
        const at = pick % y.length;
        y[at] = (y[at] as number) ^ xor;
        assert.equal(verifyShare({ x: share.x, y: Buffer.from(y).toString('hex') }, commitments[i] as string), false, 'altered y');
        assert.equal(verifyShare({ x: (share.x % 5) + 1, y: share.y }, commitments[i] as string), false, 'altered x');
        assert.equal(verifyShare({ x: share.x, y: `${share.y}00` }, commitments[i] as string), false, 'extended y');
      }),
      { numRuns: 100 },
    );
  });

  test('malformed shares are refused by shareCommitment and fail verifyShare', () => {
    for (const bad of [
      { x: 0, y: 'ab' },
      { x: 256, y: 'ab' },
      { x: 1.5, y: 'ab' },
      { x: 1, y: 'zz' },
      { x: 1, y: '' },
      { x: 1, y: 'AB' },
    ]) {
      assert.throws(() => shareCommitment(bad), isShamir, JSON.stringify(bad));
      assert.equal(verifyShare(bad, shareCommitment({ x: 1, y: 'ab' })), false);
    }
  });

  test('bad parameters and shares are refused', () => {
    assert.throws(() => splitSecret(Uint8Array.of(1), 3, 1), isShamir, 'k < 2');
    assert.throws(() => splitSecret(Uint8Array.of(1), 2, 3), isShamir, 'n < k');
    assert.throws(() => splitSecret(Uint8Array.of(1), 256, 2), isShamir, 'n > 255');
    assert.throws(() => splitSecret(Uint8Array.of(1), 3.5, 2), isShamir, 'n not an integer');
    assert.throws(() => splitSecret(new Uint8Array(), 3, 2), isShamir, 'empty secret');
    assert.throws(() => splitSecret(Uint8Array.of(1), 3, 2, () => new Uint8Array(0)), isShamir, 'short random');
    assert.equal(splitSecret(Uint8Array.of(1), 255, 2).length, 255, 'n = 255 is allowed');
    const shares = splitSecret(Uint8Array.of(1, 2), 3, 2);
    const [a, b] = shares as [Share, Share];
    assert.throws(() => combineShares([a]), isShamir, 'one share');
    assert.throws(() => combineShares([a, a]), isShamir, 'duplicate x');
    assert.throws(() => combineShares([a, { x: 2, y: 'ab' }]), isShamir, 'unequal lengths');
    assert.throws(() => combineShares([a, { x: 0, y: b.y }]), isShamir, 'x = 0');
    assert.throws(() => combineShares([a, { x: 2, y: 'zzzz' }]), isShamir, 'y not hex');
  });
});

// Desmedt–Jajodia re-sharing: k old holders each deal their share to n2 new holders with a
// fresh polynomial; each new holder interpolates its sub-shares at the dealers' x. Any k2 new
// shares rebuild the secret, and no old share lies on the new polynomial.
describe('proactive re-sharing (Desmedt–Jajodia)', () => {
  const reshare = (old: readonly Share[], n2: number, k2: number): Share[] => {
    const dealt = old.map((s) => dealSecret(Uint8Array.from(Buffer.from(s.y, 'hex')), n2, k2));
    return Array.from({ length: n2 }, (_, j) => ({
      x: j + 1,
      y: Buffer.from(interpolateAtZero(old.map((s, i) => ({ x: s.x, y: (dealt[i] as Share[])[j]?.y as string })))).toString('hex'),
    }));
  };

  test('k old holders re-share to a new set whose threshold rebuilds the secret (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.nat(),
        (secret, n1, n2, seed) => {
          const k1 = Math.floor((2 * n1) / 3) + 1;
          const k2 = Math.floor((2 * n2) / 3) + 1;
          const old = dealSecret(secret, n1, k1);
          // Any k1 old holders may be the dealers: rotate the starting point by the seed.
          const dealers = Array.from({ length: k1 }, (_, i) => old[(seed + i) % n1] as Share);
          const fresh = reshare(dealers, n2, k2);
          assert.deepEqual(interpolateAtZero(fresh.slice(n2 - k2)), secret);
          // Twice in a row (a second set change) still rebuilds it.
          const k3 = Math.floor((2 * (n2 + 1)) / 3) + 1;
          assert.deepEqual(interpolateAtZero(reshare(fresh.slice(0, k2), n2 + 1, k3).slice(0, k3)), secret);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('an old share does not help rebuild from too few new shares', () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const old = splitSecret(secret, 4, 3);
    const fresh = reshare(old.slice(1, 4), 5, 4);
    // Three new shares plus the removed holder's old share at a free x: not the secret.
    const mixed = [...fresh.slice(0, 3), { x: 9, y: (old[0] as Share).y }];
    assert.notDeepEqual(combineShares(mixed), secret);
    assert.notDeepEqual(combineShares(fresh.slice(0, 3)), secret);
  });
});
