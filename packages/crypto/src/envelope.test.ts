// Envelopes, AEAD and keystores: round trips, every tamper case, and Node↔browser interop.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as browser from './browser.js';
import { fromHex, utf8 } from './bytes.js';
import { aeadDecrypt, aeadEncrypt, generateDataKey, openEnvelope, sealToPublicKey } from './envelope.js';
import { CryptoError } from './errors.js';
import { generateKeyBundle } from './keys.js';
import { decryptKeystore, encryptKeystore } from './keystore.js';
import { generateEncryptionKeyPair } from './x25519.js';

const flipHex = (hex: string, at = 0) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
const isDecryptFailure = (err: unknown) => err instanceof CryptoError && err.code === 'DECRYPT_FAILED';

describe('envelopes (X25519 + HKDF-SHA256 + AES-256-GCM)', () => {
  test('seal then open round-trips any secret and AAD (property)', () => {
    const recipient = generateEncryptionKeyPair();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.uint8Array({ maxLength: 64 }), (secret, aad) => {
        const env = sealToPublicKey(recipient.publicKey, secret, aad);
        assert.deepEqual(openEnvelope(recipient.privateKey, env, aad), secret);
      }),
      { numRuns: 100 },
    );
  });

  test('opening fails on a tampered ciphertext, tag, iv, ephemeral key, AAD or a wrong key', () => {
    const r = generateEncryptionKeyPair();
    const aad = utf8('record-1');
    const env = sealToPublicKey(r.publicKey, generateDataKey(), aad);
    assert.throws(() => openEnvelope(r.privateKey, { ...env, ct: flipHex(env.ct) }, aad), isDecryptFailure);
    assert.throws(() => openEnvelope(r.privateKey, { ...env, tag: flipHex(env.tag) }, aad), isDecryptFailure);
    assert.throws(() => openEnvelope(r.privateKey, { ...env, iv: flipHex(env.iv) }, aad), isDecryptFailure);
    assert.throws(() => openEnvelope(r.privateKey, { ...env, epk: generateEncryptionKeyPair().publicKey }, aad), isDecryptFailure);
    assert.throws(() => openEnvelope(r.privateKey, env, utf8('record-2')), isDecryptFailure);
    assert.throws(() => openEnvelope(generateEncryptionKeyPair().privateKey, env, aad), isDecryptFailure);
    assert.throws(
      () => openEnvelope(r.privateKey, { ...env, v: 2 }, aad),
      (e: unknown) => e instanceof CryptoError && e.code === 'BAD_ENVELOPE',
    );
  });

  test('AEAD fails on tampering and wrong key', () => {
    const key = generateDataKey();
    const box = aeadEncrypt(key, utf8('clinical note'), utf8('rid'));
    assert.equal(new TextDecoder().decode(aeadDecrypt(key, box, utf8('rid'))), 'clinical note');
    const ct = Uint8Array.from(box.ct);
    ct[0] = (ct[0] as number) ^ 1;
    assert.throws(() => aeadDecrypt(key, { ...box, ct }, utf8('rid')), isDecryptFailure);
    assert.throws(() => aeadDecrypt(generateDataKey(), box, utf8('rid')), isDecryptFailure);
    assert.throws(() => aeadDecrypt(key, box, utf8('other')), isDecryptFailure);
  });

  test('an envelope sealed by one entry opens on the other, both ways', async () => {
    const r = generateEncryptionKeyPair();
    const secret = fromHex('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');
    const aad = utf8('rid-42');
    const fromNode = sealToPublicKey(r.publicKey, secret, aad);
    assert.deepEqual(await browser.openEnvelope(r.privateKey, fromNode, aad), secret);
    const fromBrowser = await browser.sealToPublicKey(r.publicKey, secret, aad);
    assert.deepEqual(openEnvelope(r.privateKey, fromBrowser, aad), secret);
    await assert.rejects(browser.openEnvelope(r.privateKey, { ...fromNode, tag: flipHex(fromNode.tag) }, aad), isDecryptFailure);
  });
});

describe('passphrase keystore (scrypt + AES-256-GCM)', () => {
  const N = 2 ** 10;

  test('round-trips and records the public parts in the clear', () => {
    const keys = generateKeyBundle();
    const file = encryptKeystore(keys, 'correct horse battery staple', { scryptN: N, label: 'Dr Ada' });
    assert.equal(file.format, 'medledger-keystore');
    assert.equal(file.version, 1);
    assert.equal(file.publicKey, keys.signing.publicKey);
    assert.ok(!JSON.stringify(file).includes(keys.signing.privateKey), 'no private key in the clear');
    assert.deepEqual(decryptKeystore(JSON.parse(JSON.stringify(file)), 'correct horse battery staple'), keys);
  });

  test('a wrong passphrase or an edited public field is refused', () => {
    const keys = generateKeyBundle();
    const file = encryptKeystore(keys, 'pass-1', { scryptN: N, label: 'x' });
    const isBad = (e: unknown) => e instanceof CryptoError && e.code === 'BAD_PASSPHRASE';
    assert.throws(() => decryptKeystore(file, 'pass-2'), isBad);
    assert.throws(() => decryptKeystore({ ...file, label: 'y' }, 'pass-1'), isBad);
    assert.throws(() => decryptKeystore({ ...file, ciphertext: flipHex(file.ciphertext) }, 'pass-1'), isBad);
    const other = generateKeyBundle();
    assert.throws(() => decryptKeystore({ ...file, publicKey: other.signing.publicKey }, 'pass-1'), isBad);
  });

  test('an unknown version or malformed file is refused with KEYSTORE_FORMAT', () => {
    const file = encryptKeystore(generateKeyBundle(), 'p', { scryptN: N });
    const isFormat = (e: unknown) => e instanceof CryptoError && e.code === 'KEYSTORE_FORMAT';
    assert.throws(() => decryptKeystore({ ...file, version: 2 }, 'p'), isFormat);
    assert.throws(() => decryptKeystore({ hello: 'world' }, 'p'), isFormat);
    assert.throws(() => decryptKeystore({ ...file, kdf: { ...file.kdf, N: 3 } }, 'p'), isFormat);
    assert.throws(() => encryptKeystore(generateKeyBundle(), ''), isFormat);
  });

  test('a keystore written by one entry is read by the other', async () => {
    const keys = generateKeyBundle();
    const fromNode = encryptKeystore(keys, 'pässwörd', { scryptN: N });
    assert.deepEqual(await browser.decryptKeystore(fromNode, 'pässwörd'), keys);
    const fromBrowser = await browser.encryptKeystore(keys, 'pässwörd', { scryptN: N });
    assert.deepEqual(decryptKeystore(fromBrowser, 'pässwörd'), keys);
    await assert.rejects(
      browser.decryptKeystore(fromNode, 'wrong'),
      (e: unknown) => e instanceof CryptoError && e.code === 'BAD_PASSPHRASE',
    );
  });
});
