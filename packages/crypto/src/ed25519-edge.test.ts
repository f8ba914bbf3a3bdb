// Ed25519 verification edge cases: the Node entry (OpenSSL) and the browser entry must accept
// exactly the same signatures, or a light client could accept a commit the validators refuse.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as browser from './browser.js';
import { fromHex, toHex } from './bytes.js';
import { verifyEd25519 } from './ed25519.js';

// The 12 cases of ed25519-speccheck (Chalkias, Garillot, Nikolaenko, "Taming the many
// EdDSAs", 2020; github.com/novifinancial/ed25519-speccheck cases.txt): small-order and
// mixed-order R and A, S ≥ L, and non-canonical R and A encodings.
const SPECCHECK = [
  [
    '8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000',
  ],
  [
    '9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
  ],
  [
    'aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab',
    'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e',
  ],
  [
    '9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79',
    'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    '9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009',
  ],
  [
    'e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c',
    'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    '160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09',
  ],
  [
    'e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c',
    'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    '21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405',
  ],
  [
    '85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40',
    '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623',
    'e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514',
  ],
  [
    '85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40',
    '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623',
    '8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22',
  ],
  [
    '9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41',
    'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f',
  ],
  [
    '9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41',
    'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908',
  ],
  [
    'e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
  ],
  [
    '39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
  ],
] as const;

// The speccheck results table row for OpenSSL 3.0 (results.md), which Node 20 links.
const OPENSSL_3_ACCEPTS = [true, true, true, true, false, false, false, false, false, false, false, true];

const verdicts = (verify: (pub: string, msg: Uint8Array, sig: string) => boolean) =>
  SPECCHECK.map(([msg, pub, sig]) => verify(pub, fromHex(msg), sig));

describe('Ed25519 verification edge cases (ed25519-speccheck)', () => {
  test('the Node entry decides the 12 speccheck cases as the published OpenSSL 3.0 row', () => {
    assert.deepEqual(verdicts(verifyEd25519), OPENSSL_3_ACCEPTS);
  });

  test('the browser entry decides them exactly as the Node entry', () => {
    assert.deepEqual(verdicts(browser.verifyEd25519), OPENSSL_3_ACCEPTS);
  });

  test('both entries agree on the identity point as a public key, in its canonical and non-canonical encodings', () => {
    // A = (0, 1) makes [k]A vanish, so R = [S]B verifies under the cofactorless rule for any
    // message. Both entries accept it; refusing such keys belongs at registration.
    const baseR = '5866666666666666666666666666666666666666666666666666666666666666';
    const sig = `${baseR}01${'00'.repeat(31)}`;
    for (const pub of [`01${'00'.repeat(31)}`, `ee${'ff'.repeat(30)}7f`, `01${'00'.repeat(30)}80`]) {
      for (const msg of [new Uint8Array(), Uint8Array.of(42)]) {
        assert.equal(browser.verifyEd25519(pub, msg, sig), verifyEd25519(pub, msg, sig), pub);
      }
    }
  });

  test('both entries agree on mutated signatures and keys (property)', () => {
    const secret = '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb';
    const pub = browser.publicKeyFromPrivate(secret);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 0, max: 767 }),
        fc.integer({ min: 1, max: 255 }),
        (message, at, xor) => {
          // XOR one byte of signature ‖ public key, then both must give the same verdict.
          const joined = fromHex(browser.signEd25519(secret, message) + pub);
          joined[at >> 3] = (joined[at >> 3] as number) ^ xor;
          const sig = toHex(joined.subarray(0, 64));
          const key = toHex(joined.subarray(64));
          assert.equal(browser.verifyEd25519(key, message, sig), verifyEd25519(key, message, sig));
        },
      ),
      { numRuns: 300 },
    );
  });
});

// verifyEd25519 tries libsodium first and lets OpenSSL decide whatever libsodium refuses: its
// verdict must be OpenSSL's own, call for call.
describe("the Node entry gives OpenSSL's verdict (libsodium fast path)", () => {
  const openssl = (pub: string, msg: Uint8Array, sig: string): boolean => {
    try {
      const key = createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(fromHex(pub, 'key', 32)).toString('base64url') },
        format: 'jwk',
      });
      return verify(null, msg, key, fromHex(sig, 'sig', 64));
    } catch {
      return false;
    }
  };

  test('on the speccheck cases', () => {
    assert.deepEqual(verdicts(verifyEd25519), verdicts(openssl));
  });

  test('on honest signatures by fresh keys, and on each of them mutated (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 767 }),
        fc.integer({ min: 0, max: 255 }),
        (message, at, xor) => {
          const { publicKey, privateKey } = generateKeyPairSync('ed25519');
          const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
          const joined = Buffer.concat([sign(null, message, privateKey), pub]);
          assert.equal(verifyEd25519(toHex(pub), message, toHex(joined.subarray(0, 64))), true);
          joined[at >> 3] = (joined[at >> 3] as number) ^ xor;
          const sig = toHex(joined.subarray(0, 64));
          const key = toHex(joined.subarray(64));
          assert.equal(verifyEd25519(key, message, sig), openssl(key, message, sig));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a non-canonical R (y ≥ p) and an upper-case key are refused as OpenSSL refuses them', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pub = toHex(Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url'));
    const msg = Uint8Array.of(1, 2, 3);
    const sig = toHex(sign(null, msg, privateKey));
    for (const r of [`ed${'ff'.repeat(30)}7f`, `ee${'ff'.repeat(30)}ff`, `ff${'ff'.repeat(30)}7f`]) {
      const forged = r + sig.slice(64);
      assert.equal(verifyEd25519(pub, msg, forged), openssl(pub, msg, forged));
      assert.equal(verifyEd25519(pub, msg, forged), false);
    }
    assert.equal(verifyEd25519(pub.toUpperCase(), msg, sig), false);
    assert.equal(verifyEd25519(pub, msg, sig), true);
  });
});
