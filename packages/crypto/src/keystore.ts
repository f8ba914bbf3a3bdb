// The passphrase keystore (DESIGN §3): a participant's private keys encrypted under a key
// derived from a passphrase with scrypt (RFC 7914), sealed with AES-256-GCM. For the CLI.
import { randomBytes, scryptSync } from 'node:crypto';
import { fromHex, toHex } from './bytes.js';
import { generateSigningKeyPair, publicKeyFromPrivate, type SigningKeyPair } from './ed25519.js';
import { aeadDecrypt, aeadEncrypt } from './envelope.js';
import { CryptoError } from './errors.js';
import { idFromPublicKey } from './hash.js';
import {
  assembleKeystore,
  type KeyDerivation,
  type KeystoreFile,
  keystoreAad,
  newKeystoreParts,
  openedKeystore,
  validateKeystore,
} from './keystore-format.js';
import { type EncryptionKeyPair, encryptionPublicKeyFromPrivate, generateEncryptionKeyPair } from './x25519.js';

export { DEFAULT_SCRYPT_N, type KeystoreFile, validateKeystore } from './keystore-format.js';

/** A participant's private keys (DESIGN §3): Ed25519 for signing, X25519 for envelopes. */
export interface KeyBundle {
  signing: SigningKeyPair;
  encryption: EncryptionKeyPair;
}

/** Generate a fresh signing and encryption key pair (RFC 8032, RFC 7748). Does not throw. */
export function generateKeyBundle(): KeyBundle {
  return { signing: generateSigningKeyPair(), encryption: generateEncryptionKeyPair() };
}

const derive: KeyDerivation = {
  signingPublic: publicKeyFromPrivate,
  encryptionPublic: encryptionPublicKeyFromPrivate,
  id: idFromPublicKey,
};

// Passphrases are NFKC-normalised so the same words typed on another keyboard or OS (which
// may compose accents differently) still open the file; the browser entry does the same.
function deriveKey(passphrase: string, kdf: KeystoreFile['kdf']): Uint8Array {
  // scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is exactly N = 2^15 and refuses it.
  const maxmem = 128 * kdf.N * kdf.r * 2 + 1024 * 1024;
  return new Uint8Array(scryptSync(passphrase.normalize('NFKC'), fromHex(kdf.salt), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem }));
}

/**
 * Encrypt a key bundle under `passphrase` into a version-1 keystore file (scrypt RFC 7914,
 * AES-256-GCM with the public fields as AAD). `scryptN` defaults to 2^15; tests may use
 * 2^10. Throws CryptoError('KEYSTORE_FORMAT') for an empty passphrase or an `scryptN` that
 * is not a power of two in [2^10, 2^20], and CryptoError('BAD_KEY') for mismatched key pairs.
 */
export function encryptKeystore(keys: KeyBundle, passphrase: string, opts: { scryptN?: number; label?: string } = {}): KeystoreFile {
  const { header, secret, aad } = newKeystoreParts(keys, passphrase, toHex(randomBytes(16)), opts, derive);
  const box = aeadEncrypt(deriveKey(passphrase, header.kdf), secret, aad);
  return assembleKeystore(header, { iv: toHex(box.iv), ct: toHex(box.ct), tag: toHex(box.tag) });
}

/**
 * Decrypt a keystore file written by either entry. Throws CryptoError('KEYSTORE_FORMAT')
 * for a malformed file or unknown version, and CryptoError('BAD_PASSPHRASE') for a wrong
 * passphrase or any edited field (the two cannot be told apart, by design of the AEAD).
 */
export function decryptKeystore(file: unknown, passphrase: string): KeyBundle {
  const f = validateKeystore(file);
  if (typeof passphrase !== 'string') throw new CryptoError('BAD_PASSPHRASE', 'passphrase must be a string');
  let plaintext: Uint8Array;
  try {
    const box = { iv: fromHex(f.cipher.iv), ct: fromHex(f.ciphertext), tag: fromHex(f.tag) };
    plaintext = aeadDecrypt(deriveKey(passphrase, f.kdf), box, keystoreAad(f));
  } catch {
    throw new CryptoError('BAD_PASSPHRASE', 'wrong passphrase, or the keystore file was altered');
  }
  return openedKeystore(f, plaintext, derive);
}
