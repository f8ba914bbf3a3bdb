// Passphrase keystores on both entries: round trips, wrong passphrase, every edited public
// field, unknown versions and malformed files, bad options, and Node↔browser interop.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as browser from './browser.js';
import { CryptoError, type CryptoErrorCode } from './errors.js';
import { decryptKeystore, encryptKeystore, generateKeyBundle, type KeystoreFile } from './keystore.js';

// 2^10 keeps the suite fast; the default is 2^15.
const N = 2 ** 10;
const hasCode = (code: CryptoErrorCode) => (err: unknown) => err instanceof CryptoError && err.code === code;
const flipHex = (hex: string, at = 0) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);

// Both entries behind one async signature, so each case runs on each.
const ENTRIES = [
  {
    name: 'Node',
    encrypt: async (...a: Parameters<typeof encryptKeystore>) => encryptKeystore(...a),
    decrypt: async (...a: Parameters<typeof decryptKeystore>) => decryptKeystore(...a),
  },
  { name: 'browser', encrypt: browser.encryptKeystore, decrypt: browser.decryptKeystore },
];

describe('passphrase keystore (scrypt + AES-256-GCM)', () => {
  for (const e of ENTRIES) {
    test(`${e.name} entry: round-trips, and keeps only public parts in the clear`, async () => {
      const keys = generateKeyBundle();
      const file = await e.encrypt(keys, 'correct horse battery staple', { scryptN: N, label: 'Dr Ada' });
      assert.equal(file.format, 'medledger-keystore');
      assert.equal(file.version, 1);
      assert.equal(file.id, browser.idFromPublicKey(keys.signing.publicKey));
      assert.equal(file.publicKey, keys.signing.publicKey);
      assert.equal(file.encryptionKey, keys.encryption.publicKey);
      assert.deepEqual(file.kdf, { name: 'scrypt', N, r: 8, p: 1, salt: file.kdf.salt });
      const text = JSON.stringify(file);
      assert.ok(!text.includes(keys.signing.privateKey) && !text.includes(keys.encryption.privateKey), 'no private key in the clear');
      assert.deepEqual(await e.decrypt(JSON.parse(text), 'correct horse battery staple'), keys);
    });

    test(`${e.name} entry: a wrong passphrase is refused with BAD_PASSPHRASE`, async () => {
      const file = await e.encrypt(generateKeyBundle(), 'pass-1', { scryptN: N });
      await assert.rejects(e.decrypt(file, 'pass-2'), hasCode('BAD_PASSPHRASE'));
      await assert.rejects(e.decrypt(file, 'pass-1 '), hasCode('BAD_PASSPHRASE'));
      await assert.rejects(e.decrypt(file, ''), hasCode('BAD_PASSPHRASE'));
    });

    test(`${e.name} entry: editing any public field or the ciphertext is detected`, async () => {
      const file = await e.encrypt(generateKeyBundle(), 'pass-1', { scryptN: N, label: 'x' });
      const other = generateKeyBundle();
      const edits: [string, KeystoreFile][] = [
        ['label', { ...file, label: 'y' }],
        ['label removed', { ...file, label: undefined }],
        ['publicKey', { ...file, publicKey: other.signing.publicKey }],
        ['encryptionKey', { ...file, encryptionKey: other.encryption.publicKey }],
        ['id', { ...file, id: browser.idFromPublicKey(other.signing.publicKey) }],
        ['kdf.N', { ...file, kdf: { ...file.kdf, N: 2 * N } }],
        ['kdf.salt', { ...file, kdf: { ...file.kdf, salt: flipHex(file.kdf.salt) } }],
        ['cipher.iv', { ...file, cipher: { ...file.cipher, iv: flipHex(file.cipher.iv) } }],
        ['ciphertext', { ...file, ciphertext: flipHex(file.ciphertext) }],
        ['tag', { ...file, tag: flipHex(file.tag) }],
      ];
      for (const [field, edited] of edits) await assert.rejects(e.decrypt(edited, 'pass-1'), hasCode('BAD_PASSPHRASE'), field);
    });

    test(`${e.name} entry: an unknown version or malformed file is refused with KEYSTORE_FORMAT naming the field`, async () => {
      const file = await e.encrypt(generateKeyBundle(), 'p', { scryptN: N });
      const cases: [unknown, string][] = [
        [{ ...file, version: 2 }, 'keystore.version'],
        [{ ...file, format: 'other' }, 'keystore.format'],
        [{ hello: 'world' }, 'keystore.format'],
        [[], 'JSON object'],
        [null, 'JSON object'],
        [{ ...file, publicKey: 'zz' }, 'keystore.publicKey'],
        [{ ...file, kdf: { ...file.kdf, N: 3 } }, 'keystore.kdf.N'],
        [{ ...file, kdf: { ...file.kdf, N: 2 ** 21 } }, 'keystore.kdf.N'],
        [{ ...file, kdf: { ...file.kdf, name: 'pbkdf2' } }, 'keystore.kdf.name'],
        [{ ...file, kdf: { ...file.kdf, r: 1 } }, 'keystore.kdf.r'],
        [{ ...file, cipher: { name: 'aes-128-cbc', iv: file.cipher.iv } }, 'keystore.cipher.name'],
        [{ ...file, tag: file.tag.slice(2) }, 'keystore.tag'],
      ];
      for (const [bad, field] of cases) {
        await assert.rejects(
          e.decrypt(bad, 'p'),
          (err: unknown) => hasCode('KEYSTORE_FORMAT')(err) && (err as Error).message.includes(field),
          field,
        );
      }
    });

    test(`${e.name} entry: options and keys that would make an unreadable file are refused`, async () => {
      const keys = generateKeyBundle();
      await assert.rejects(e.encrypt(keys, '', { scryptN: N }), hasCode('KEYSTORE_FORMAT'));
      await assert.rejects(e.encrypt(keys, 'p', { scryptN: 1000 }), hasCode('KEYSTORE_FORMAT'));
      await assert.rejects(e.encrypt(keys, 'p', { scryptN: 2 ** 9 }), hasCode('KEYSTORE_FORMAT'));
      const mismatched = { signing: keys.signing, encryption: { ...keys.encryption, publicKey: generateKeyBundle().encryption.publicKey } };
      await assert.rejects(e.encrypt(mismatched, 'p', { scryptN: N }), hasCode('BAD_KEY'));
      await assert.rejects(e.encrypt({ ...keys, signing: { ...keys.signing, privateKey: 'zz' } }, 'p', { scryptN: N }), hasCode('BAD_KEY'));
    });
  }

  test('the default scrypt cost is 2^15', async () => {
    const file = encryptKeystore(generateKeyBundle(), 'p');
    assert.equal(file.kdf.N, 2 ** 15);
    assert.equal(decryptKeystore(file, 'p').signing.publicKey, file.publicKey);
  });

  test('a keystore written by one entry is read by the other, passphrases compared after NFKC', async () => {
    const keys = browser.generateKeyBundle();
    // 'ä' precomposed (U+00E4) when written, decomposed (a + U+0308) when read back.
    const composed = 'p\u00e4sswörd';
    const decomposed = 'pa\u0308sswörd';
    const fromNode = encryptKeystore(keys, composed, { scryptN: N, label: 'Zoë' });
    assert.deepEqual(await browser.decryptKeystore(fromNode, decomposed), keys);
    const fromBrowser = await browser.encryptKeystore(keys, decomposed, { scryptN: N, label: 'Zoë' });
    assert.deepEqual(decryptKeystore(fromBrowser, composed), keys);
    assert.deepEqual(Object.keys(fromBrowser), Object.keys(fromNode), 'same fields in the same order');
  });
});
