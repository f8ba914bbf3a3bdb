// Envelopes and AEAD on both entries: round trips, every tamper case, key and shape errors,
// and Node↔browser interop in both directions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as browser from './browser.js';
import { utf8 } from './bytes.js';
import * as node from './index.js';

const ENTRIES = [
  { name: 'Node', ...node },
  { name: 'browser', ...browser },
];

const flipHex = (hex: string, at = 0) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
const hasCode = (code: node.CryptoErrorCode) => (err: unknown) => err instanceof node.CryptoError && err.code === code;
const isDecryptFailure = hasCode('DECRYPT_FAILED');
// A low-order X25519 point (u = 0): its shared secret with any key is all zeros.
const LOW_ORDER_KEY = '00'.repeat(32);

describe('envelopes (X25519 + HKDF-SHA256 + AES-256-GCM)', () => {
  for (const seal of ENTRIES) {
    for (const open of ENTRIES) {
      test(`sealed on the ${seal.name} entry, opened on the ${open.name} entry (property)`, () => {
        const recipient = (seal.name === 'Node' ? browser : node).generateEncryptionKeyPair();
        fc.assert(
          fc.property(
            fc.uint8Array({ maxLength: 256 }),
            fc.uint8Array({ maxLength: 64 }),
            fc.option(fc.uint8Array({ maxLength: 32 }), { nil: undefined }),
            (secret, aad, context) => {
              const env = seal.sealToPublicKey(recipient.publicKey, secret, aad, context);
              assert.deepEqual(JSON.parse(JSON.stringify(env)), env, 'envelopes are plain JSON');
              assert.deepEqual(open.openEnvelope(recipient.privateKey, env, aad, context), secret);
            },
          ),
          { numRuns: 60 },
        );
      });
    }
  }

  for (const e of ENTRIES) {
    test(`${e.name} entry: opening fails on a tampered ct, tag, iv, epk, aad, context, or a wrong key`, () => {
      const r = e.generateEncryptionKeyPair();
      const aad = utf8('record-1');
      const ctx = utf8('patient-7');
      const env = e.sealToPublicKey(r.publicKey, e.generateDataKey(), aad, ctx);
      assert.deepEqual(e.openEnvelope(r.privateKey, env, aad, ctx).length, 32);
      const tampered = [
        { ...env, ct: flipHex(env.ct) },
        { ...env, ct: flipHex(env.ct, env.ct.length - 1) },
        { ...env, ct: env.ct.slice(2) },
        { ...env, tag: flipHex(env.tag) },
        { ...env, tag: flipHex(env.tag, 31) },
        { ...env, iv: flipHex(env.iv) },
        { ...env, epk: flipHex(env.epk, 10) },
        { ...env, epk: e.generateEncryptionKeyPair().publicKey },
        { ...env, epk: LOW_ORDER_KEY },
      ];
      for (const bad of tampered) assert.throws(() => e.openEnvelope(r.privateKey, bad, aad, ctx), isDecryptFailure);
      assert.throws(() => e.openEnvelope(r.privateKey, env, utf8('record-2'), ctx), isDecryptFailure, 'other aad');
      assert.throws(() => e.openEnvelope(r.privateKey, env, new Uint8Array(), ctx), isDecryptFailure, 'no aad');
      assert.throws(() => e.openEnvelope(r.privateKey, env, aad, utf8('patient-8')), isDecryptFailure, 'other context');
      assert.throws(() => e.openEnvelope(r.privateKey, env, aad), isDecryptFailure, 'no context');
      assert.throws(() => e.openEnvelope(e.generateEncryptionKeyPair().privateKey, env, aad, ctx), isDecryptFailure, 'wrong key');
    });

    test(`${e.name} entry: a malformed envelope fails to open with DECRYPT_FAILED, its cause naming the field`, () => {
      const r = e.generateEncryptionKeyPair();
      const env = e.sealToPublicKey(r.publicKey, Uint8Array.of(1, 2, 3));
      const cases: [unknown, string][] = [
        [{ ...env, v: 2 }, 'envelope.v'],
        [{ ...env, alg: 'RSA' }, 'envelope.alg'],
        [{ ...env, tag: env.tag.slice(0, 8) }, 'envelope.tag'],
        [{ ...env, iv: `${env.iv}00` }, 'envelope.iv'],
        [{ ...env, epk: env.epk.toUpperCase() }, 'envelope.epk'],
        [{ ...env, ct: 'xyz' }, 'envelope.ct'],
        [null, 'envelope must be an object'],
      ];
      for (const [bad, field] of cases) {
        assert.throws(
          () => e.openEnvelope(r.privateKey, bad),
          (err: unknown) =>
            isDecryptFailure(err) &&
            hasCode('BAD_ENVELOPE')((err as Error).cause) &&
            ((err as Error).cause as Error).message.includes(field),
        );
        assert.throws(
          () => e.validateEnvelope(bad),
          (err: unknown) => hasCode('BAD_ENVELOPE')(err) && (err as Error).message.includes(field),
        );
      }
      assert.deepEqual(e.validateEnvelope({ ...env, extra: 1 }), env, 'validateEnvelope keeps only envelope fields');
    });

    test(`${e.name} entry: malformed or low-order keys are refused with BAD_KEY`, () => {
      const isBadKey = hasCode('BAD_KEY');
      const r = e.generateEncryptionKeyPair();
      assert.throws(() => e.sealToPublicKey(LOW_ORDER_KEY, Uint8Array.of(1)), isBadKey);
      assert.throws(() => e.sealToPublicKey(r.publicKey.slice(2), Uint8Array.of(1)), isBadKey);
      const env = e.sealToPublicKey(r.publicKey, Uint8Array.of(1));
      assert.throws(() => e.openEnvelope('nothex', env), isBadKey);
      assert.throws(() => e.encryptionPublicKeyFromPrivate('00'), isBadKey);
      assert.throws(() => e.aeadEncrypt(new Uint8Array(16), Uint8Array.of(1)), isBadKey);
      assert.throws(
        () => e.aeadDecrypt(new Uint8Array(31), { iv: new Uint8Array(12), ct: new Uint8Array(), tag: new Uint8Array(16) }),
        isBadKey,
      );
      assert.throws(() => e.sealToPublicKey(r.publicKey, new Uint8Array(1024 * 1024 + 1)), hasCode('BAD_ENVELOPE'));
    });

    test(`${e.name} entry: AEAD round-trips and fails on tampering, wrong key, wrong AAD, or cut tag`, () => {
      const key = e.generateDataKey();
      assert.equal(key.length, 32);
      const box = e.aeadEncrypt(key, utf8('clinical note'), utf8('rid'));
      assert.equal(box.iv.length, 12);
      assert.equal(box.tag.length, 16);
      assert.equal(new TextDecoder().decode(e.aeadDecrypt(key, box, utf8('rid'))), 'clinical note');
      const ct = Uint8Array.from(box.ct);
      ct[0] = (ct[0] as number) ^ 1;
      assert.throws(() => e.aeadDecrypt(key, { ...box, ct }, utf8('rid')), isDecryptFailure);
      assert.throws(() => e.aeadDecrypt(e.generateDataKey(), box, utf8('rid')), isDecryptFailure);
      assert.throws(() => e.aeadDecrypt(key, box, utf8('other')), isDecryptFailure);
      // A tag cut to 4 bytes would be accepted by a bare Node decipher: it must not be here.
      assert.throws(() => e.aeadDecrypt(key, { ...box, tag: box.tag.slice(0, 4) }, utf8('rid')), isDecryptFailure);
      assert.throws(() => e.aeadDecrypt(key, { ...box, iv: new Uint8Array(16) }, utf8('rid')), isDecryptFailure);
      assert.notDeepEqual(e.aeadEncrypt(key, utf8('x')).iv, e.aeadEncrypt(key, utf8('x')).iv, 'fresh IV each time');
    });
  }

  test('AEAD boxes made on one entry open on the other (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 40 }),
        (key, plaintext, aad) => {
          assert.deepEqual(browser.aeadDecrypt(key, node.aeadEncrypt(key, plaintext, aad), aad), plaintext);
          assert.deepEqual(node.aeadDecrypt(key, browser.aeadEncrypt(key, plaintext, aad), aad), plaintext);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('both entries derive the same X25519 public keys', () => {
    for (const kp of [node.generateEncryptionKeyPair(), browser.generateEncryptionKeyPair()]) {
      assert.equal(node.encryptionPublicKeyFromPrivate(kp.privateKey), kp.publicKey);
      assert.equal(browser.encryptionPublicKeyFromPrivate(kp.privateKey), kp.publicKey);
    }
  });
});
