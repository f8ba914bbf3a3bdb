// X25519 against RFC 7748 §5.2 and §6.1 vectors on both entries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as browser from './browser.js';
import { toHex } from './bytes.js';
import { CryptoError } from './errors.js';
import { encryptionPublicKeyFromPrivate, x25519SharedSecret } from './x25519.js';

// RFC 7748 §6.1: Alice's and Bob's key pairs and their shared secret K.
const ALICE = {
  privateKey: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  publicKey: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
};
const BOB = {
  privateKey: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
  publicKey: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
};
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

// RFC 7748 §5.2: scalar, input u-coordinate, output u-coordinate (the second has bit 255 set in u).
const SCALAR_MULT = [
  [
    'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
    'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
    'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
  ],
  [
    '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
    'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
    '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
  ],
] as const;

test('RFC 7748 §6.1: both entries derive Alice and Bob’s public keys', () => {
  for (const derive of [encryptionPublicKeyFromPrivate, browser.encryptionPublicKeyFromPrivate]) {
    assert.equal(derive(ALICE.privateKey), ALICE.publicKey);
    assert.equal(derive(BOB.privateKey), BOB.publicKey);
  }
});

test('RFC 7748 §6.1 and §5.2: the Node entry computes the shared secrets', () => {
  assert.equal(toHex(x25519SharedSecret(ALICE.privateKey, BOB.publicKey)), SHARED);
  assert.equal(toHex(x25519SharedSecret(BOB.privateKey, ALICE.publicKey)), SHARED);
  for (const [k, u, out] of SCALAR_MULT) assert.equal(toHex(x25519SharedSecret(k, u)), out);
});

test('a low-order public key is refused rather than giving an all-zero secret', () => {
  assert.throws(
    () => x25519SharedSecret(ALICE.privateKey, '00'.repeat(32)),
    (e: unknown) => e instanceof CryptoError && e.code === 'BAD_KEY',
  );
});
