import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { toHex } from './bytes.js';
import { generateSigningKeyPair } from './ed25519.js';
import { isWeakSigningKey } from './small-order.js';

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
  for (let i = 0; i < 50; i++) assert.equal(isWeakSigningKey(generateSigningKeyPair().publicKey), false);
});
