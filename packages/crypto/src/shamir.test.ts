// Shamir sharing over GF(256): any k of n shares recover the secret, k-1 do not, a tampered
// share is caught by its commitment, and bad parameters are refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { bytesEqual } from './bytes.js';
import { CryptoError } from './errors.js';
import { combineShares, type Share, shareCommitment, splitSecret, verifyShare } from './shamir.js';

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
