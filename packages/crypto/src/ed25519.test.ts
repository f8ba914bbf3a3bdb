// Ed25519 against RFC 8032 §7.1 vectors on both entries, tamper cases, and Node/browser parity.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as browser from './browser.js';
import { fromHex, toHex } from './bytes.js';
import { generateSigningKeyPair, publicKeyFromPrivate, signEd25519, verifyEd25519 } from './ed25519.js';
import { idFromPublicKey } from './hash.js';

// RFC 8032 §7.1, TEST 1–3.
const VECTORS = [
  {
    name: 'TEST 1',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

const flip = (hex: string, at: number) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);

describe('Ed25519 (RFC 8032)', () => {
  for (const v of VECTORS) {
    test(`${v.name}: public key, signature and verification on the Node entry`, () => {
      assert.equal(publicKeyFromPrivate(v.secret), v.public);
      assert.equal(signEd25519(v.secret, fromHex(v.message)), v.signature);
      assert.ok(verifyEd25519(v.public, fromHex(v.message), v.signature));
    });
    test(`${v.name}: the same on the browser entry`, () => {
      assert.equal(browser.publicKeyFromPrivate(v.secret), v.public);
      assert.equal(browser.signEd25519(v.secret, fromHex(v.message)), v.signature);
      assert.ok(browser.verifyEd25519(v.public, fromHex(v.message), v.signature));
    });
  }

  test('verification fails for a flipped bit in message, signature or key', () => {
    const v = VECTORS[2] as (typeof VECTORS)[number];
    const msg = fromHex(v.message);
    const altered = Uint8Array.from(msg);
    altered[0] = (altered[0] as number) ^ 1;
    assert.equal(verifyEd25519(v.public, altered, v.signature), false);
    for (const at of [0, 63, 64, 127]) assert.equal(verifyEd25519(v.public, msg, flip(v.signature, at)), false, `sig hex ${at}`);
    assert.equal(verifyEd25519(flip(v.public, 5), msg, v.signature), false);
    assert.equal(browser.verifyEd25519(v.public, altered, v.signature), false);
  });

  test('malformed keys and signatures are rejected without throwing', () => {
    const v = VECTORS[0] as (typeof VECTORS)[number];
    assert.equal(verifyEd25519('zz', new Uint8Array(), v.signature), false);
    assert.equal(verifyEd25519(v.public, new Uint8Array(), v.signature.slice(2)), false);
    assert.equal(verifyEd25519(v.public, new Uint8Array(), v.signature.toUpperCase()), false);
    assert.equal(browser.verifyEd25519(v.public, new Uint8Array(), 'abc'), false);
    assert.throws(() => signEd25519('00', new Uint8Array()), TypeError);
  });

  test('signatures are byte-identical on the Node and browser entries (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 512 }), (seed, message) => {
        const secret = toHex(seed);
        const sig = signEd25519(secret, message);
        assert.equal(browser.signEd25519(secret, message), sig);
        assert.ok(browser.verifyEd25519(publicKeyFromPrivate(secret), message, sig));
      }),
      { numRuns: 200 },
    );
  });

  test('generated keys sign and verify, and ids are 20 bytes of SHA-256 of the key', () => {
    const kp = generateSigningKeyPair();
    assert.equal(publicKeyFromPrivate(kp.privateKey), kp.publicKey);
    const sig = signEd25519(kp.privateKey, new Uint8Array([1, 2, 3]));
    assert.ok(verifyEd25519(kp.publicKey, new Uint8Array([1, 2, 3]), sig));
    assert.match(idFromPublicKey(kp.publicKey), /^[0-9a-f]{40}$/);
    assert.equal(browser.idFromPublicKey(kp.publicKey), idFromPublicKey(kp.publicKey));
  });
});
