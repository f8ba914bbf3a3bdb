// The passphrase keystore for the browser entry: same version-1 file as keystore.ts, with
// scrypt from @noble/hashes. Async so a 2^15 scrypt does not freeze the page while it runs.
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { fromHex, randomBytes, toHex, utf8 } from './browser-bytes.js';
import { generateSigningKeyPair, publicKeyFromPrivate, type SigningKeyPair } from './browser-ed25519.js';
import {
  aeadDecrypt,
  aeadEncrypt,
  type EncryptionKeyPair,
  encryptionPublicKeyFromPrivate,
  generateEncryptionKeyPair,
} from './browser-envelope.js';
import { idFromPublicKey } from './browser-hash.js';
import { CryptoError } from './errors.js';
import {
  assembleKeystore,
  type KeyDerivation,
  type KeystoreFile,
  keystoreAad,
  newKeystoreParts,
  openedKeystore,
  validateKeystore,
} from './keystore-format.js';

/** A participant's private keys (DESIGN §3): Ed25519 for signing, X25519 for envelopes. */
export interface KeyBundle {
  signing: SigningKeyPair;
  encryption: EncryptionKeyPair;
}

/** Generate a fresh signing and encryption key pair (RFC 8032, RFC 7748). Throws Error without WebCrypto. */
export function generateKeyBundle(): KeyBundle {
  return { signing: generateSigningKeyPair(), encryption: generateEncryptionKeyPair() };
}

const derive: KeyDerivation = {
  signingPublic: publicKeyFromPrivate,
  encryptionPublic: encryptionPublicKeyFromPrivate,
  id: idFromPublicKey,
};

// NFKC, as on the Node entry, so the same typed passphrase opens the file everywhere.
function deriveKey(passphrase: string, kdf: KeystoreFile['kdf']): Promise<Uint8Array> {
  return scryptAsync(utf8(passphrase.normalize('NFKC')), fromHex(kdf.salt), { N: kdf.N, r: kdf.r, p: kdf.p, dkLen: 32 });
}

/**
 * Encrypt a key bundle under `passphrase` into a version-1 keystore file (scrypt RFC 7914,
 * AES-256-GCM with the public fields as AAD) that the Node entry also reads. Rejects with
 * CryptoError('KEYSTORE_FORMAT') for an empty passphrase or an `scryptN` that is not a power
 * of two in [2^10, 2^20], and CryptoError('BAD_KEY') for mismatched key pairs.
 */
export async function encryptKeystore(
  keys: KeyBundle,
  passphrase: string,
  opts: { scryptN?: number; label?: string } = {},
): Promise<KeystoreFile> {
  const { header, secret, aad } = newKeystoreParts(keys, passphrase, toHex(randomBytes(16)), opts, derive);
  const box = aeadEncrypt(await deriveKey(passphrase, header.kdf), secret, aad);
  return assembleKeystore(header, { iv: toHex(box.iv), ct: toHex(box.ct), tag: toHex(box.tag) });
}

/**
 * Decrypt a keystore file written by either entry. Rejects with CryptoError('KEYSTORE_FORMAT')
 * for a malformed file or unknown version, and CryptoError('BAD_PASSPHRASE') for a wrong
 * passphrase or any edited field.
 */
export async function decryptKeystore(file: unknown, passphrase: string): Promise<KeyBundle> {
  const f = validateKeystore(file);
  if (typeof passphrase !== 'string') throw new CryptoError('BAD_PASSPHRASE', 'passphrase must be a string');
  let plaintext: Uint8Array;
  try {
    const box = { iv: fromHex(f.cipher.iv), ct: fromHex(f.ciphertext), tag: fromHex(f.tag) };
    plaintext = aeadDecrypt(await deriveKey(passphrase, f.kdf), box, keystoreAad(f));
  } catch {
    throw new CryptoError('BAD_PASSPHRASE', 'wrong passphrase, or the keystore file was altered');
  }
  return openedKeystore(f, plaintext, derive);
}
