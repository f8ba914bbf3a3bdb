// The passphrase keystore (DESIGN §3): a participant's private keys encrypted under a key
// derived from a passphrase with scrypt (RFC 7914), sealed with AES-256-GCM.
import { randomBytes, scryptSync } from 'node:crypto';
import { fromHex, toHex } from './bytes.js';
import { publicKeyFromPrivate } from './ed25519.js';
import { aeadDecrypt, aeadEncrypt } from './envelope.js';
import { CryptoError } from './errors.js';
import { assembleKeystore, type KeystoreFile, keystoreAad, newKeystoreParts, parseKeystoreSecret, validateKeystore } from './formats.js';
import { idFromPublicKey } from './hash.js';
import type { KeyBundle } from './keys.js';
import { encryptionPublicKeyFromPrivate } from './x25519.js';

export { type KeystoreFile, validateKeystore } from './formats.js';

function deriveKey(passphrase: string, kdf: KeystoreFile['kdf']): Uint8Array {
  const maxmem = 256 * kdf.N * kdf.r + 1024 * 1024;
  return new Uint8Array(scryptSync(passphrase.normalize('NFKC'), fromHex(kdf.salt), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem }));
}

/**
 * Encrypt a key bundle under `passphrase`. `scryptN` defaults to 2^15 (about 0.1 s here);
 * tests may lower it. Throws CryptoError('KEYSTORE_FORMAT') for an empty passphrase.
 */
export function encryptKeystore(keys: KeyBundle, passphrase: string, opts: { scryptN?: number; label?: string } = {}): KeystoreFile {
  const { header, secret, aad } = newKeystoreParts(keys, idFromPublicKey(keys.signing.publicKey), passphrase, toHex(randomBytes(16)), opts);
  const box = aeadEncrypt(deriveKey(passphrase, header.kdf), secret, aad);
  return assembleKeystore(header, { iv: toHex(box.iv), ct: toHex(box.ct), tag: toHex(box.tag) });
}

/**
 * Decrypt a keystore file. Throws CryptoError('BAD_PASSPHRASE') for a wrong passphrase
 * or an edited file, CryptoError('KEYSTORE_FORMAT') for a malformed or unknown version.
 */
export function decryptKeystore(file: unknown, passphrase: string): KeyBundle {
  const f = validateKeystore(file);
  let plain: Uint8Array;
  try {
    plain = aeadDecrypt(
      deriveKey(passphrase, f.kdf),
      { iv: fromHex(f.cipher.iv), ct: fromHex(f.ciphertext), tag: fromHex(f.tag) },
      keystoreAad(f),
    );
  } catch {
    throw new CryptoError('BAD_PASSPHRASE', 'wrong passphrase, or the keystore file was altered');
  }
  const secret = parseKeystoreSecret(new TextDecoder().decode(plain));
  const keys: KeyBundle = {
    signing: { privateKey: secret.signing, publicKey: publicKeyFromPrivate(secret.signing) },
    encryption: { privateKey: secret.encryption, publicKey: encryptionPublicKeyFromPrivate(secret.encryption) },
  };
  if (keys.signing.publicKey !== f.publicKey || keys.encryption.publicKey !== f.encryptionKey) {
    throw new CryptoError('KEYSTORE_FORMAT', 'keystore public keys do not match its private keys');
  }
  return keys;
}
