import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { toHex } from './bytes.js';
import { generateSigningKeyPair } from './ed25519.js';
import { isLowOrderEncryptionKey, isWeakSigningKey } from './small-order.js';

test('small-order keys, canonical or not, are weak; generated keys are not', () => {
  // The identity point (y = 1), the order-2 point (y = -1), y = 0 (order 4) and their
  // non-canonical encodings y + p.
  for (const hex of [
    `01${'00'.repeat(31)}`,
    `ec${'ff'.repeat(30)}7f`,
    '00'.repeat(32),
    `ed${'ff'.repeat(30)}7f`,
    `ee${'ff'.repeat(30)}7f`,
    `01${'00'.repeat(30)}80`,
  ]) {
    assert.ok(isWeakSigningKey(hex), hex);
  }
  // Every multiple of an order-8 point, computed independently with noble.
  const { Point } = ed25519;
  let found = 0;
  for (let k = 2; k < 64 && found === 0; k++) {
    const enc = new Uint8Array(32);
    enc[0] = k;
    try {
      const p = Point.fromBytes(enc);
      const t = p.multiplyUnsafe(Point.Fn.ORDER - 1n).add(p);
      let q = t;
      for (let i = 1; i < 8; i++, q = q.add(t)) {
        assert.ok(q.isSmallOrder());
        assert.ok(isWeakSigningKey(toHex(q.toBytes())));
        found++;
      }
    } catch {
      // not a point; try the next y
    }
  }
  assert.ok(found > 0);
  assert.ok(isWeakSigningKey('zz'));
  // Near misses: y = 2 and its non-canonical form p + 2, y = p - 2, and y = 1 with a byte changed.
  for (const hex of [`02${'00'.repeat(31)}`, `ef${'ff'.repeat(30)}7f`, `eb${'ff'.repeat(30)}7f`, `01${'00'.repeat(30)}01`])
    assert.equal(isWeakSigningKey(hex), false, hex);
  for (let i = 0; i < 50; i++) assert.equal(isWeakSigningKey(generateSigningKeyPair().publicKey), false);
});

test('low-order X25519 keys (libsodium blocklist, non-canonical and top-bit forms) are refused; generated keys are not', async () => {
  const { x25519 } = await import('@noble/curves/ed25519.js');
  const { generateEncryptionKeyPair } = await import('./x25519.js');
  // libsodium crypto_scalarmult_curve25519 blocklist, verbatim.
  const blocklist = [
    '0000000000000000000000000000000000000000000000000000000000000000',
    '0100000000000000000000000000000000000000000000000000000000000000',
    'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
    '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  ];
  const withTopBit = (hex: string) => hex.slice(0, 62) + (Number.parseInt(hex.slice(62), 16) | 0x80).toString(16).padStart(2, '0');
  for (const hex of [...blocklist, ...blocklist.map(withTopBit)]) {
    assert.ok(isLowOrderEncryptionKey(hex), hex);
    // Independently: X25519 with any scalar gives the all-zero secret, which noble refuses.
    assert.throws(() => x25519.getSharedSecret(generateEncryptionKeyPair().privateKey, hex), hex);
  }
  assert.ok(isLowOrderEncryptionKey('zz'));
  for (let i = 0; i < 50; i++) assert.equal(isLowOrderEncryptionKey(generateEncryptionKeyPair().publicKey), false);
});
